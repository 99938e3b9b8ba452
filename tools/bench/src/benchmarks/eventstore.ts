import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { EventMetadata, EventStore, JsonObject, NewEvent } from '@park/eventstore';
import { formatCount, formatDuration } from '../format';
import { percentileOfSorted, perSecond, sortAscending } from '../stats';
import { defineBenchmark, type BenchResult, type Progress } from '../types';

/** One event as both sides write it. */
export interface EventRow {
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  data: JsonObject;
  metadata: EventMetadata;
}

/** One append call of the subject, and the one INSERT statement of the baseline for it. */
export interface WriteCall {
  streamId: string;
  /** The stream's version before this call, which the writer knows from its previous call. */
  expectedVersion: number;
  /** The rows; each is also the NewEvent the event store takes (eventId, type, data, metadata). */
  rows: EventRow[];
}

export interface Workload {
  /** The calls of each writer, in order; writers own disjoint sets of streams. */
  writers: WriteCall[][];
  events: number;
  calls: number;
  streams: number;
}

export interface WorkloadSettings {
  events: number;
  batch: number;
  streams: number;
  concurrency: number;
  streamPrefix: string;
  makeRow?: (streamIndex: number, streamId: string, version: number) => EventRow;
}

/**
 * Splits `events` into calls of `batch` events (the last one may be shorter), hands the calls to
 * the streams in turn, and each stream to writer `stream % concurrency`. A writer goes through
 * its streams round-robin, so consecutive calls rarely hit the same stream, and each call
 * carries the exact version its stream has after the writer's earlier calls.
 */
export function planWorkload(settings: WorkloadSettings): Workload {
  const { events, batch, concurrency, streamPrefix } = settings;
  const makeRow = settings.makeRow ?? meterReading;
  const calls = Math.ceil(events / batch);
  const streams = Math.min(settings.streams, calls);
  const writerCount = Math.min(concurrency, streams);
  const writers: WriteCall[][] = Array.from({ length: writerCount }, () => []);
  const versions = new Array<number>(streams).fill(0);
  for (let call = 0; call < calls; call++) {
    const size = Math.min(batch, events - call * batch);
    const stream = call % streams;
    const streamId = `${streamPrefix}${String(stream).padStart(6, '0')}`;
    const expectedVersion = versions[stream]!;
    const rows = Array.from({ length: size }, (_, i) =>
      makeRow(stream, streamId, expectedVersion + i + 1),
    );
    versions[stream] = expectedVersion + size;
    writers[stream % writerCount]!.push({ streamId, expectedVersion, rows });
  }
  return { writers, events, calls, streams };
}

const INTERVAL_MS = 15 * 60_000;
const EPOCH = Date.UTC(2026, 0, 1);

/** A metering event of the park's kind, about 250 bytes of JSON with its metadata. */
function meterReading(streamIndex: number, streamId: string, version: number): EventRow {
  // Deterministic figures, so payload sizes are the same from run to run.
  const seed = (streamIndex * 7_919 + version * 104_729) % 100_000;
  const eventId = randomUUID();
  // Trace and span ids from UUIDs: crypto.randomBytes costs ~8 µs a call, randomUUID ~0.4 µs.
  const traceId = randomUUID().replace(/-/g, '');
  return {
    eventId,
    streamId,
    version,
    type: version === 1 ? 'MeterRegistered' : 'MeterReadingRecorded',
    data: {
      meterId: `M-${String(streamIndex).padStart(6, '0')}`,
      intervalStart: new Date(EPOCH + version * INTERVAL_MS).toISOString(),
      intervalMinutes: 15,
      energyKwh: seed / 1000,
      peakKw: (seed % 9_973) / 100,
      quality: seed % 50 === 0 ? 'estimated' : 'measured',
    },
    metadata: {
      correlationId: `bench-${streamIndex}-${version}`,
      actor: 'bench:eventstore',
      traceparent: `00-${traceId}-${eventId.slice(0, 8)}${eventId.slice(9, 13)}${eventId.slice(14, 18)}-01`,
    },
  };
}

const BASELINE_TABLE = 'baseline_events';
const BASELINE_COLUMNS = 6;

/** The baseline's table: the same columns, only a primary key, no other index or trigger. */
const CREATE_BASELINE_TABLE = `
CREATE TABLE ${BASELINE_TABLE} (
  event_id uuid,
  stream_id text,
  version bigint,
  type text,
  data jsonb,
  metadata jsonb,
  PRIMARY KEY (stream_id, version)
)`;

