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
      await applyGap(db, schema, decodeGap(message.type, message.value));
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
  async applyMany(db, schema, messages) {
    // Every record is read before anything is written: an unreadable one throws at once.
    const records = messages.map((message) =>
      message.type === GAP_DETECTED
        ? { gap: decodeGap(message.type, message.value) }
        : { values: decodeReadingsRecord(message.type, message.value) },
    );
    // Days, hours and interval values do not depend on gaps: one statement each for the group.
    const readings = records.flatMap((record) =>
      record.values && record.values.readings.length > 0 ? [record.values] : [],
    );
    await applyMeterDays(db, schema, readings);
    await applyHoursOfMany(db, schema, readings);
    await applyIntervalValues(db, schema, readings);
    // A gap counts the new intervals that arrive after it is reported, not those before: the
    // intervals of the records before a GapDetected fill the gaps as they were until then.
    let pending: MeteredValues[] = [];
    for (const record of records) {
      if (record.gap) {
        await fillGaps(db, schema, pending);
        pending = [];
        await applyGap(db, schema, record.gap);
      } else if (record.values && !record.values.replaced) {
        pending.push(record.values);
      }
    }
    await fillGaps(db, schema, pending);
  },
};

/** meter_days of a group: per meter and UTC day the earliest and latest end, and the enterprise
 * of the day's last record (first and last ends combine in any order, like LEAST and GREATEST). */
async function applyMeterDays(db: Queryable, schema: string, records: MeteredValues[]) {
  const days = new Map<
    string,
    { meterId: string; enterpriseId: string; day: string; first: string; last: string }
  >();
  for (const { meter, readings } of records) {
    for (const { intervalStart } of readings) {
      // toISOString: the UTC day is the first 10 characters, and the strings sort as instants.
      const day = intervalStart.slice(0, 10);
      const key = `${meter.meterId}\u0000${day}`;
      const known = days.get(key);
      if (!known) {
        days.set(key, {
          meterId: meter.meterId,
          enterpriseId: meter.enterpriseId,
          day,
          first: intervalStart,
          last: intervalStart,
        });
        continue;
      }
      known.enterpriseId = meter.enterpriseId;
      if (intervalStart < known.first) known.first = intervalStart;
      if (intervalStart > known.last) known.last = intervalStart;
    }
  }
  if (days.size === 0) return;
  const rows = [...days.values()];
  await db.query(
    `INSERT INTO ${schema}.meter_days (meter_id, enterprise_id, day, first_end, last_end)
     SELECT r.meter_id, r.enterprise_id, r.day, r.first_start + $6::interval, r.last_start + $6::interval
     FROM unnest($1::text[], $2::text[], $3::date[], $4::timestamptz[], $5::timestamptz[])
       AS r(meter_id, enterprise_id, day, first_start, last_start)
     ON CONFLICT (meter_id, day) DO UPDATE SET enterprise_id = EXCLUDED.enterprise_id,
       first_end = LEAST(${schema}.meter_days.first_end, EXCLUDED.first_end),
       last_end = GREATEST(${schema}.meter_days.last_end, EXCLUDED.last_end)`,
    [
      rows.map((row) => row.meterId),
      rows.map((row) => row.enterpriseId),
      rows.map((row) => row.day),
      rows.map((row) => row.first),
      rows.map((row) => row.last),
      `${INTERVAL_MS / 1000} seconds`,
    ],
  );
}

/**
 * commodity_hours of a group: what applyHours adds per record, summed per key in SQL numeric
 * (exact, as the per-record additions are).
 */
