import { ratio } from './stats';
import type { BenchResult } from './types';

const grouped = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const BY_DIGITS = [0, 1, 2, 3].map(grouped);

/**
 * About four significant digits, with thousands separators: 123,457 · 1,234 · 123.5 · 12.35 ·
 * 1.235 · 0.0123. `n/a` for a missing or non-finite value.
 */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude === 0) return BY_DIGITS[0]!.format(value);
  if (magnitude >= 100) return BY_DIGITS[1]!.format(value);
  if (magnitude >= 10) return BY_DIGITS[2]!.format(value);
  if (magnitude >= 1) return BY_DIGITS[3]!.format(value);
  return String(Number(value.toPrecision(3)));
}

/** A count: a whole number with thousands separators (1,000 · 50). */
export function formatCount(value: number): string {
  return BY_DIGITS[0]!.format(Math.round(value));
}

/** A ratio with two decimals (three significant digits below 0.1), `n/a` when undefined. */
export function formatRatio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value !== 0 && Math.abs(value) < 0.1) return String(Number(value.toPrecision(3)));
  return BY_DIGITS[2]!.format(value);
}

export type Align = 'left' | 'right';

/** A plain-text table: a header, a rule, then the rows; columns separated by ` | `. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return align[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join(' | ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export interface NamedResult {
  benchmark: string;
  result: BenchResult;
}

export const RESULT_HEADERS = ['benchmark', 'metric', 'subject', 'baseline', 'ratio', 'unit'];

/**
 * The closing table: one row per result. The metric carries ↑ when higher is better and ↓ when
 * lower is better; ratio is subject / baseline.
 */
export function formatResults(results: readonly NamedResult[]): string {
  const rows = results.map(({ benchmark, result }) => [
    benchmark,
    `${result.metric} ${result.higherIsBetter ? '↑' : '↓'}`,
    formatNumber(result.subject),
    formatNumber(result.baseline),
    formatRatio(ratio(result.subject, result.baseline)),
    result.unit,
  ]);
  return formatTable(RESULT_HEADERS, rows, ['left', 'left', 'right', 'right', 'right', 'left']);
}

/** Notes of the results, one line each, under the table. */
export function formatNotes(results: readonly NamedResult[]): string[] {
  return results
    .filter(({ result }) => result.notes)
    .map(({ benchmark, result }) => `${benchmark} ${result.metric}: ${result.notes}`);
}

/** 12.3 s, 850 ms, 2 min 05 s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
