import type { Queryable } from '@park/eventstore';
import { decodeReadingsRecord, METERING_READINGS_TOPIC } from '@park/metering-events';
import type { Projection } from './projection';

const INTERVAL_MS = 15 * 60_000;

/**
 * What meters reported: per meter and UTC day, the first and last end of the intervals it
 * reported (platform coverage, as of any instant, also in the past), and the interval values of
 * electricity meters (plan versus actual). A correction replaces the value.
 */
export const activityProjection: Projection = {
  name: 'activity',
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
    `);
  },
  async apply(db, schema, message) {
    const values = decodeReadingsRecord(message.type, message.value);
    if (!values || values.readings.length === 0) return;
    const { meter } = values;
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
      [
        meter.meterId,
        meter.enterpriseId,
        values.readings.map((reading) => reading.intervalStart),
        `${INTERVAL_MS / 1000} seconds`,
      ],
    );
    if (meter.commodity !== 'electricity' || (meter.unit !== 'kWh' && meter.unit !== 'MWh')) return;
    const scale = meter.unit === 'MWh' ? '1000' : '1';
    await db.query(
      `INSERT INTO ${schema}.electricity (meter_id, enterprise_id, role, interval_start, kwh)
       SELECT $1, $2, $3, r.start, r.value * $6::numeric
       FROM unnest($4::timestamptz[], $5::numeric[]) AS r(start, value)
       ON CONFLICT (meter_id, interval_start) DO UPDATE SET kwh = EXCLUDED.kwh`,
      [
        meter.meterId,
        meter.enterpriseId,
        meter.role,
        values.readings.map((reading) => reading.intervalStart),
        values.readings.map((reading) => reading.value),
        scale,
      ],
    );
  },
};
