import { instantText, parseInstant } from '@park/domain-primitives';

/**
 * Which intervals have a value, as merged [start, end) ranges back to the late-data window. It
 * costs one pair per hole, so long outages can be found and closed across 90 days without
 * keeping 8,640 intervals per meter in state.
 */
export type Coverage = [string, string][];

type Range = [number, number];

export function coverageWith(coverage: Coverage, added: Range[]): Coverage {
  if (added.length === 0) return coverage;
  const ranges: Range[] = [...coverage.map(toMs), ...added].sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged.map(([start, end]) => [instantText(start), instantText(end)]);
}

/** Ranges that end before `fromMs` are forgotten. */
export function coverageSince(coverage: Coverage, fromMs: number): Coverage {
  return coverage.filter(([, end]) => parseInstant(end)! > fromMs);
}

/** The holes between covered ranges: intervals without a value that have data on both sides. */
export function coverageHoles(coverage: Coverage): Range[] {
  const holes: Range[] = [];
  for (let i = 1; i < coverage.length; i++) {
    holes.push([parseInstant(coverage[i - 1]![1])!, parseInstant(coverage[i]![0])!]);
  }
  return holes;
}

export function isCovered(coverage: Coverage, startMs: number, endMs: number): boolean {
  return coverage.some(
    ([start, end]) => parseInstant(start)! <= startMs && endMs <= parseInstant(end)!,
  );
}

function toMs([start, end]: [string, string]): Range {
  return [parseInstant(start)!, parseInstant(end)!];
}
