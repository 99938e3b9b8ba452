import { park } from '@park/contracts';
import type { Queryable } from '@park/eventstore';
import { decodePayload, PermanentMessageError } from '@park/messaging';
import {
  decodeReadingsRecord,
  meterFacts,
  METERING_READINGS_TOPIC,
  type MeteredValues,
} from '@park/metering-events';
import type { Projection } from './projection';

const INTERVAL_MS = 15 * 60_000;
const GAP_DETECTED = 'park.metering.v1.GapDetected';

/**
 * What meters reported: per meter and UTC day, the first and last end of the intervals it
 * reported (platform coverage, as of any instant, also in the past), and the interval values of
 * electricity meters (plan versus actual). A correction replaces the value.
 *
 * Shape 2 adds, for the dashboard: storage state-of-charge telemetry per interval (battery SOC
 * against the plan); per enterprise, commodity, meter role, unit and hour the metered quantity
 * and how many intervals were measured, estimated or edited (series by commodity, estimated and
 * missing shares; a correction moves its interval from the old quality to the new one); and the
 * gaps metering reported as too long to estimate, with how many of their intervals arrived since
 * (a gap is open until all of them have).
 */
export const activityProjection: Projection = {
  name: 'activity',
  shape: 2,
  topics: [METERING_READINGS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.meter_days (meter_id text NOT NULL, enterprise_id text NOT NULL,
        day date NOT NULL, first_end timestamptz NOT NULL, last_end timestamptz NOT NULL,
        PRIMARY KEY (meter_id, day));
      CREATE INDEX ON ${schema}.meter_days (enterprise_id, day);
      CREATE TABLE ${schema}.electricity (meter_id text NOT NULL, enterprise_id text NOT NULL,
        role text NOT NULL, interval_start timestamptz NOT NULL, kwh numeric NOT NULL,
        PRIMARY KEY (meter_id, interval_start));
      CREATE INDEX ON ${schema}.electricity (interval_start);
      CREATE TABLE ${schema}.soc (meter_id text NOT NULL, enterprise_id text NOT NULL,
        interval_start timestamptz NOT NULL, percent numeric NOT NULL,
        PRIMARY KEY (meter_id, interval_start));
      CREATE TABLE ${schema}.commodity_hours (enterprise_id text NOT NULL, commodity text NOT NULL,
        role text NOT NULL, unit text NOT NULL, hour_start timestamptz NOT NULL,
        quantity numeric NOT NULL, measured integer NOT NULL, estimated integer NOT NULL,
        edited integer NOT NULL, PRIMARY KEY (enterprise_id, hour_start, commodity, role, unit));
      CREATE INDEX ON ${schema}.commodity_hours (hour_start);
      CREATE TABLE ${schema}.gaps (meter_id text NOT NULL, enterprise_id text NOT NULL,
        gap_start timestamptz NOT NULL, gap_end timestamptz NOT NULL,
        missing_intervals integer NOT NULL, filled integer NOT NULL DEFAULT 0,
        PRIMARY KEY (meter_id, gap_start));
    `);
  },
  async apply(db, schema, message) {
    if (message.type === GAP_DETECTED) {
      await applyGap(db, schema, message.type, message.value);
      return;
    }
    const values = decodeReadingsRecord(message.type, message.value);
    if (!values || values.readings.length === 0) return;
    const { meter } = values;
    const starts = values.readings.map((reading) => reading.intervalStart);
    // Only a meter's latest interval would not do: a past period's coverage must not depend on
    // what the meter reported after it. A day's ends span less than 24 h, so "some end in
    // (asOf - 24 h, asOf]" is exactly "last_end > asOf - 24 h and first_end <= asOf" on some day.
    await db.query(
      `INSERT INTO ${schema}.meter_days (meter_id, enterprise_id, day, first_end, last_end)
       SELECT $1, $2, (r.start AT TIME ZONE 'UTC')::date, min(r.start) + $4::interval, max(r.start) + $4::interval
       FROM unnest($3::timestamptz[]) AS r(start) GROUP BY 3
       ON CONFLICT (meter_id, day) DO UPDATE SET enterprise_id = EXCLUDED.enterprise_id,
         first_end = LEAST(${schema}.meter_days.first_end, EXCLUDED.first_end),
         last_end = GREATEST(${schema}.meter_days.last_end, EXCLUDED.last_end)`,
      [meter.meterId, meter.enterpriseId, starts, `${INTERVAL_MS / 1000} seconds`],
    );
    await applyHours(db, schema, values);
    if (!values.replaced) {
      // New intervals (not a value replaced): those inside a reported gap fill it.
      await db.query(
        `UPDATE ${schema}.gaps g SET filled = g.filled + x.n
         FROM (SELECT g2.gap_start, count(*)::int AS n FROM ${schema}.gaps g2
               JOIN unnest($2::timestamptz[]) AS r(start)
                 ON r.start >= g2.gap_start AND r.start < g2.gap_end
               WHERE g2.meter_id = $1 GROUP BY g2.gap_start) x
         WHERE g.meter_id = $1 AND g.gap_start = x.gap_start`,
        [meter.meterId, starts],
      );
    }
    if (meter.role === 'storage_soc') {
      await db.query(
        `INSERT INTO ${schema}.soc (meter_id, enterprise_id, interval_start, percent)
         SELECT $1, $2, r.start, r.value FROM unnest($3::timestamptz[], $4::numeric[]) AS r(start, value)
         ON CONFLICT (meter_id, interval_start) DO UPDATE SET percent = EXCLUDED.percent`,
        [meter.meterId, meter.enterpriseId, starts, values.readings.map((r) => r.value)],
      );
      return;
    }
    if (meter.commodity !== 'electricity' || (meter.unit !== 'kWh' && meter.unit !== 'MWh')) return;
    await db.query(
      `INSERT INTO ${schema}.electricity (meter_id, enterprise_id, role, interval_start, kwh)
       SELECT $1, $2, $3, r.start, r.value * $6::numeric
       FROM unnest($4::timestamptz[], $5::numeric[]) AS r(start, value)
       ON CONFLICT (meter_id, interval_start) DO UPDATE SET kwh = EXCLUDED.kwh`,
      [
        meter.meterId,
        meter.enterpriseId,
        meter.role,
        starts,
        values.readings.map((reading) => reading.value),
        meter.unit === 'MWh' ? '1000' : '1',
      ],
    );
  },
};

/**
 * Adds the record's intervals to their enterprise hours: the quantity (electricity in kWh, other
 * commodities in their unit; telemetry in % carries none) and one interval of its quality; a
 * correction takes the replaced value and its quality out first.
 */
async function applyHours(db: Queryable, schema: string, values: MeteredValues): Promise<void> {
  const { meter, replaced } = values;
  const energy = meter.unit !== '%';
  const scale = meter.unit === 'MWh' ? '1000' : '1';
  const unit = meter.unit === 'MWh' ? 'kWh' : meter.unit;
  const rows = values.readings.map((reading) => {
    const count = (quality: string) =>
      (reading.quality === quality ? 1 : 0) - (replaced?.quality === quality ? 1 : 0);
    return {
      hour_start: hourOf(reading.intervalStart),
      delta: energy ? `${reading.value}` : '0',
      replaced: energy && replaced ? replaced.value : '0',
      measured: count('measured'),
      estimated: count('estimated'),
      edited: count('edited'),
    };
  });
  await db.query(
    `INSERT INTO ${schema}.commodity_hours (enterprise_id, commodity, role, unit, hour_start,
       quantity, measured, estimated, edited)
     SELECT $1, $2, $3, $4, r.hour_start, sum((r.delta - r.replaced) * $6::numeric),
       sum(r.measured), sum(r.estimated), sum(r.edited)
     FROM jsonb_to_recordset($5::jsonb) AS r(hour_start timestamptz, delta numeric, replaced numeric,
       measured integer, estimated integer, edited integer)
     GROUP BY r.hour_start
     ON CONFLICT (enterprise_id, hour_start, commodity, role, unit) DO UPDATE SET
       quantity = ${schema}.commodity_hours.quantity + EXCLUDED.quantity,
       measured = ${schema}.commodity_hours.measured + EXCLUDED.measured,
       estimated = ${schema}.commodity_hours.estimated + EXCLUDED.estimated,
       edited = ${schema}.commodity_hours.edited + EXCLUDED.edited`,
    [meter.enterpriseId, meter.commodity, meter.role, unit, JSON.stringify(rows), scale],
  );
}

function hourOf(instant: string): string {
  const ms = Date.parse(instant);
  return new Date(ms - (ms % 3_600_000)).toISOString();
}

async function applyGap(db: Queryable, schema: string, type: string, value: Uint8Array) {
  const event = decodePayload(park.metering.v1.GapDetected, type, value);
  const meter = meterFacts(event.meter);
  if (!event.gapStart || !event.gapEnd) {
    throw new PermanentMessageError('GapDetected without its start or end');
  }
  // Metering reports a gap once; holes only shrink as late data arrives, so a second report of
  // the same start (a gap that grew before it was reported again) replaces the first.
  await db.query(
    `INSERT INTO ${schema}.gaps (meter_id, enterprise_id, gap_start, gap_end, missing_intervals)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (meter_id, gap_start) DO UPDATE SET gap_end = $4, missing_intervals = $5`,
    [
      meter.meterId,
      meter.enterpriseId,
      event.gapStart.toISOString(),
      event.gapEnd.toISOString(),
      event.missingIntervals,
    ],
  );
}
