import {
  inTransaction,
  LogProcessor,
  type EventStore,
  type RecordedEvent,
  type ProjectableEvent,
  type Queryable,
} from '@park/eventstore';
import type { Pool } from 'pg';
import type { MeterDescriptor } from '../registry/meter-registration';
import { projectRegistryEvent } from '../registry/projection';
import type { EstimatedReading, HeldReading, RecordedReading } from './model';

/** The tables this projection owns; a rebuild empties exactly these. */
export const READ_MODEL_TABLES = [
  'parks',
  'enterprises',
  'installations',
  'meters',
  'readings',
  'held_readings',
  'meter_gaps',
] as const;

export const READ_MODEL_PROCESSOR = 'metering.read-models';

/**
 * The metering read models from events: used inline by the application services (in the
 * append's transaction) and by a LogProcessor or `rebuildReadModels` from the global log. Every
 * write is guarded by the stream version, so it is idempotent and order-insensitive per row.
 */
export async function projectMeteringEvents(
  db: Queryable,
  events: readonly ProjectableEvent[],
): Promise<void> {
  // Consecutive ReadingsRecorded of different meters touch different rows: one statement for
  // all of them. A second event of the same stream waits for the next statement, since one
  // INSERT ... ON CONFLICT cannot update a row twice.
  let recorded: ReadingGroup[] = [];
  const recordedStreams = new Set<string>();
  const flushRecorded = async () => {
    if (recorded.length === 0) return;
    await upsertReadings(db, recorded, 'all');
    recorded = [];
    recordedStreams.clear();
  };
  for (const event of events) {
    if (event.type === 'ReadingsRecorded') {
      if (recordedStreams.has(event.streamId)) await flushRecorded();
      const d = event.data as unknown as { meter: MeterDescriptor; readings: RecordedReading[] };
      recorded.push({ meter: d.meter, version: event.streamVersion, rows: d.readings });
      recordedStreams.add(event.streamId);
      continue;
    }
    await flushRecorded();
    if (await projectRegistryEvent(db, event)) continue;
    await projectReadingEvent(db, event);
  }
  await flushRecorded();
}

