import { ValidationError } from '@park/service-kit/errors';
import { weekdayLoadForecast, type MeteredInterval } from './index';

// Target: Monday 2025-06-16 in Asia/Shanghai (UTC+8, no daylight saving). Local midnight is
// 16:00 UTC on Sunday 2025-06-15, and so is every Monday's midnight before it.
const TARGET = '2025-06-15T16:00:00Z';
const ZONE = 'Asia/Shanghai';
const MONDAY_MIDNIGHT_UTC: Record<number, string> = {
  1: '2025-06-08T16:00:00Z', // Monday 2025-06-09 00:00 local
  2: '2025-06-01T16:00:00Z', // Monday 2025-06-02
  3: '2025-05-25T16:00:00Z', // Monday 2025-05-26
  4: '2025-05-18T16:00:00Z', // Monday 2025-05-19
  5: '2025-05-11T16:00:00Z', // Monday 2025-05-12
};

// kWh of the first four 15-min intervals (00:00, 00:15, 00:30, 00:45 local) k weeks back.
const WEEKS: Record<number, number[]> = {
  1: [10, 20, 5, 0],
  2: [12, 20, 7, 4],
  3: [14, 20, 9, 0],
  4: [16, 20, 11, 4],
  5: [100, 100, 100, 100],
};

function week(k: number, values = WEEKS[k] as number[]): MeteredInterval[] {
  const midnight = Date.parse(MONDAY_MIDNIGHT_UTC[k] as string);
  return values.map((kwh, i) => ({
    intervalStart: new Date(midnight + i * 15 * 60_000).toISOString(),
    kwh,
  }));
}

// Readings that must not count: the local Sunday's last interval (23:45 local = 15:45 UTC, the
// same UTC date as a Monday midnight), a Tuesday, and the Sunday right before the target.
const DECOYS: MeteredInterval[] = [
  { intervalStart: '2025-06-08T15:45:00Z', kwh: 999 },
  { intervalStart: '2025-06-09T16:00:00Z', kwh: 999 },
  { intervalStart: '2025-06-15T15:45:00Z', kwh: 999 },
];
// Monday 23:45 local one week back (15:45 UTC on the Monday): the day's last interval, 8 kWh.
const LATE_MONDAY: MeteredInterval = { intervalStart: '2025-06-09T15:45:00Z', kwh: 8 };

