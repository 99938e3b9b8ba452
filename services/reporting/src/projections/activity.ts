import type { Queryable } from '@park/eventstore';
import { decodeReadingsRecord, METERING_READINGS_TOPIC } from '@park/metering-events';
import type { Projection } from './projection';

const INTERVAL_MS = 15 * 60_000;

/**
 * What meters reported: each meter's latest interval (platform coverage) and the interval
 * values of electricity meters (plan versus actual). A correction replaces the value.
 */
export const activityProjection: Projection = {
  name: 'activity',
  topics: [METERING_READINGS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.meter_activity (meter_id text PRIMARY KEY, enterprise_id text NOT NULL,
        last_interval_end timestamptz NOT NULL);
      CREATE INDEX ON ${schema}.meter_activity (enterprise_id);
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
    const latest = values.readings.reduce(
      (max, reading) => Math.max(max, Date.parse(reading.intervalStart)),
      0,
    );
    await db.query(
      `INSERT INTO ${schema}.meter_activity VALUES ($1, $2, $3)
       ON CONFLICT (meter_id) DO UPDATE SET enterprise_id = $2,
         last_interval_end = GREATEST(${schema}.meter_activity.last_interval_end, $3)`,
      [meter.meterId, meter.enterpriseId, new Date(latest + INTERVAL_MS).toISOString()],
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