async function projectReadingEvent(db: Queryable, event: ProjectableEvent): Promise<void> {
  const version = event.streamVersion;
  const d = event.data as Record<string, unknown>;
  const meter = d.meter as MeterDescriptor | undefined;
  switch (event.type) {
    case 'ReadingsRecorded': {
      const readings = d.readings as RecordedReading[];
      await upsertReadings(db, [{ meter: meter!, version, rows: readings }], 'all');
      return;
    }
    case 'ReadingCorrected':
      await upsertReadings(
        db,
        [
          {
            meter: meter!,
            version,
            rows: [
              {
                intervalStart: d.intervalStart as string,
                intervalEnd: d.intervalEnd as string,
                value: d.newValue as string,
                quality: d.newQuality as string,
                source: d.source as string,
                register: d.register as string | undefined,
                registerEdited: d.registerEdited === true || undefined,
              },
            ],
          },
        ],
        'all',
      );
      return;
    case 'ReadingsEstimated': {
      const readings = d.readings as EstimatedReading[];
      // An estimate replaces the value only: a cumulative interval keeps its end register.
      await upsertReadings(
        db,
        [
          {
            meter: meter!,
            version,
            rows: readings.map((r) => ({
              intervalStart: r.intervalStart,
              intervalEnd: r.intervalEnd,
              value: r.value,
              quality: 'estimated',
              source: 'vee',
            })),
          },
        ],
        'value',
      );
      return;
    }
    case 'ReadingsHeld': {
      const readings = d.readings as (HeldReading & {
        intervalStart: string;
        intervalEnd: string;
      })[];
      await db.query(
        `INSERT INTO held_readings (meter_id, interval_start, interval_end, value, register, source,
           reason, limit_value, enterprise_id, stream_version)
         SELECT $1, s, e, v, r, src, rsn, lim, $2, $3
         FROM unnest($4::timestamptz[], $5::timestamptz[], $6::numeric[], $7::numeric[], $8::text[],
           $9::text[], $10::numeric[]) AS t(s, e, v, r, src, rsn, lim)
         ON CONFLICT (meter_id, interval_start) DO UPDATE SET interval_end = EXCLUDED.interval_end,
           value = EXCLUDED.value, register = EXCLUDED.register, source = EXCLUDED.source,
           reason = EXCLUDED.reason, limit_value = EXCLUDED.limit_value, resolution = NULL,
           resolution_reason = NULL, stream_version = EXCLUDED.stream_version
         WHERE held_readings.stream_version < EXCLUDED.stream_version`,
        [
          meter!.meterId,
          meter!.enterpriseId,
          version,
          readings.map((r) => r.intervalStart),
          readings.map((r) => r.intervalEnd),
          readings.map((r) => r.value ?? null),
          readings.map((r) => r.register ?? null),
          readings.map((r) => r.source),
          readings.map((r) => r.reason),
          readings.map((r) => r.limit ?? null),
        ],
      );
      return;
    }
    case 'HeldReadingResolved':
      await db.query(
        `UPDATE held_readings SET resolution = $3, resolution_reason = $4, stream_version = $5
         WHERE meter_id = $1 AND interval_start = $2 AND stream_version < $5`,
        [meter!.meterId, d.intervalStart, d.resolution, d.reason, version],
      );
      return;
    case 'GapDetected':
      await db.query(
        `INSERT INTO meter_gaps (meter_id, gap_start, gap_end, missing_intervals, stream_version)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [meter!.meterId, d.start, d.end, d.missingIntervals, version],
      );
      return;
    case 'GapClosed':
      await db.query(
        `UPDATE meter_gaps SET closed = true, stream_version = $4
         WHERE meter_id = $1 AND gap_start = $2 AND gap_end = $3 AND stream_version < $4`,
        [meter!.meterId, d.start, d.end, version],
      );
      return;
    default:
      return;
  }
}

/** A row of the readings table in the shape of a RecordedReading (absent fields are null). */
interface ReadingRow {
  intervalStart: string;
  intervalEnd: string;
  value?: string;
  quality: string;
  source: string;
  register?: string;
  registerEdited?: boolean;
}

/** One event's rows with the meter and stream version they are written under. */
interface ReadingGroup {
  meter: MeterDescriptor;
  version: number;
  rows: readonly ReadingRow[];
}

/**
 * Upserts the groups' rows in one statement: the meters' columns once per group, the rows' as
 * one array literal per column, joined on the group's ordinal. PostgreSQL reads typed arrays
 * faster than a JSON document of the same rows, and the literals are joined here from the
 * events' texts rather than escaped element by element.
 */
async function upsertReadings(
  db: Queryable,
  groups: readonly ReadingGroup[],
  update: 'all' | 'value',
): Promise<void> {
  const rowGroup: number[] = [];
  const starts: string[] = [];
  const ends: string[] = [];
  const values: (string | undefined)[] = [];
  const qualities: string[] = [];
  const sources: string[] = [];
  const registers: (string | undefined)[] = [];
  const registersEdited: string[] = [];
  groups.forEach(({ rows }, index) => {
    for (const row of rows) {
      rowGroup.push(index + 1);
      starts.push(row.intervalStart);
      ends.push(row.intervalEnd);
      values.push(row.value);
      qualities.push(row.quality);
      sources.push(row.source);
      registers.push(row.register);
      registersEdited.push(row.registerEdited === true ? 't' : 'f');
    }
  });
  if (rowGroup.length === 0) return;
  const set =
    update === 'all'
      ? `value = EXCLUDED.value, quality = EXCLUDED.quality, source = EXCLUDED.source,
         register = EXCLUDED.register, register_edited = EXCLUDED.register_edited,`
      : `value = EXCLUDED.value, quality = EXCLUDED.quality, source = EXCLUDED.source,`;
  await db.query(
    `WITH meters AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
         $6::text[], $7::bigint[]) WITH ORDINALITY
         AS m(meter_id, park_id, enterprise_id, commodity, role, unit, version, ord)
     )
     INSERT INTO readings (meter_id, interval_start, interval_end, value, quality, source, register,
       register_edited, park_id, enterprise_id, commodity, role, unit, stream_version)
     SELECT m.meter_id, r.s, r.e, r.v, r.q, r.src, r.reg, r.re, m.park_id, m.enterprise_id,
       m.commodity, m.role, m.unit, m.version
     FROM unnest($8::int[], $9::timestamptz[], $10::timestamptz[], $11::numeric[], $12::text[],
         $13::text[], $14::numeric[], $15::boolean[]) AS r(meter_ord, s, e, v, q, src, reg, re)
       JOIN meters m ON m.ord = r.meter_ord
     ON CONFLICT (meter_id, interval_start) DO UPDATE SET ${set}
       interval_end = EXCLUDED.interval_end, stream_version = EXCLUDED.stream_version
     WHERE readings.stream_version < EXCLUDED.stream_version`,
    [
      groups.map((g) => g.meter.meterId),
      groups.map((g) => g.meter.parkId),
      groups.map((g) => g.meter.enterpriseId),
      groups.map((g) => g.meter.commodity),
      groups.map((g) => g.meter.role),
      groups.map((g) => g.meter.unit),
      groups.map((g) => g.version),
      arrayLiteral(rowGroup),
      arrayLiteral(starts),
      arrayLiteral(ends),
      arrayLiteral(values),
      arrayLiteral(qualities),
      arrayLiteral(sources),
      arrayLiteral(registers),
      arrayLiteral(registersEdited),
    ],
  );
}

/** Elements that need no quotes in an array literal: instants, decimals, words, integers. */
const BARE_ELEMENT = /^[0-9A-Za-z:.+-]+$/;

/**
 * A PostgreSQL array literal; undefined is NULL. Most elements (instants, decimals) are written
 * bare; others, and any spelling of NULL, are quoted with backslash escapes.
 */
export function arrayLiteral(values: readonly (string | number | undefined)[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    const value = values[i];
    if (value === undefined) literal += 'NULL';
    else if (typeof value === 'number') literal += String(value);
    else if (BARE_ELEMENT.test(value) && value.toUpperCase() !== 'NULL') literal += value;
    else literal += `"${value.replace(/["\\]/g, '\\$&')}"`;
  }
  return literal + '}';
}

