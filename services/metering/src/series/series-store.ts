import { NotFoundError, ValidationError } from '@park/service-kit/errors';
import type { Pool } from 'pg';
import {
  toMeterUnit,
  type Commodity,
  type MeterRole,
  type MeterUnit,
} from '../registry/meter-registration';
import {
  Dec,
  decimalText,
  DEFAULT_PARK_TIME_ZONE,
  instantText,
  parseInstant,
} from '@park/domain-primitives';
import type { Quality } from '../readings/model';
import { aggregateSeries, type SeriesBucket, type SeriesPoint } from './aggregate';

export type SeriesQueryResolution = 'quarter_hour' | 'hour' | 'day' | 'month';

export type SeriesQuery = (
  | { meterId: string; enterpriseId?: undefined }
  | { meterId?: undefined; enterpriseId: string; commodity: string; role: string }
) & {
  resolution: SeriesQueryResolution;
  /** [from, to) on interval starts, UTC instants. */
  from: string;
  to: string;
};

export interface Series {
  timeZone: string;
  unit: string;
  /** sum for quantities; mean for a state of charge. */
  aggregation: 'sum' | 'mean';
  buckets: SeriesBucket[];
}

/**
 * GetSeries from the readings read model: one meter, or an enterprise's meters of a commodity
 * and role (summed per interval, in one unit). quarter_hour gives the stored intervals as they
 * are; hour, day and month are the park's local periods (series/aggregate.ts). Intervals without
 * a value (a cumulative meter's first register) are left out.
 */
export async function getSeries(pool: Pool, query: SeriesQuery): Promise<Series> {
  const from = parseInstant(query.from);
  const to = parseInstant(query.to);
  if (from === undefined) throw ValidationError.field('from', 'must be an ISO 8601 instant');
  if (to === undefined) throw ValidationError.field('to', 'must be an ISO 8601 instant');
  if (to <= from) throw ValidationError.field('to', 'must be after from');
  if (!['quarter_hour', 'hour', 'day', 'month'].includes(query.resolution)) {
    throw ValidationError.field('resolution', 'one of quarter_hour, hour, day, month');
  }

  let timeZone: string;
  let unit: string;
  let commodity: string;
  let role: string;
  let rows: {
    interval_start: Date;
    interval_end: Date;
    value: string;
    quality: Quality;
    unit: string;
  }[];
  if (query.meterId !== undefined) {
    const meter = await pool.query<{
      time_zone: string;
      unit: string;
      commodity: string;
      role: string;
    }>('SELECT time_zone, unit, commodity, role FROM meters WHERE meter_id = $1', [query.meterId]);
    if (!meter.rows[0]) throw new NotFoundError(`meter ${query.meterId} is not registered`);
    ({ time_zone: timeZone, unit, commodity, role } = meter.rows[0]);
    ({ rows } = await pool.query(
      `SELECT interval_start, interval_end, value::text, quality, unit FROM readings
       WHERE meter_id = $1 AND interval_start >= $2 AND interval_start < $3 AND value IS NOT NULL
       ORDER BY interval_start`,
      [query.meterId, instantText(from), instantText(to)],
    ));
  } else {
    ({ commodity, role } = query);
    const context = await pool.query<{ time_zone: string | null; unit: string | null }>(
      `SELECT
         (SELECT p.time_zone FROM enterprises e JOIN parks p USING (park_id) WHERE e.enterprise_id = $1) AS time_zone,
         (SELECT unit FROM meters WHERE enterprise_id = $1 AND commodity = $2 AND role = $3
          ORDER BY meter_id LIMIT 1) AS unit`,
      [query.enterpriseId, commodity, role],
    );
    timeZone = context.rows[0]?.time_zone ?? DEFAULT_PARK_TIME_ZONE;
    unit = context.rows[0]?.unit ?? '';
    ({ rows } = await pool.query(
      `SELECT interval_start, interval_end, value::text, quality, unit FROM readings
       WHERE enterprise_id = $1 AND commodity = $2 AND role = $3
         AND interval_start >= $4 AND interval_start < $5 AND value IS NOT NULL
       ORDER BY interval_start`,
      [query.enterpriseId, commodity, role, instantText(from), instantText(to)],
    ));
  }

  const aggregation = role === 'storage_soc' ? 'mean' : 'sum';
  const target = {
    commodity: commodity as Commodity,
    role: role as MeterRole,
    unit: unit as MeterUnit,
  };
  const points: (SeriesPoint & { intervalEnd: string })[] = rows.map((row) => ({
    intervalStart: instantText(row.interval_start.getTime()),
    intervalEnd: instantText(row.interval_end.getTime()),
    value:
      row.unit === unit
        ? row.value
        : decimalText(toMeterUnit(new Dec(row.value), row.unit, target) ?? new Dec(row.value)),
    quality: row.quality,
  }));

  const buckets =
    query.resolution === 'quarter_hour'
      ? intervalBuckets(points, aggregation)
      : aggregateSeries(points, { resolution: query.resolution, timeZone, aggregation });
  return { timeZone, unit, aggregation, buckets };
}

/** One bucket per interval start, summing (or averaging) the meters that have it. */
function intervalBuckets(
  points: (SeriesPoint & { intervalEnd: string })[],
  aggregation: 'sum' | 'mean',
): SeriesBucket[] {
  const byStart = new Map<
    string,
    { end: string; sum: Dec; n: number; quality: SeriesBucket['quality'] }
  >();
  for (const point of points) {
    let bucket = byStart.get(point.intervalStart);
    if (!bucket) {
      bucket = {
        end: point.intervalEnd,
        sum: new Dec(0),
        n: 0,
        quality: { measured: 0, estimated: 0, edited: 0 },
      };
      byStart.set(point.intervalStart, bucket);
    }
    bucket.sum = bucket.sum.plus(point.value);
    bucket.n += 1;
    bucket.quality[point.quality] += 1;
  }
  return [...byStart.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([start, b]) => ({
      start,
      end: b.end,
      value: decimalText(
        aggregation === 'mean' ? b.sum.div(b.n).toDecimalPlaces(6, Dec.ROUND_HALF_EVEN) : b.sum,
      ),
      intervals: b.n,
      quality: b.quality,
    }));
}
