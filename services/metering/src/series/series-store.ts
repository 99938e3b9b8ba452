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
import {
  bucketBounds,
  type QualitySummary,
  type SeriesBucket,
  type SeriesResolution,
} from './aggregate';

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
  // Which readings: one meter, or an enterprise's meters of a commodity and role.
  let selection: { where: string; params: unknown[] };
  if (query.meterId !== undefined) {
    const meter = await pool.query<{
      time_zone: string;
      unit: string;
      commodity: string;
      role: string;
    }>('SELECT time_zone, unit, commodity, role FROM meters WHERE meter_id = $1', [query.meterId]);
    if (!meter.rows[0]) throw new NotFoundError(`meter ${query.meterId} is not registered`);
    ({ time_zone: timeZone, unit, commodity, role } = meter.rows[0]);
    selection = { where: 'meter_id = $1', params: [query.meterId] };
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
    selection = {
      where: 'enterprise_id = $1 AND commodity = $2 AND role = $3',
      params: [query.enterpriseId, commodity, role],
    };
  }

  // PostgreSQL sums the intervals of each bucket (exact numeric sums), per unit and quality: a
  // month of an enterprise's quarter hours arrives as a few dozen partial sums, not thousands of
  // rows to parse and add up here. quarter_hour buckets are the stored intervals themselves.
  const n = selection.params.length;
  const bucketStart =
    query.resolution === 'quarter_hour'
      ? 'interval_start'
      : `date_trunc('${SQL_FIELD[query.resolution]}', interval_start, $${n + 3})`;
  const { rows } = await pool.query<{
    bucket_start: Date;
    interval_end: Date;
    unit: string;
    quality: Quality;
    total: string;
    intervals: number;
  }>(
    `SELECT ${bucketStart} AS bucket_start, min(interval_end) AS interval_end, unit, quality,
            sum(value)::text AS total, count(*)::int AS intervals
     FROM readings
     WHERE ${selection.where} AND interval_start >= $${n + 1} AND interval_start < $${n + 2}
       AND value IS NOT NULL
     GROUP BY 1, unit, quality
     ORDER BY 1`,
    [
      ...selection.params,
      instantText(from),
      instantText(to),
      ...(query.resolution === 'quarter_hour' ? [] : [timeZone]),
    ],
  );

  const aggregation = role === 'storage_soc' ? 'mean' : 'sum';
  const target = {
    commodity: commodity as Commodity,
    role: role as MeterRole,
    unit: unit as MeterUnit,
  };
  const bounds =
    query.resolution === 'quarter_hour' ? undefined : bucketBounds(query.resolution, timeZone);
  const buckets: SeriesBucket[] = [];
  let open:
    | { start: number; end: number; sum: Dec; intervals: number; quality: QualitySummary }
    | undefined;
  const close = () => {
    if (!open) return;
    buckets.push({
      start: instantText(open.start),
      end: instantText(open.end),
      value: decimalText(
        aggregation === 'mean'
          ? open.sum.div(open.intervals).toDecimalPlaces(6, Dec.ROUND_HALF_EVEN)
          : open.sum,
      ),
      intervals: open.intervals,
      quality: open.quality,
    });
  };
  for (const row of rows) {
    const start = row.bucket_start.getTime();
    if (open?.start !== start) {
      close();
      open = {
        start,
        end: bounds ? bounds(start)[1] : row.interval_end.getTime(),
        sum: new Dec(0),
        intervals: 0,
        quality: { measured: 0, estimated: 0, edited: 0 },
      };
    }
    const total = new Dec(row.total);
    // A unit conversion is a scale factor, so the sum converts like each of its values.
    open.sum = open.sum.plus(
      row.unit === unit ? total : (toMeterUnit(total, row.unit, target) ?? total),
    );
    open.intervals += row.intervals;
    open.quality[row.quality] += row.intervals;
  }
  close();
  return { timeZone, unit, aggregation, buckets };
}

/** date_trunc's field for each resolution coarser than the stored intervals. */
const SQL_FIELD: Record<SeriesResolution, string> = { hour: 'hour', day: 'day', month: 'month' };
