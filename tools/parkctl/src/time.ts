// --from and --to: an RFC 3339 instant, or a park-local date (YYYY-MM-DD) or month (YYYY-MM)
// meaning its first midnight in the park's time zone. Ranges are half-open: --to is excluded.
import { canonicalTimeZone, parseInstant, zonedInstant } from '@park/domain-primitives';
import { UsageError } from './errors';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

export function parseTimeZone(text: string): string {
  const zone = canonicalTimeZone(text);
  if (!zone)
    throw new UsageError(`--tz must be an IANA time zone such as Asia/Shanghai (not "${text}")`);
  return zone;
}

/** The instant a --from/--to value names. */
export function parseBound(text: string, option: string, timeZone: string): Date {
  const instant = parseInstant(text);
  if (instant !== undefined) return new Date(instant);
  const date = DATE.exec(text);
  if (date && validDate(Number(date[1]), Number(date[2]), Number(date[3]))) {
    return new Date(
      zonedInstant(
        { year: Number(date[1]), month: Number(date[2]), day: Number(date[3]) },
        timeZone,
      ),
    );
  }
  const month = MONTH.exec(text);
  if (month && Number(month[2]) >= 1 && Number(month[2]) <= 12) {
    return new Date(
      zonedInstant({ year: Number(month[1]), month: Number(month[2]), day: 1 }, timeZone),
    );
  }
  throw new UsageError(
    `${option} must be an RFC 3339 instant (2025-06-01T00:00:00Z), a date (2025-06-01) or a month (2025-06), not "${text}"`,
  );
}

/** [from, to) from the two options; to must lie after from. */
export function parseRange(
  from: string | undefined,
  to: string | undefined,
  timeZone: string,
): { start: Date; end: Date } {
  if (!from) throw new UsageError('--from is required');
  if (!to) throw new UsageError('--to is required');
  const start = parseBound(from, '--from', timeZone);
  const end = parseBound(to, '--to', timeZone);
  if (end.getTime() <= start.getTime()) {
    throw new UsageError(`--to (${to}) must lie after --from (${from}); --to is excluded`);
  }
  return { start, end };
}

export function parseDay(text: string, what = 'day'): string {
  const date = DATE.exec(text);
  if (!date || !validDate(Number(date[1]), Number(date[2]), Number(date[3]))) {
    throw new UsageError(`${what} must be a date YYYY-MM-DD (not "${text}")`);
  }
  return text;
}

export function parseMonth(text: string, what: string): string {
  const month = MONTH.exec(text);
  if (!month || Number(month[2]) < 1 || Number(month[2]) > 12) {
    throw new UsageError(`${what} must be a month YYYY-MM (not "${text}")`);
  }
  return text;
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
