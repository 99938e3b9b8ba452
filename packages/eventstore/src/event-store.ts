import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { WrongExpectedVersionError } from './errors';
import { withTraceMetadata } from './trace';
import { Upcasters, type Upcaster } from './upcasting';
import {
  LOG_START,
  type AppendResult,
  type EventMetadata,
  type JsonObject,
  type ExpectedVersion,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
} from './types';

type Queryable = Pick<Pool | PoolClient, 'query'>;

const UNIQUE_VIOLATION = '23505';
const STREAM_VERSION_CONSTRAINT = 'events_stream_version_unique';
/** Each failed attempt means another append to the stream committed, so this bounds contention. */
const RELAXED_APPEND_ATTEMPTS = 20;

/*
 * The expected-version check and the insert are one statement: the CTE reads the stream head,
 * the WHERE clause applies the expectation, and the unique (stream_id, stream_version)
 * constraint turns a concurrent append with the same version into a unique violation.
 */
const APPEND_SQL = `
WITH head AS (
  SELECT coalesce(
    (SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1),
    0) AS version
), allowed AS (
  SELECT version FROM head
  WHERE CASE $2::text
    WHEN 'any' THEN true
    WHEN 'no_stream' THEN version = 0
    WHEN 'stream_exists' THEN version > 0
    ELSE version = $3::bigint
  END
)
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata)
SELECT e.event_id, $1, allowed.version + e.ord, e.event_type, e.schema_version, e.data, e.metadata
FROM allowed,
  unnest($4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
    WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata, ord)
ORDER BY e.ord
RETURNING event_id, stream_version, global_position, transaction_id`;

/*
 * APPEND_SQL for several streams in one statement (one round trip, one notification): every
 * stream's head is read and its expectation applied as above, and unless all of them hold nothing
 * is inserted. Each event's data and metadata travel in one JSON array each rather than as a
 * jsonb[] literal, whose text form escapes every quote of every event.
 */
const APPEND_MANY_SQL = `
WITH wanted AS (
  SELECT s.stream_id, s.kind, s.expected, s.ord AS stream_ord
  FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS s(stream_id, kind, expected, ord)
), head AS (
  SELECT wanted.*, coalesce(
    (SELECT stream_version FROM events WHERE events.stream_id = wanted.stream_id
     ORDER BY stream_version DESC LIMIT 1),
    0) AS version
  FROM wanted
), allowed AS (
  SELECT stream_id, stream_ord, version FROM head
  WHERE CASE kind
    WHEN 'any' THEN true
    WHEN 'no_stream' THEN version = 0
    WHEN 'stream_exists' THEN version > 0
    ELSE version = expected
  END
), incoming AS (
  SELECT e.*, d.data, m.metadata,
    row_number() OVER (PARTITION BY e.stream_ord ORDER BY e.ord) AS nth
  FROM unnest($4::int[], $5::uuid[], $6::text[], $7::int[])
      WITH ORDINALITY AS e(stream_ord, event_id, event_type, schema_version, ord)
    JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS d(data, ord) ON d.ord = e.ord
    JOIN jsonb_array_elements($9::jsonb) WITH ORDINALITY AS m(metadata, ord) ON m.ord = e.ord
)
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata)
SELECT incoming.event_id, allowed.stream_id, allowed.version + incoming.nth, incoming.event_type,
  incoming.schema_version, incoming.data, incoming.metadata
FROM incoming JOIN allowed ON allowed.stream_ord = incoming.stream_ord
WHERE (SELECT count(*) FROM allowed) = cardinality($1::text[])
ORDER BY incoming.ord
RETURNING event_id, stream_id, stream_version, global_position, transaction_id`;

const EVENT_COLUMNS = `global_position, transaction_id, event_id, stream_id, stream_version,
  event_type, schema_version, data, metadata, recorded_at`;

/**
 * Each wanted stream's tail by its own index lookup. A plain join let the planner guess rows per
 * stream from the column statistics: on a large log it chose a parallel scan of the whole table,
 * so every command's read grew with the log (a soak at 5,000 readings/s fell behind within
 * minutes). LATERAL keeps it one (stream_id, stream_version) range scan per stream.
 */
export const READ_STREAMS_SQL = `SELECT tail.* FROM unnest($1::text[], $2::bigint[]) AS wanted(id, after)
CROSS JOIN LATERAL (
  SELECT ${EVENT_COLUMNS} FROM events
  WHERE events.stream_id = wanted.id AND events.stream_version > wanted.after
  ORDER BY events.stream_version
) AS tail
ORDER BY tail.stream_id, tail.stream_version`;

interface EventRow {
  global_position: string;
  transaction_id: string;
  event_id: string;
  stream_id: string;
  stream_version: string;
  event_type: string;
  schema_version: number;
  data: RecordedEvent['data'];
  metadata: RecordedEvent['metadata'];
  recorded_at: Date;
}