async function applyHoursOfMany(db: Queryable, schema: string, records: MeteredValues[]) {
  const rows = records.flatMap((values) => {
    const { meter } = values;
    const unit = meter.unit === 'MWh' ? 'kWh' : meter.unit;
    const scale = meter.unit === 'MWh' ? '1000' : '1';
    return hourRows(values).map((row) => ({
      enterprise_id: meter.enterpriseId,
      commodity: meter.commodity,
      role: meter.role,
      unit,
      scale,
      ...row,
    }));
  });
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO ${schema}.commodity_hours (enterprise_id, commodity, role, unit, hour_start,
       quantity, measured, estimated, edited)
     SELECT r.enterprise_id, r.commodity, r.role, r.unit, r.hour_start,
       sum((r.delta - r.replaced) * r.scale), sum(r.measured), sum(r.estimated), sum(r.edited)
     FROM jsonb_to_recordset($1::jsonb) AS r(enterprise_id text, commodity text, role text,
       unit text, scale numeric, hour_start timestamptz, delta numeric, replaced numeric,
       measured integer, estimated integer, edited integer)
     GROUP BY r.enterprise_id, r.hour_start, r.commodity, r.role, r.unit
     ON CONFLICT (enterprise_id, hour_start, commodity, role, unit) DO UPDATE SET
       quantity = ${schema}.commodity_hours.quantity + EXCLUDED.quantity,
       measured = ${schema}.commodity_hours.measured + EXCLUDED.measured,
       estimated = ${schema}.commodity_hours.estimated + EXCLUDED.estimated,
       edited = ${schema}.commodity_hours.edited + EXCLUDED.edited`,
    [JSON.stringify(rows)],
  );
}

interface IntervalValue {
  meterId: string;
  enterpriseId: string;
  role: string;
  start: string;
  value: string;
  scale: string;
}

/**
 * electricity and soc of a group, one statement each. Per (meter, interval) the last value
 * wins, as in a record-by-record upsert; a row it creates takes its enterprise and role from
 * the first record (later upserts of the same row only replace the value).
 */
async function applyIntervalValues(db: Queryable, schema: string, records: MeteredValues[]) {
  const soc = new Map<string, IntervalValue>();
  const electricity = new Map<string, IntervalValue>();
  for (const { meter, readings } of records) {
    let target: Map<string, IntervalValue>;
    if (meter.role === 'storage_soc') target = soc;
    else if (meter.commodity === 'electricity' && (meter.unit === 'kWh' || meter.unit === 'MWh'))
      target = electricity;
    else continue;
    const scale = meter.unit === 'MWh' ? '1000' : '1';
    for (const reading of readings) {
      const key = `${meter.meterId}\u0000${reading.intervalStart}`;
      const known = target.get(key);
      if (known) {
        known.value = reading.value;
        known.scale = scale;
      } else {
        target.set(key, {
          meterId: meter.meterId,
          enterpriseId: meter.enterpriseId,
          role: meter.role,
          start: reading.intervalStart,
          value: reading.value,
          scale,
        });
      }
    }
  }
  const column = <K extends keyof IntervalValue>(rows: IntervalValue[], key: K) =>
    rows.map((row) => row[key]);
  if (soc.size > 0) {
    const rows = [...soc.values()];
    await db.query(
      `INSERT INTO ${schema}.soc (meter_id, enterprise_id, interval_start, percent)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::numeric[])
       ON CONFLICT (meter_id, interval_start) DO UPDATE SET percent = EXCLUDED.percent`,
      [
        column(rows, 'meterId'),
        column(rows, 'enterpriseId'),
        column(rows, 'start'),
        column(rows, 'value'),
      ],
    );
  }
  if (electricity.size > 0) {
    const rows = [...electricity.values()];
    await db.query(
      `INSERT INTO ${schema}.electricity (meter_id, enterprise_id, role, interval_start, kwh)
       SELECT r.meter_id, r.enterprise_id, r.role, r.start, r.value * r.scale
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::numeric[], $6::numeric[])
         AS r(meter_id, enterprise_id, role, start, value, scale)
       ON CONFLICT (meter_id, interval_start) DO UPDATE SET kwh = EXCLUDED.kwh`,
      [
        column(rows, 'meterId'),
        column(rows, 'enterpriseId'),
        column(rows, 'role'),
        column(rows, 'start'),
        column(rows, 'value'),
        column(rows, 'scale'),
      ],
    );
  }
}

/** The new (not replaced) intervals of records fill the gaps of their meters they fall in. */
async function fillGaps(db: Queryable, schema: string, records: MeteredValues[]) {
  const meterIds: string[] = [];
  const starts: string[] = [];
  for (const { meter, readings } of records) {
    for (const reading of readings) {
      meterIds.push(meter.meterId);
      starts.push(reading.intervalStart);
    }
  }
  if (starts.length === 0) return;
  await db.query(
    `UPDATE ${schema}.gaps g SET filled = g.filled + x.n
     FROM (SELECT g2.meter_id, g2.gap_start, count(*)::int AS n FROM ${schema}.gaps g2
           JOIN unnest($1::text[], $2::timestamptz[]) AS r(meter_id, start)
             ON r.meter_id = g2.meter_id AND r.start >= g2.gap_start AND r.start < g2.gap_end
           GROUP BY g2.meter_id, g2.gap_start) x
     WHERE g.meter_id = x.meter_id AND g.gap_start = x.gap_start`,
    [meterIds, starts],
  );
}

/**
 * Adds the record's intervals to their enterprise hours: the quantity (electricity in kWh, other
 * commodities in their unit; telemetry in % carries none) and one interval of its quality; a
 * correction takes the replaced value and its quality out first.
 */
async function applyHours(db: Queryable, schema: string, values: MeteredValues): Promise<void> {
  const { meter } = values;
  const scale = meter.unit === 'MWh' ? '1000' : '1';
  const unit = meter.unit === 'MWh' ? 'kWh' : meter.unit;
  const rows = hourRows(values);
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

/** Per reading of a record: its hour, the value it adds and the one it takes out (in the
 * meter's unit), and the interval it moves between qualities. */
function hourRows(values: MeteredValues) {
  const { meter, replaced } = values;
  const energy = meter.unit !== '%';
  return values.readings.map((reading) => {
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
}

function hourOf(instant: string): string {
  const ms = Date.parse(instant);
  return new Date(ms - (ms % 3_600_000)).toISOString();
}

interface Gap {
  meterId: string;
  enterpriseId: string;
  gapStart: string;
  gapEnd: string;
  missingIntervals: number;
}

function decodeGap(type: string, value: Uint8Array): Gap {
  const event = decodePayload(park.metering.v1.GapDetected, type, value);
  const meter = meterFacts(event.meter);
  if (!event.gapStart || !event.gapEnd) {
    throw new PermanentMessageError('GapDetected without its start or end');
  }
  return {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    gapStart: event.gapStart.toISOString(),
    gapEnd: event.gapEnd.toISOString(),
    missingIntervals: event.missingIntervals,
  };
}

async function applyGap(db: Queryable, schema: string, gap: Gap) {
  // Metering reports a gap once; holes only shrink as late data arrives, so a second report of
  // the same start (a gap that grew before it was reported again) replaces the first.
  await db.query(
    `INSERT INTO ${schema}.gaps (meter_id, enterprise_id, gap_start, gap_end, missing_intervals)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (meter_id, gap_start) DO UPDATE SET gap_end = $4, missing_intervals = $5`,
    [gap.meterId, gap.enterpriseId, gap.gapStart, gap.gapEnd, gap.missingIntervals],
  );
}