function forecast(history: MeteredInterval[], extra: { maxLookbackWeeks?: number } = {}) {
  return weekdayLoadForecast({
    history,
    targetDayStart: TARGET,
    timeZone: ZONE,
    intervals: 96,
    intervalMinutes: 15,
    ...extra,
  });
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

describe('weekdayLoadForecast', () => {
  it('averages the same local weekday and time over the last 4 weeks', () => {
    const result = forecast([
      ...week(1),
      ...week(2),
      ...week(3),
      ...week(4),
      ...week(5),
      ...DECOYS,
      LATE_MONDAY,
    ]);
    // 00:00: (10 + 12 + 14 + 16) / 4 = 13 kWh per 15 min -> 13 x 4 = 52 kW.
    // 00:15: (20 + 20 + 20 + 20) / 4 = 20 kWh -> 80 kW.
    // 00:30: (5 + 7 + 9 + 11) / 4 = 8 kWh -> 32 kW.
    // 00:45: (0 + 4 + 0 + 4) / 4 = 2 kWh -> 8 kW.
    // 23:45 (interval 95): only week 1 has it, 8 kWh -> 32 kW. Week 5 (100s) is beyond 4 weeks.
    expect(result.kw.slice(0, 4)).toEqual([52, 80, 32, 8]);
    expect(result.kw[95]).toBe(32);
    expect(result.weeksUsed).toBe(4);
    expect(result.weeksBack).toEqual([1, 2, 3, 4]);
    // Nothing metered between 01:00 and 23:45 in any week.
    expect(result.missingIntervals).toEqual(range(4, 95));
    expect(result.kw.slice(4, 95).every((kw) => kw === 0)).toBe(true);
  });

  it('takes local midnight as the day boundary: 16:00 UTC, not 00:00 UTC', () => {
    // Only the decoys: Sunday 23:45 local is 15:45 UTC, just before the Monday starts at 16:00 UTC.
    const result = forecast(DECOYS);
    expect(result.weeksUsed).toBe(0);
    expect(result.kw.every((kw) => kw === 0)).toBe(true);
    expect(result.missingIntervals).toHaveLength(96);
  });

  it('skips a week without data', () => {
    const result = forecast([...week(1), ...week(3), ...week(4), ...week(5)]);
    // Week 2 is missing; weeks 1, 3, 4 remain (week 5 is still beyond the 4-week look-back).
    // 00:00: (10 + 14 + 16) / 3 = 13.333... kWh -> 53.333... kW.
    // 00:15: 20 -> 80 kW. 00:30: (5 + 9 + 11) / 3 = 8.333... -> 33.333... kW.
    // 00:45: (0 + 0 + 4) / 3 = 1.333... -> 5.333... kW.
    expect(result.weeksUsed).toBe(3);
    expect(result.weeksBack).toEqual([1, 3, 4]);
    expect(result.kw[0]).toBeCloseTo(160 / 3, 9);
    expect(result.kw[1]).toBeCloseTo(80, 9);
    expect(result.kw[2]).toBeCloseTo(100 / 3, 9);
    expect(result.kw[3]).toBeCloseTo(16 / 3, 9);
  });

  it('lets an older week stand in for a missing one with a longer look-back', () => {
    const result = forecast([...week(1), ...week(3), ...week(4), ...week(5)], {
      maxLookbackWeeks: 5,
    });
    // Weeks 1, 3, 4, 5. 00:00: (10 + 14 + 16 + 100) / 4 = 35 kWh -> 140 kW.
    // 00:15: (20 + 20 + 20 + 100) / 4 = 40 -> 160 kW.
    expect(result.weeksBack).toEqual([1, 3, 4, 5]);
    expect(result.kw.slice(0, 2)).toEqual([140, 160]);
  });

  it('averages an interval over the weeks that have it', () => {
    // Week 1 lacks 00:45: (4 + 0 + 4) / 3 = 2.666... kWh -> 10.666... kW; the week still counts.
    const result = forecast([...week(1, [10, 20, 5]), ...week(2), ...week(3), ...week(4)]);
    expect(result.weeksUsed).toBe(4);
    expect(result.kw[3]).toBeCloseTo(32 / 3, 9);
    expect(result.kw[0]).toBe(52);
  });

  it('converts kWh to kW by the interval length', () => {
    // 30-min intervals: 10 kWh in half an hour is 20 kW.
    const result = weekdayLoadForecast({
      history: [{ intervalStart: '2025-06-08T16:30:00Z', kwh: 10 }],
      targetDayStart: TARGET,
      timeZone: ZONE,
      intervals: 2,
      intervalMinutes: 30,
    });
    expect(result).toEqual({ kw: [0, 20], weeksUsed: 1, weeksBack: [1], missingIntervals: [0] });
  });

  it('keeps the local time of day across a daylight-saving change', () => {
    // Europe/Berlin went to summer time on Sunday 2025-03-30. Monday 2025-03-31 00:00 local is
    // 22:00 UTC (UTC+2); a week before, Monday 2025-03-24 00:00 local was 23:00 UTC (UTC+1).
    const result = weekdayLoadForecast({
      history: [
        { intervalStart: '2025-03-23T23:00:00Z', kwh: 3 },
        { intervalStart: '2025-03-23T22:00:00Z', kwh: 999 }, // Sunday 23:00 local
      ],
      targetDayStart: '2025-03-30T22:00:00Z',
      timeZone: 'Europe/Berlin',
      intervals: 1,
      weeks: 1,
    });
    expect(result.kw).toEqual([12]);
  });

  it('names bad fields', () => {
    try {
      weekdayLoadForecast({
        history: [
          { intervalStart: '2025-06-08T16:00:00Z', kwh: 1 },
          { intervalStart: '2025-06-09T00:00:00+08:00', kwh: -1 },
        ],
        targetDayStart: 'Monday',
        timeZone: 'Mars/Olympus',
        intervals: 96,
        weeks: 0,
      });
      throw new Error('expected a ValidationError');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).violations.map((v) => v.field)).toEqual([
        'target_day_start',
        'time_zone',
        'weeks',
        'history[1].interval_start',
        'history[1].kwh',
      ]);
    }
  });
});
