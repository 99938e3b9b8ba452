import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { WrongExpectedVersionError } from './errors';
import { withTraceMetadata } from './trace';
import { Upcasters, type Upcaster } from './upcasting';
import {
  LOG_START,
  type AppendResult,
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

const EVENT_COLUMNS = `global_position, transaction_id, event_id, stream_id, stream_version,
  event_type, schema_version, data, metadata, recorded_at`;

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
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       JOIN unnest($1::text[], $2::bigint[]) AS wanted(id, after)
         ON events.stream_id = wanted.id AND events.stream_version > wanted.after
       ORDER BY events.stream_id, events.stream_version`,
      [streams.map((s) => s.streamId), streams.map((s) => s.afterVersion ?? 0)],
    );
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

function isStreamVersionConflict(error: unknown): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === UNIQUE_VIOLATION && pgError.constraint === STREAM_VERSION_CONSTRAINT;
}