export interface EventStoreOptions {
  upcasters?: readonly Upcaster[];
}

export interface AppendOptions {
  /** Append inside the caller's transaction, for example together with a read model update. */
  client?: PoolClient;
}

/** One stream's part of an appendMany. */
export interface StreamAppend {
  streamId: string;
  events: readonly NewEvent[];
  expected: ExpectedVersion;
}

export interface ReadStreamOptions {
  /** Read events after this version (0 reads from the start). */
  afterVersion?: number;
  limit?: number;
  client?: Queryable;
}

/** PostgreSQL event store: one stream per aggregate, a global log safe against commit gaps. */
export class EventStore {
  private readonly upcasters: Upcasters;

  constructor(
    readonly pool: Pool,
    options: EventStoreOptions = {},
  ) {
    this.upcasters = new Upcasters(options.upcasters);
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedVersion,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error(`append to ${streamId}: no events given`);
    if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0)) {
      throw new RangeError(`append to ${streamId}: expected version ${expected} is not a version`);
    }
    const db: Queryable = options.client ?? this.pool;
    const params = [
      streamId,
      typeof expected === 'number' ? 'exact' : expected,
      typeof expected === 'number' ? expected : null,
      events.map((e) => e.eventId ?? randomUUID()),
      events.map((e) => e.type),
      events.map((e) => e.schemaVersion ?? 1),
      events.map((e) => JSON.stringify(e.data)),
      // The appending span's context travels with each event to Kafka (the relay copies it into
      // the traceparent header), so a consumer's span continues the trace of the command.
      events.map((e) => JSON.stringify(withTraceMetadata(e.metadata))),
    ];
    let rows: {
      event_id: string;
      stream_version: string;
      global_position: string;
      transaction_id: string;
    }[];
    for (let attempt = 1; ; attempt++) {
      try {
        ({ rows } = await db.query(APPEND_SQL, params));
        break;
      } catch (error) {
        if (!isStreamVersionConflict(error)) throw error;
        // 'any' and 'stream_exists' still hold after a concurrent append took the version this
        // statement computed: append again after the new head. Not in the caller's transaction,
        // which the failed statement has aborted.
        const relaxed = expected === 'any' || expected === 'stream_exists';
        if (relaxed && !options.client && attempt < RELAXED_APPEND_ATTEMPTS) continue;
        throw new WrongExpectedVersionError(streamId, expected, undefined);
      }
    }
    if (rows.length === 0) {
      throw new WrongExpectedVersionError(
        streamId,
        expected,
        await this.streamVersion(streamId, db),
      );
    }
    const recorded = rows.map((row) => ({
      eventId: row.event_id,
      streamVersion: Number(row.stream_version),
      globalPosition: BigInt(row.global_position),
      transactionId: BigInt(row.transaction_id),
    }));
    return { nextVersion: recorded[recorded.length - 1]!.streamVersion, events: recorded };
  }

  /**
   * `append` for several streams in one statement: all of them or none. Each stream's expected
   * version is enforced as in `append`; when one does not hold, nothing is written and its
   * WrongExpectedVersionError is thrown (the first such stream in the order given). A stream may
   * appear once. The results are in the order of `appends`.
   */
  async appendMany(
    appends: readonly StreamAppend[],
    options: AppendOptions = {},
  ): Promise<AppendResult[]> {
    if (appends.length === 0) return [];
    const streamIds = new Set<string>();
    for (const { streamId, events, expected } of appends) {
      if (streamIds.has(streamId)) throw new Error(`appendMany: stream ${streamId} given twice`);
      streamIds.add(streamId);
      if (events.length === 0) throw new Error(`append to ${streamId}: no events given`);
      if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0)) {
        throw new RangeError(
          `append to ${streamId}: expected version ${expected} is not a version`,
        );
      }
    }
    const db: Queryable = options.client ?? this.pool;
    const streamOrdinals: number[] = [];
    const eventIds: string[] = [];
    const types: string[] = [];
    const schemaVersions: number[] = [];
    const data: JsonObject[] = [];
    const metadata: EventMetadata[] = [];
    appends.forEach(({ events }, index) => {
      for (const event of events) {
        streamOrdinals.push(index + 1);
        eventIds.push(event.eventId ?? randomUUID());
        types.push(event.type);
        schemaVersions.push(event.schemaVersion ?? 1);
        data.push(event.data);
        metadata.push(withTraceMetadata(event.metadata));
      }
    });
    const params = [
      appends.map((a) => a.streamId),
      appends.map((a) => (typeof a.expected === 'number' ? 'exact' : a.expected)),
      appends.map((a) => (typeof a.expected === 'number' ? a.expected : null)),
      streamOrdinals,
      eventIds,
      types,
      schemaVersions,
      JSON.stringify(data),
      JSON.stringify(metadata),
    ];
    const relaxed = appends.every((a) => a.expected === 'any' || a.expected === 'stream_exists');
    let rows: {
      event_id: string;
      stream_id: string;
      stream_version: string;
      global_position: string;
      transaction_id: string;
    }[];
    for (let attempt = 1; ; attempt++) {
      try {
        ({ rows } = await db.query(APPEND_MANY_SQL, params));
        break;
      } catch (error) {
        if (!isStreamVersionConflict(error)) throw error;
        // As in append: relaxed expectations still hold after a concurrent append, outside a
        // caller's (now aborted) transaction.
        if (relaxed && !options.client && attempt < RELAXED_APPEND_ATTEMPTS) continue;
        const streamId = conflictingStream(error) ?? appends[0]!.streamId;
        const expected = appends.find((a) => a.streamId === streamId)?.expected ?? 'any';
        throw new WrongExpectedVersionError(streamId, expected, undefined);
      }
    }
    if (rows.length === 0) {
      // Some expectation did not hold: name the first stream whose head contradicts it.
      for (const { streamId, expected } of appends) {
        const actual = await this.streamVersion(streamId, db);
        const holds =
          expected === 'any' ||
          (expected === 'no_stream' && actual === 0) ||
          (expected === 'stream_exists' && actual > 0) ||
          expected === actual;
        if (!holds) throw new WrongExpectedVersionError(streamId, expected, actual);
      }
      throw new WrongExpectedVersionError(appends[0]!.streamId, appends[0]!.expected, undefined);
    }
    const byStream = new Map<string, AppendResult['events']>();
    for (const row of rows) {
      const recorded = {
        eventId: row.event_id,
        streamVersion: Number(row.stream_version),
        globalPosition: BigInt(row.global_position),
        transactionId: BigInt(row.transaction_id),
      };
      const list = byStream.get(row.stream_id);
      if (list) list.push(recorded);
      else byStream.set(row.stream_id, [recorded]);
    }
    return appends.map(({ streamId }) => {
      const recorded = byStream.get(streamId)!.sort((a, b) => a.streamVersion - b.streamVersion);
      return { nextVersion: recorded[recorded.length - 1]!.streamVersion, events: recorded };
    });
  }

  /** The stream's current version, 0 when it does not exist. */
  async streamVersion(streamId: string, db: Queryable = this.pool): Promise<number> {
    const { rows } = await db.query<{ stream_version: string }>(
      'SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1',
      [streamId],
    );
    return rows[0] ? Number(rows[0].stream_version) : 0;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const db = options.client ?? this.pool;
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_version > $2
       ORDER BY stream_version
       LIMIT $3`,
      [streamId, options.afterVersion ?? 0, options.limit ?? null],
    );
    return rows.map((row) => this.upcasters.apply(toRecordedEvent(row)));
  }

  /**
   * Several streams at once, each after its own version (one query instead of one per stream):
   * the events per stream id, in stream version order; a stream without events has no entry.
   */
  async readStreams(
    streams: readonly { streamId: string; afterVersion?: number }[],
    db: Queryable = this.pool,
  ): Promise<Map<string, RecordedEvent[]>> {
    const byStream = new Map<string, RecordedEvent[]>();
    if (streams.length === 0) return byStream;
    const { rows } = await db.query<EventRow>(READ_STREAMS_SQL, [
      streams.map((s) => s.streamId),
      streams.map((s) => s.afterVersion ?? 0),
    ]);
    for (const row of rows) {
      const event = this.upcasters.apply(toRecordedEvent(row));
      const list = byStream.get(event.streamId);
      if (list) list.push(event);
      else byStream.set(event.streamId, [event]);
    }
    return byStream;
  }

  /**
   * Reads the global log after a position, in (transaction_id, global_position) order, and only
   * from transactions below the current snapshot's xmin: an event whose transaction is still
   * running is never skipped, it is read once that transaction has ended.
   */
  async readAll(
    after: LogPosition = LOG_START,
    limit = 500,
    db: Queryable = this.pool,
  ): Promise<RecordedEvent[]> {
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [after.transactionId.toString(), after.globalPosition.toString(), limit],
    );
    return rows.map((row) => this.upcasters.apply(toRecordedEvent(row)));
  }
}

export function positionOf(
  event: Pick<RecordedEvent, 'transactionId' | 'globalPosition'>,
): LogPosition {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    globalPosition: BigInt(row.global_position),
    transactionId: BigInt(row.transaction_id),
    type: row.event_type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

/** The stream named by a unique violation's detail: Key (stream_id, stream_version)=(s, 3) ... */
function conflictingStream(error: unknown): string | undefined {
  const detail = (error as { detail?: string }).detail;
  return detail?.match(/^Key \(stream_id, stream_version\)=\((.*), \d+\) already exists/)?.[1];
}

function isStreamVersionConflict(error: unknown): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === UNIQUE_VIOLATION && pgError.constraint === STREAM_VERSION_CONSTRAINT;
}
