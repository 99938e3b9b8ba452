import {
  Dec,
  decimalText,
  DEFAULT_PARK_TIME_ZONE,
  HOUR_MS,
  instantText,
  parseInstant,
  startOfLocalDay,
  startOfLocalDayAfter,
  startOfLocalHour,
  startOfLocalMonth,
  startOfNextLocalMonth,
} from '@park/domain-primitives';
import type { Quality } from '../readings/model';

export type SeriesResolution = 'hour' | 'day' | 'month';

export interface SeriesPoint {
  intervalStart: string;
  value: string;
  quality: Quality;
}

export interface QualitySummary {
  measured: number;
  estimated: number;
  edited: number;
}

export interface SeriesBucket {
  /** Local period start and end as UTC instants. */
  start: string;
  end: string;
  value: string;
  intervals: number;
  quality: QualitySummary;
}

export interface AggregationOptions {
  resolution: SeriesResolution;
  timeZone?: string;
  /**
   * sum for quantities (kWh, Nm3, t...); mean for levels such as a storage state of charge in %,
   * rounded half-even to `meanDecimalPlaces` (default 6).
   */
  aggregation?: 'sum' | 'mean';
  meanDecimalPlaces?: number;
}

/**
 * Interval values into the park's local hours, days or months: the reference for park-time
 * buckets (GetSeries has PostgreSQL bucket the same way; its tests compare the two). An interval belongs to the
 * bucket its start falls in; buckets without data are left out. Sums are exact decimals.
 */
export function aggregateSeries(
  points: SeriesPoint[],
  options: AggregationOptions,
): SeriesBucket[] {
  const timeZone = options.timeZone ?? DEFAULT_PARK_TIME_ZONE;
  const bounds = bucketBounds(options.resolution, timeZone);
  const timed = points
    .map((point) => {
      const at = parseInstant(point.intervalStart);
      if (at === undefined) throw new RangeError(`bad interval start ${point.intervalStart}`);
      return { at, point };
    })
    .sort((a, b) => a.at - b.at);

  const buckets: {
    start: number;
    end: number;
    sum: Dec;
    intervals: number;
    quality: QualitySummary;
  }[] = [];
  for (const { at, point } of timed) {
    let bucket = buckets[buckets.length - 1];
    // Points are sorted, so only the latest bucket can take the next point: one zone lookup
    // per bucket, not per point.
    if (!bucket || at >= bucket.end) {
      const [start, end] = bounds(at);
      bucket = {
        start,
        end,
        sum: new Dec(0),
        intervals: 0,
        quality: { measured: 0, estimated: 0, edited: 0 },
      };
      buckets.push(bucket);
    }
    bucket.sum = bucket.sum.plus(point.value);
    bucket.intervals += 1;
    bucket.quality[point.quality] += 1;
  }

  return buckets.map(({ start, end, sum, intervals, quality }) => ({
    start: instantText(start),
    end: instantText(end),
    value:
      options.aggregation === 'mean'
        ? decimalText(
            sum.div(intervals).toDecimalPlaces(options.meanDecimalPlaces ?? 6, Dec.ROUND_HALF_EVEN),
          )
        : decimalText(sum),
    intervals,
    quality,
  }));
}

/** A park-local bucket's [start, end) as UTC instants, for any instant in it. */
export function bucketBounds(
  resolution: SeriesResolution,
  timeZone: string,
): (at: number) => [number, number] {
  switch (resolution) {
    case 'hour':
      return (at) => {
        const start = startOfLocalHour(at, timeZone);
        return [start, start + HOUR_MS];
      };
    case 'day':
      return (at) => [startOfLocalDay(at, timeZone), startOfLocalDayAfter(at, 1, timeZone)];
    case 'month':
      return (at) => [startOfLocalMonth(at, timeZone), startOfNextLocalMonth(at, timeZone)];
  }
}