/** INSERT ... VALUES ($1, ..., $6), ($7, ..., $12), ... for rows rows. */
export function multiRowInsert(table: string, columns: readonly string[], rows: number): string {
  const tuples = Array.from(
    { length: rows },
    (_, row) =>
      `(${columns.map((_, column) => `$${row * columns.length + column + 1}`).join(', ')})`,
  );
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`;
}

function baselineInserter(pool: pg.Pool): (call: WriteCall) => Promise<void> {
  const columns = ['event_id', 'stream_id', 'version', 'type', 'data', 'metadata'];
  const statements = new Map<number, string>();
  return async (call) => {
    const { rows } = call;
    let sql = statements.get(rows.length);
    if (sql === undefined) {
      sql = multiRowInsert(BASELINE_TABLE, columns, rows.length);
      statements.set(rows.length, sql);
    }
    const params: unknown[] = new Array(rows.length * BASELINE_COLUMNS);
    rows.forEach((row, i) => {
      const at = i * BASELINE_COLUMNS;
      params[at] = row.eventId;
      params[at + 1] = row.streamId;
      params[at + 2] = row.version;
      params[at + 3] = row.type;
      params[at + 4] = JSON.stringify(row.data);
      params[at + 5] = JSON.stringify(row.metadata);
    });
    const result = await pool.query(sql, params);
    if (result.rowCount !== rows.length) {
      throw new Error(`baseline INSERT wrote ${result.rowCount} rows instead of ${rows.length}`);
    }
  };
}

function eventStoreAppender(store: EventStore): (call: WriteCall) => Promise<void> {
  return async (call) => {
    const events: readonly NewEvent[] = call.rows;
    const result = await store.append(call.streamId, events, call.expectedVersion);
    const expected = call.expectedVersion + events.length;
    if (result.nextVersion !== expected) {
      throw new Error(
        `${call.streamId}: append ended at version ${result.nextVersion}, not ${expected}`,
      );
    }
  };
}

/**
 * Cuts every writer's calls into `rounds` consecutive slices: round r runs slice r of each
 * writer. A stream's calls stay in their order, so each call's expected version still holds.
 */
export function splitRounds<T>(writers: readonly (readonly T[])[], rounds: number): T[][][] {
  return Array.from({ length: rounds }, (_, round) =>
    writers.map((calls) =>
      calls.slice(
        Math.floor((round * calls.length) / rounds),
        Math.floor(((round + 1) * calls.length) / rounds),
      ),
    ),
  );
}

/** One side of the comparison, with its time on the clock and call durations so far. */
interface Side {
  name: string;
  execute: (call: WriteCall) => Promise<void>;
  elapsedMs: number;
  latencies: number[];
}

const side = (name: string, execute: Side['execute']): Side => ({
  name,
  execute,
  elapsedMs: 0,
  latencies: [],
});

interface PhaseOutcome {
  elapsedMs: number;
  /** Duration of each call, in the order they ended. */
  latenciesMs: number[];
}

/**
 * Runs each writer's calls one after the other, the writers concurrently. The first failure
 * stops the other writers after their call in flight.
 */
async function drive(
  writers: readonly (readonly WriteCall[])[],
  execute: (call: WriteCall) => Promise<void>,
  signal: AbortSignal,
  progress?: Progress,
): Promise<PhaseOutcome> {
  const latenciesMs: number[] = [];
  let failed = false;
  const start = performance.now();
  await Promise.all(
    writers.map(async (calls) => {
      try {
        for (const call of calls) {
          if (failed) return;
          signal.throwIfAborted();
          const t0 = performance.now();
          await execute(call);
          latenciesMs.push(performance.now() - t0);
          progress?.advance(call.rows.length);
        }
      } catch (error) {
        failed = true;
        throw error;
      }
    }),
  );
  return { elapsedMs: performance.now() - start, latenciesMs };
}

async function countRows(
  pool: pg.Pool,
  table: string,
  streamColumn: string,
  prefix: string,
): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE ${streamColumn} LIKE $1`,
    [`${prefix}%`],
  );
  return rows[0]!.n;
}

