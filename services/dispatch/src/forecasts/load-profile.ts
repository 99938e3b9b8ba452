import {
  MINUTE_MS,
  canonicalTimeZone,
  localDateTime,
  parseInstant,
  zonedInstant,
} from '@park/domain-primitives';
import { ValidationError, type FieldViolation } from '@park/service-kit/errors';

/**
 * Built-in load forecast when no integrator submitted one (DESIGN.md, Dispatch: forecasts): the
 * same weekday's metered profile over recent weeks.
 *
 * For interval i of the target day, starting at t_i = targetDayStart + i x intervalMinutes, the
 * forecast is the mean of the metered energy of the intervals that started at the same local
 * wall-clock time and weekday k weeks earlier (k = 1, 2, ...: the same local date minus 7k days,
 * through the park's time zone, so a daylight-saving change in between keeps the local time of
 * day), converted to power: kW = kWh x 60 / intervalMinutes.
 *
 * Weeks: a week k contributes when the history holds at least one of its intervals. The forecast
 * uses the `weeks` (default 4) most recent contributing weeks among k = 1 .. maxLookbackWeeks
 * (default `weeks`: "the last 4 weeks", a week without data is skipped, not replaced; a larger
 * look-back lets an older week stand in for it). Within the contributing weeks, an interval is the
 * mean over the weeks that have it; an interval none has is 0 kW and listed in
 * `missingIntervals`, and with no contributing week at all every interval is (weeksUsed = 0): the
 * plan should say so rather than trust it.
 *
 * History entries are matched by their start instant to the looked-up instants, so they must be of
 * the same interval length; entries starting elsewhere are ignored.
 */

export interface MeteredInterval {
  /** ISO 8601 instant with an offset. */
  intervalStart: string;
  /** Metered energy of the interval, kWh. */
  kwh: number;
}

export interface WeekdayLoadInput {
  /** An enterprise's or the park's metered interval energy. */
  history: readonly MeteredInterval[];
  /** Start of the first forecast interval, normally local midnight of the target day. */
  targetDayStart: string;
  /** IANA zone of the park, e.g. "Asia/Shanghai". */
  timeZone: string;
  intervals: number;
  /** Default 15. */
  intervalMinutes?: number;
  /** How many contributing weeks to average; default 4. */
  weeks?: number;
  /** How far back to look for them; default `weeks`. */
  maxLookbackWeeks?: number;
}

export interface WeekdayLoadForecast {
  /** Mean power per interval, kW. */
  kw: number[];
  /** How many weeks contributed. */
  weeksUsed: number;
  /** Which weeks contributed: 1 is the week before the target day. */
  weeksBack: number[];
  /** Indexes of intervals that no contributing week had (forecast 0 kW). */
  missingIntervals: number[];
}

const WEEK_DAYS = 7;

export function weekdayLoadForecast(input: WeekdayLoadInput): WeekdayLoadForecast {
  const violations: FieldViolation[] = [];
  const bad = (field: string, description: string): void => {
    violations.push({ field, description });
  };
  const start = parseInstant(input?.targetDayStart);
  if (start === undefined) bad('target_day_start', 'must be an ISO 8601 instant with an offset');
  const timeZone = canonicalTimeZone(input?.timeZone);
  if (timeZone === undefined) bad('time_zone', 'must be an IANA time zone such as Asia/Shanghai');
  const intervalMinutes = input?.intervalMinutes ?? 15;
  const weeks = input?.weeks ?? 4;
  const maxLookbackWeeks = input?.maxLookbackWeeks ?? weeks;
  if (!wholeAtLeast(input?.intervals, 0)) bad('intervals', 'must be a whole number >= 0');
  if (!wholeAtLeast(intervalMinutes, 1)) {
    bad('interval_minutes', 'must be a whole number of minutes >= 1');
  }
  if (!wholeAtLeast(weeks, 1)) bad('weeks', 'must be a whole number >= 1');
  if (
    input?.maxLookbackWeeks !== undefined &&
    (!wholeAtLeast(maxLookbackWeeks, 1) || maxLookbackWeeks < weeks)
  ) {
    bad('max_lookback_weeks', 'must be a whole number of weeks, at least `weeks`');
  }

  const metered = new Map<number, number>();
  if (!Array.isArray(input?.history)) {
    bad('history', 'must be a list of metered intervals');
  } else {
    input.history.forEach((entry, index) => {
      const at = `history[${index}]`;
      const instant = parseInstant(entry?.intervalStart);
      const kwh = entry?.kwh;
      if (instant === undefined) {
        bad(`${at}.interval_start`, 'must be an ISO 8601 instant with an offset');
      } else if (metered.has(instant)) {
        bad(`${at}.interval_start`, 'is listed twice');
      }
      if (typeof kwh !== 'number' || !Number.isFinite(kwh) || kwh < 0) {
        bad(`${at}.kwh`, 'must be a number >= 0');
      } else if (instant !== undefined) {
        metered.set(instant, kwh);
      }
    });
  }
  if (violations.length > 0) throw new ValidationError(violations);

  const zone = timeZone as string;
  const wallClocks = Array.from({ length: input.intervals }, (_, i) =>
    localDateTime((start as number) + i * intervalMinutes * MINUTE_MS, zone),
  );
  const sums = new Array<number>(input.intervals).fill(0);
  const counts = new Array<number>(input.intervals).fill(0);
  const weeksBack: number[] = [];
  for (let k = 1; k <= maxLookbackWeeks && weeksBack.length < weeks; k++) {
    const readings = wallClocks.map((local) =>
      metered.get(zonedInstant({ ...local, day: local.day - WEEK_DAYS * k }, zone)),
    );
    if (readings.every((kwh) => kwh === undefined)) continue;
    weeksBack.push(k);
    readings.forEach((kwh, i) => {
      if (kwh === undefined) return;
      sums[i] = (sums[i] as number) + kwh;
      counts[i] = (counts[i] as number) + 1;
    });
  }

  const kwPerKwh = 60 / intervalMinutes;
  const missingIntervals: number[] = [];
  const kw = sums.map((total, i) => {
    const count = counts[i] as number;
    if (count === 0) {
      missingIntervals.push(i);
      return 0;
    }
    return (total / count) * kwPerKwh;
  });
  return { kw, weeksUsed: weeksBack.length, weeksBack, missingIntervals };
}

function wholeAtLeast(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}