/** The month partitions (UTC) of the given interval starts, created on demand; cached per pool. */
export class ReadingPartitions {
  private readonly known = new Set<string>();

  constructor(private readonly pool: Pool) {}

  async ensure(intervalStarts: Iterable<string>): Promise<void> {
    const months = new Map<string, string>();
    for (const start of intervalStarts) {
      const month = typeof start === 'string' ? start.slice(0, 7) : '';
      // Only real months: the text of a reading that will be rejected may start "2025-13" or
      // "0000-01", which PostgreSQL refuses as a timestamp (failing the whole batch).
      if (!/^(?!0000)\d{4}-(?:0[1-9]|1[0-2])$/.test(month) || this.known.has(month)) continue;
      months.set(month, `${month}-01T00:00:00Z`);
    }
    for (const [month, at] of months) {
      // Its own short transaction: the DDL's locks must not be held across an ingest.
      await this.pool.query('SELECT metering_ensure_readings_partition($1)', [at]);
      this.known.add(month);
    }
  }
}

/** A LogProcessor that keeps the read models from the global log (e.g. for a fresh replica). */
export function readModelProcessor(
  store: EventStore,
  connectionString: string,
  name = READ_MODEL_PROCESSOR,
): LogProcessor {
  return new LogProcessor(
    store,
    { name, connectionString },
    {
      kind: 'projection',
      handle: (events: RecordedEvent[], client) => projectMeteringEvents(client, events),
    },
  );
}

/**
 * Empties the read models and projects the whole log again with the same projection, in one
 * transaction that locks the tables: writers wait (their inline projection needs the tables)
 * and readers see the old rows until the new ones commit. Reads the log in global-position
 * order without the processors' snapshot watermark: under the lock every committed event is
 * visible, and an event still uncommitted is projected inline by its own transaction after.
 */
export async function rebuildReadModels(
  pool: Pool,
  options: { batchSize?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  return inTransaction(pool, async (client) => {
    await client.query(`LOCK TABLE ${READ_MODEL_TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE`);
    await client.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
    let after = '0';
    let total = 0;
    for (;;) {
      const { rows } = await client.query<{
        global_position: string;
        stream_id: string;
        stream_version: string;
        event_type: string;
        data: ProjectableEvent['data'];
      }>(
        `SELECT global_position, stream_id, stream_version, event_type, data FROM events
         WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
        [after, batchSize],
      );
      if (rows.length === 0) break;
      await projectMeteringEvents(
        client,
        rows.map((row) => ({
          streamId: row.stream_id,
          streamVersion: Number(row.stream_version),
          type: row.event_type,
          data: row.data,
        })),
      );
      total += rows.length;
      after = rows[rows.length - 1]!.global_position;
    }
    return total;
  });
}