export const eventstoreBenchmark = defineBenchmark({
  name: 'eventstore',
  description:
    'EventStore.append with exact expected versions vs multi-row INSERTs of the same rows into a plain table',
  flags: {
    events: {
      kind: 'int',
      description: 'events written by each side',
      default: 100_000,
      min: 1,
      // All rows are built before the clock starts: about 1 KB of heap each.
      max: 1_000_000,
    },
    batch: {
      kind: 'int',
      description: 'events per append call and rows per INSERT statement',
      default: 100,
      min: 1,
      max: 1_000,
    },
    streams: {
      kind: 'int',
      description: 'streams the events are spread over',
      default: 1_000,
      min: 1,
      max: 1_000_000,
    },
    concurrency: {
      kind: 'int',
      description: 'concurrent writers, each with its own connection and streams',
      default: 4,
      min: 1,
      max: 32,
    },
    warmup: {
      kind: 'int',
      description: 'events each side writes to streams of their own before the clock starts',
      default: 2_000,
      min: 0,
      max: 100_000,
    },
    rounds: {
      kind: 'int',
      description:
        'slices the sides take turns on, the first side alternating, so load drift hits both',
      default: 5,
      min: 1,
      max: 100,
    },
  },

  async run({ options, scratchDatabase, progress, log, signal }): Promise<BenchResult[]> {
    const { events, batch, streams, concurrency, warmup } = options;
    const workload = planWorkload({ events, batch, streams, concurrency, streamPrefix: 'meter-' });
    const writers = workload.writers.length;
    const rounds = Math.min(options.rounds, workload.calls);
    const warmupLoad =
      warmup > 0
        ? planWorkload({ events: warmup, batch, streams, concurrency, streamPrefix: 'warmup-' })
        : undefined;
    log(
      `${formatCount(events)} events in ${formatCount(workload.calls)} calls of up to ${batch}, ` +
        `${formatCount(workload.streams)} streams, ${writers} writers, ${rounds} rounds`,
    );

    const db = await scratchDatabase('eventstore', { poolSize: writers });
    await db.pool.query(CREATE_BASELINE_TABLE);
    // Autovacuum would start on either table at a moment of its choosing, on one side's clock.
    for (const table of ['events', BASELINE_TABLE]) {
      await db.pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    }
    // Open every connection before the clock starts.
    const clients = await Promise.all(Array.from({ length: writers }, () => db.pool.connect()));
    for (const client of clients) client.release();

    const subject = side('append', eventStoreAppender(db.store));
    const baseline = side('INSERT', baselineInserter(db.pool));
    const sides = [subject, baseline];
    if (warmupLoad) {
      log(`warming up with ${formatCount(warmup)} events on each side`);
      for (const { execute } of sides) await drive(warmupLoad.writers, execute, signal);
    }

    // A side starts without dirty pages left by the other, where the role may checkpoint.
    let checkpoints = true;
    const checkpoint = async () => {
      if (!checkpoints) return;
      try {
        await db.pool.query('CHECKPOINT');
      } catch (error) {
        checkpoints = false;
        log(`no CHECKPOINT between the sides: ${error instanceof Error ? error.message : error}`);
      }
    };

    const shown = progress('append + INSERT', 2 * events, 'events');
    const slices = splitRounds(workload.writers, rounds);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [subject, baseline] : [baseline, subject];
      const rates: string[] = [];
      const written = slices[round]!.flat().reduce((n, call) => n + call.rows.length, 0);
      for (const current of order) {
        await checkpoint();
        const outcome = await drive(slices[round]!, current.execute, signal, shown);
        current.elapsedMs += outcome.elapsedMs;
        current.latencies.push(...outcome.latenciesMs);
        rates.push(`${current.name} ${formatCount(perSecond(written, outcome.elapsedMs))}`);
      }
      log(`round ${round + 1}/${rounds} events/s: ${rates.join(', ')}`);
    }
    shown.finish();

    const storedEvents = await countRows(db.pool, 'events', 'stream_id', 'meter-');
    const storedRows = await countRows(db.pool, BASELINE_TABLE, 'stream_id', 'meter-');
    if (storedEvents !== events || storedRows !== events) {
      throw new Error(
        `stored ${storedEvents} events and ${storedRows} baseline rows, not ${events}`,
      );
    }
    log(
      `append ${formatDuration(subject.elapsedMs)}, INSERT ${formatDuration(baseline.elapsedMs)} ` +
        '(time on the clock, summed over the rounds)',
    );

    const shape =
      `${formatCount(events)} events, ${batch} per call, ${formatCount(workload.streams)} streams, ` +
      `${writers} writers, ${rounds} alternating rounds; ` +
      'baseline: multi-row INSERT into a table with only a primary key';
    const [subjectSorted, baselineSorted] = [
      sortAscending(subject.latencies),
      sortAscending(baseline.latencies),
    ];
    return [
      {
        metric: 'throughput',
        unit: 'events/s',
        subject: perSecond(events, subject.elapsedMs),
        baseline: perSecond(events, baseline.elapsedMs),
        higherIsBetter: true,
        notes: shape,
      },
      {
        metric: 'latency p50',
        unit: 'ms',
        subject: percentileOfSorted(subjectSorted, 50),
        baseline: percentileOfSorted(baselineSorted, 50),
        higherIsBetter: false,
        notes: 'per EventStore.append call vs per INSERT statement (nearest rank)',
      },
      {
        metric: 'latency p99',
        unit: 'ms',
        subject: percentileOfSorted(subjectSorted, 99),
        baseline: percentileOfSorted(baselineSorted, 99),
        higherIsBetter: false,
      },
    ];
  },
});
