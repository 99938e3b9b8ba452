import {
  DAY_MS,
  MINUTE_MS,
  startOfLocalDay,
  startOfLocalDayAfter,
  localDate,
} from '@park/domain-primitives';
import { DAILY_INTERVAL_MINUTES } from '../registry/meter-registration';

/**
 * The interval starts of one meter. Sub-daily intervals divide the hour and are aligned in UTC
 * (an hour boundary is one in every zone that matters here); daily intervals start at the park's
 * local midnight, so a day is not always 24 h where the zone has daylight saving.
 */
export interface IntervalGrid {
  readonly minutes: number;
  isAligned(epochMs: number): boolean;
  /** The interval start at or before the instant. */
  floor(epochMs: number): number;
  next(start: number): number;
  previous(start: number): number;
  /** The interval start `count` intervals before an aligned start. */
  back(start: number, count: number): number;
  /** How many interval starts lie in [from, to) for aligned from and to. */
  count(from: number, to: number): number;
  /** Human text of the alignment rule, for rejection reasons. */
  readonly alignment: string;
}

export function intervalGrid(meter: { intervalMinutes: number; timeZone: string }): IntervalGrid {
  return meter.intervalMinutes === DAILY_INTERVAL_MINUTES
    ? dailyGrid(meter.timeZone)
    : fixedGrid(meter.intervalMinutes);
}

function fixedGrid(minutes: number): IntervalGrid {
  const length = minutes * MINUTE_MS;
  const floor = (t: number) => t - (((t % length) + length) % length);
  return {
    minutes,
    isAligned: (t) => floor(t) === t,
    floor,
    next: (t) => t + length,
    previous: (t) => t - length,
    back: (t, count) => t - count * length,
    count: (from, to) => Math.max(0, Math.round((to - from) / length)),
    alignment: `a multiple of ${minutes} minutes in UTC`,
  };
}

function dailyGrid(timeZone: string): IntervalGrid {
  return {
    minutes: DAILY_INTERVAL_MINUTES,
    isAligned: (t) => startOfLocalDay(t, timeZone) === t,
    floor: (t) => startOfLocalDay(t, timeZone),
    next: (t) => startOfLocalDayAfter(t, 1, timeZone),
    previous: (t) => startOfLocalDayAfter(t, -1, timeZone),
    back: (t, count) => startOfLocalDayAfter(t, -count, timeZone),
    count: (from, to) => {
      if (to <= from) return 0;
      // Calendar days between two local midnights: whole UTC days are off by at most an hour.
      const [fromDay, toDay] = [localDate(from, timeZone), localDate(to, timeZone)];
      return Math.round(
        (Date.parse(`${toDay}T00:00:00Z`) - Date.parse(`${fromDay}T00:00:00Z`)) / DAY_MS,
      );
    },
    alignment: `local midnight in ${timeZone}`,
  };
}
