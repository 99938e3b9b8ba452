import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import {
  createTestDatabase,
  startPrivatePostgres,
  type PrivatePostgres,
  type TestDatabase,
} from '@park/testing';
import { checkpoints } from './checkpoints';
import { EventStore, positionOf } from './event-store';
import type { LogPosition } from './types';

/*
 * Commit gaps: a global position is handed out at insert, not at commit. 50 transactions are
 * opened one after the other, so transaction i holds lower positions (and a lower xid) than
 * transaction i + 1; some of the low ones stay open while higher ones commit. A reader of the
 * global log that checkpoints past a position still held by an open transaction loses its events.
 *
 * Transaction ids are server-wide: the held transactions would stall the global-log readers of
 * every other test file on a shared server, so this file runs its own PostgreSQL cluster.
 */

const TRANSACTIONS = 50;
/** Transaction i appends 1 + (i mod 3) events. */
const eventCount = (i: number) => 1 + (i % 3);
/** Held open while all the others commit, then committed in HELD_COMMIT_ORDER. */
const HELD = [5, 12, 20, 33, 41];
const HELD_COMMIT_ORDER = [20, 5, 41, 12, 33];
/** The reader is replaced by a new one after this many held transactions committed. */
const RESTART_AFTER_HELD = 2;
/** Small pages, so that the checkpoint is stored and used between pages too. */
const PAGE = 7;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
// The others commit in a scrambled order, (17 i) mod 50 (a permutation since gcd(17, 50) = 1),
// five at a time, concurrently.
const scrambled = range(TRANSACTIONS)
  .filter((i) => !HELD.includes(i))
  .sort((a, b) => ((a * 17) % TRANSACTIONS) - ((b * 17) % TRANSACTIONS));
const STEPS: number[][] = [
  ...range(Math.ceil(scrambled.length / 5)).map((g) => scrambled.slice(g * 5, g * 5 + 5)),
  ...HELD_COMMIT_ORDER.map((i) => [i]),
];
// Events in all: 50 transactions of 1 + (i mod 3) events; i mod 3 over 0..49 is 0 seventeen
// times, 1 seventeen times and 2 sixteen times: 50 + 17 * 1 + 16 * 2 = 99.
const TOTAL_EVENTS = 99;
// The held transactions' events: i = 5, 12, 20, 33, 41 give i mod 3 = 2, 0, 2, 0, 2, so
// 3 + 1 + 3 + 1 + 3 = 11 events.
const HELD_EVENTS = 11;

let server: PrivatePostgres | undefined;
let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  server = await startPrivatePostgres();
  db = await createTestDatabase('gap', { ...(server && { serverUrl: server.url }), poolSize: 60 });
  store = new EventStore(db.pool);
}, 60_000);

afterAll(async () => {
  await db?.drop();
  await server?.stop();
});

interface Seen {
  eventId: string;
  streamId: string;
}

interface Reader {
  readonly seen: Seen[];
  poll(): Promise<void>;
}

/** Reads the global log the store's way, from a checkpoint stored after every page. */
class WatermarkReader implements Reader {
  readonly seen: Seen[] = [];

  private constructor(
    private readonly name: string,
    private position: LogPosition,
  ) {}

  /** A reader process starting up: it knows only the stored checkpoint. */
  static async resume(name: string): Promise<WatermarkReader> {
    return new WatermarkReader(name, await checkpoints.load(db.pool, name));
  }

  async poll(): Promise<void> {
    for (;;) {
      const page = await store.readAll(this.position, PAGE);
      if (page.length === 0) return;
      this.seen.push(...page.map(({ eventId, streamId }) => ({ eventId, streamId })));
      this.position = positionOf(page[page.length - 1]!);
      await checkpoints.store(db.pool, this.name, this.position);
    }
  }
}

/** The classic mistake: position order, checkpoint = the highest position seen. */
class NaiveReader implements Reader {
  readonly seen: Seen[] = [];
  private checkpoint = 0n;

  async poll(): Promise<void> {
    for (;;) {
      const { rows } = await db.pool.query<{
        event_id: string;
        stream_id: string;
        global_position: string;
      }>(
        `SELECT event_id, stream_id, global_position FROM events
         WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
        [this.checkpoint.toString(), PAGE],
      );
      if (rows.length === 0) return;
      this.seen.push(...rows.map((r) => ({ eventId: r.event_id, streamId: r.stream_id })));
      this.checkpoint = BigInt(rows[rows.length - 1]!.global_position);
    }
  }
}

/** 50 transactions, each open on its own connection with its events appended. */
class Transactions {
  /** eventIds[i]: transaction i's events in append order. */
  readonly eventIds: string[][] = [];
  readonly open = new Set<number>();
  private readonly clients: PoolClient[] = [];

  constructor(readonly prefix: string) {}

  async begin(): Promise<void> {
    let previous: { transactionId: bigint; globalPosition: bigint } | undefined;
    for (const i of range(TRANSACTIONS)) {
      const client = await db.pool.connect();
      this.clients.push(client);
      await client.query('BEGIN');
      this.open.add(i);
      const result = await store.append(
        `${this.prefix}-${i}`,
        range(eventCount(i)).map((k) => ({ type: 'Appended', data: { tx: i, k } })),
        'no_stream',
        { client },
      );
      this.eventIds.push(result.events.map((e) => e.eventId));
      // The premise of the scenario: later transactions took higher xids and higher positions.
      const first = result.events[0]!;
      if (previous) {
        expect(first.transactionId).toBeGreaterThan(previous.transactionId);
        expect(first.globalPosition).toBeGreaterThan(previous.globalPosition);
      }
      previous = result.events[result.events.length - 1]!;
    }
  }

  async commit(step: number[]): Promise<void> {
    await Promise.all(step.map((i) => this.clients[i]!.query('COMMIT')));
    for (const i of step) this.open.delete(i);
  }

  /** Every event of the transactions below the oldest one still open, in log order. */
  belowOldestOpen(): string[] {
    const oldest = this.open.size === 0 ? TRANSACTIONS : Math.min(...this.open);
    return this.eventIds.slice(0, oldest).flat();
  }

  all(): string[] {
    return this.eventIds.flat();
  }

  async release(): Promise<void> {
    for (const client of this.clients.splice(0)) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }
}

const idsOf = (prefix: string, ...readers: Reader[]) =>
  readers.flatMap((r) =>
    r.seen.filter((s) => s.streamId.startsWith(`${prefix}-`)).map((s) => s.eventId),
  );

/**
 * Safety: what the readers have read is, in order, a prefix of `expected`: nothing from above a
 * gap, nothing twice, nothing out of log order. Liveness: polling more reads all of `expected`.
 * (On the private cluster nothing else holds the watermark back, so the first poll already does;
 * polling again only covers a stray transaction, such as an autovacuum ANALYZE, or the shared
 * server when no private one could be started.)
 */
async function expectReadUpTo(
  prefix: string,
  readers: Reader[],
  expected: string[],
): Promise<void> {
  const current = readers[readers.length - 1]!;
  for (let attempt = 1; ; attempt++) {
    const read = idsOf(prefix, ...readers);
    expect(read).toEqual(expected.slice(0, read.length));
    if (read.length === expected.length) return;
    if (attempt > 100) expect(read).toEqual(expected);
    await sleep(100);
    await current.poll();
  }
}

describe('global log across commit gaps', () => {
  it('reads every event exactly once, in log order, across a reader restart', async () => {
    const txs = new Transactions('gap');
    let reader = await WatermarkReader.resume('gap-reader');
    const readers: Reader[] = [reader];
    try {
      await txs.begin();
      await reader.poll();
      // Nothing committed: nothing to read.
      expect(idsOf('gap', ...readers)).toEqual([]);

      let heldCommitted = 0;
      for (const step of STEPS) {
        // The reader polls while the step's transactions commit, and once more after.
        await Promise.all([txs.commit(step), reader.poll()]);
        await reader.poll();
        // Only, and all, the events of the transactions older than the oldest still open:
        // committed events above a gap wait until the gap is closed.
        await expectReadUpTo('gap', readers, txs.belowOldestOpen());

        if (
          step.length === 1 &&
          HELD.includes(step[0]!) &&
          ++heldCommitted === RESTART_AFTER_HELD
        ) {
          // Stop the reader; a new one resumes from the stored checkpoint.
          reader = await WatermarkReader.resume('gap-reader');
          readers.push(reader);
        }
        if (step === STEPS[STEPS.length - HELD.length - 1]) {
          // All but the held transactions are committed; the oldest held one is 5, so only
          // transactions 0..4 are readable: 1 + 2 + 3 + 1 + 2 = 9 events.
          expect(idsOf('gap', ...readers)).toEqual(txs.eventIds.slice(0, 5).flat());
          expect(idsOf('gap', ...readers)).toHaveLength(9);
        }
      }
      await reader.poll();
    } finally {
      await txs.release();
    }

    expect(readers).toHaveLength(2);
    const union = idsOf('gap', ...readers);
    expect(union).toHaveLength(TOTAL_EVENTS);
    expect(new Set(union).size).toBe(TOTAL_EVENTS);
    expect(union).toEqual(txs.all());
    // Both readers did part of the work.
    expect(idsOf('gap', readers[0]!).length).toBeGreaterThan(0);
    expect(idsOf('gap', readers[1]!).length).toBeGreaterThan(0);
  });

  it('catches the bug: a reader in position order loses the events of late commits', async () => {
    const txs = new Transactions('naive');
    const naive = new NaiveReader();
    const safe = await WatermarkReader.resume('naive-comparison');
    try {
      await txs.begin();
      for (const step of STEPS) {
        await txs.commit(step);
        await naive.poll();
        await safe.poll();
      }
      await naive.poll();
      await safe.poll();
    } finally {
      await txs.release();
    }

    // Model of the naive reader: it reads every committed event after a step, so it has passed
    // the positions of every transaction committed so far; a transaction committing later with
    // a lower index (lower positions) than one of those is never read.
    const lost = new Set<number>();
    let highestCommitted = -1;
    for (const step of STEPS) {
      for (const i of step) if (i < highestCommitted) lost.add(i);
      highestCommitted = Math.max(highestCommitted, ...step);
    }
    // All held transactions are among them: 49 (not held) committed before any of them.
    expect(HELD.every((i) => lost.has(i))).toBe(true);
    const expectedNaive = range(TRANSACTIONS)
      .filter((i) => !lost.has(i))
      .flatMap((i) => txs.eventIds[i]!);

    const naiveRead = idsOf('naive', naive);
    expect(naiveRead).toEqual(expectedNaive);
    const missing = TOTAL_EVENTS - naiveRead.length;
    expect(missing).toBeGreaterThanOrEqual(HELD_EVENTS);
    // The held transactions' 11 events in particular.
    const heldIds = HELD.flatMap((i) => txs.eventIds[i]!);
    expect(heldIds).toHaveLength(HELD_EVENTS);
    expect(heldIds.filter((id) => naiveRead.includes(id))).toEqual([]);

    // The store's reader, polled at the same moments, has every event exactly once.
    await expectReadUpTo('naive', [safe], txs.all());
  });
});
