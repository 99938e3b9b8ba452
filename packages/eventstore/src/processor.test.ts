import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import { createTestDatabase, eventually, type TestDatabase } from '@park/testing';
import { checkpoints } from './checkpoints';
import { EventStore, positionOf } from './event-store';
import { LogProcessor, type ProcessorMode, type ProcessorOptions } from './processor';
import { LOG_START, type LogPosition, type RecordedEvent } from './types';

let db: TestDatabase;
let store: EventStore;
const running: LogProcessor[] = [];

beforeAll(async () => {
  db = await createTestDatabase('processor');
  store = new EventStore(db.pool);
  // The projection's read model: deliberately no unique key, so a duplicate would show.
  await db.pool.query(
    'CREATE TABLE projected (event_id uuid NOT NULL, processor text NOT NULL, instance text NOT NULL)',
  );
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await db?.drop();
});

function processor(name: string, mode: ProcessorMode, options: Partial<ProcessorOptions> = {}) {
  const p = new LogProcessor(
    store,
    {
      name,
      connectionString: db.url,
      pollIntervalMs: 50,
      lockRetryMs: 50,
      retryDelayMs: 20,
      maxRetryDelayMs: 100,
      ...options,
    },
    mode,
  );
  running.push(p);
  return p;
}

/** A projection that writes one row per event, tagged with the instance that handled it. */
function projection(name: string, instance: string): ProcessorMode {
  return {
    kind: 'projection',
    handle: async (events: RecordedEvent[], client: PoolClient) => {
      for (const event of events) {
        await client.query(
          'INSERT INTO projected (event_id, processor, instance) VALUES ($1, $2, $3)',
          [event.eventId, name, instance],
        );
      }
    },
  };
}

/** Appends n events to a new stream in one transaction; returns their ids in log order. */
async function appendEvents(stream: string, n: number): Promise<string[]> {
  const { events } = await store.append(
    stream,
    Array.from({ length: n }, (_, i) => ({ type: 'Happened', data: { i } })),
    'no_stream',
  );
  return events.map((e) => e.eventId);
}

/** Waits until the global log (from the start) has these events below the watermark. */
async function readable(eventIds: string[]): Promise<RecordedEvent[]> {
  return eventually(async () => {
    const log = await store.readAll(LOG_START, 10_000);
    const found = eventIds.map((id) => log.find((e) => e.eventId === id));
    expect(found.every(Boolean)).toBe(true);
    return found as RecordedEvent[];
  });
}

/**
 * Puts a processor's checkpoint at the end of the log as it is now, so that a test sees only its
 * own events (every earlier test waited for its events to be readable).
 */
async function startAtEndOfLog(name: string): Promise<LogPosition> {
  const log = await store.readAll(LOG_START, 10_000);
  const start = log.length > 0 ? positionOf(log.at(-1)!) : LOG_START;
  await checkpoints.store(db.pool, name, start);
  return start;
}

async function projectedRows(name: string): Promise<{ event_id: string; instance: string }[]> {
  const { rows } = await db.pool.query<{ event_id: string; instance: string }>(
    'SELECT event_id, instance FROM projected WHERE processor = $1',
    [name],
  );
  return rows;
}

const sorted = (ids: string[]) => [...ids].sort();

describe('LogProcessor in projection mode', () => {
  it('rolls back a failed batch with its checkpoint, and applies each event once after recovery', async () => {
    const name = 'projection-failure';
    const start = await startAtEndOfLog(name);
    const ids = await appendEvents('failure-1', 10);
    const events = await readable(ids);
    let failures = 1;
    const p = processor(name, {
      kind: 'projection',
      handle: async (batch, client) => {
        await projection(name, 'single').handle(batch, client);
        // Fail after the rows were written: they must disappear with the transaction.
        if (failures > 0) {
          failures -= 1;
          throw new Error('handler failed');
        }
      },
    });

    await expect(p.catchUp()).rejects.toThrow('handler failed');
    expect(await projectedRows(name)).toEqual([]);
    expect(await p.position()).toEqual(start);

    // 10 events, one row each.
    expect(await p.catchUp()).toBe(10);
    expect(sorted((await projectedRows(name)).map((r) => r.event_id))).toEqual(sorted(ids));
    expect(await p.position()).toEqual(positionOf(events[9]!));
    // Caught up: nothing more to do, nothing written twice.
    expect(await p.catchUp()).toBe(0);
    expect(await projectedRows(name)).toHaveLength(10);
  });

  it('keeps the batches before a failing one and resumes after them', async () => {
    const name = 'projection-midway';
    await startAtEndOfLog(name);
    const ids = await appendEvents('midway-1', 10);
    const events = await readable(ids);
    let calls = 0;
    const p = processor(
      name,
      {
        kind: 'projection',
        handle: async (batch, client) => {
          calls += 1;
          await projection(name, 'single').handle(batch, client);
          if (calls === 2) throw new Error('second batch fails');
        },
      },
      { batchSize: 4 },
    );
    await expect(p.catchUp()).rejects.toThrow('second batch fails');
    // Batch 1 (events 1-4) committed with its checkpoint; batch 2 (events 5-8) rolled back.
    expect(sorted((await projectedRows(name)).map((r) => r.event_id))).toEqual(
      sorted(ids.slice(0, 4)),
    );
    expect(await p.position()).toEqual(positionOf(events[3]!));
    // Resumes with events 5-8, then 9-10: 6 more, 10 rows in all, each event once.
    expect(await p.catchUp()).toBe(6);
    expect(sorted((await projectedRows(name)).map((r) => r.event_id))).toEqual(sorted(ids));
    expect(await p.position()).toEqual(positionOf(events[9]!));
  });

  it('recovers by itself when running, and reports the error', async () => {
    const name = 'projection-running';
    await startAtEndOfLog(name);
    const errors: unknown[] = [];
    let failures = 1;
    const p = processor(
      name,
      {
        kind: 'projection',
        handle: async (batch, client) => {
          await projection(name, 'single').handle(batch, client);
          if (failures > 0) {
            failures -= 1;
            throw new Error('transient');
          }
        },
      },
      { onError: (error) => errors.push(error) },
    );
    const ids = await appendEvents('running-1', 5);
    p.start();
    await eventually(async () => expect(await projectedRows(name)).toHaveLength(5));
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('transient');
    await p.stop();
    expect(p.state).toBe('stopped');
    // Each event exactly once, despite the failed first attempt.
    expect(sorted((await projectedRows(name)).map((r) => r.event_id))).toEqual(sorted(ids));
  });
});

describe('LogProcessor single active instance', () => {
  async function advisoryLocks(): Promise<number> {
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return Number(rows[0]!.n);
  }

  it('runs one instance of a name, and the standby takes over from the checkpoint', async () => {
    const name = 'projection-ha';
    await startAtEndOfLog(name);
    const a = processor(name, projection(name, 'a'));
    const b = processor(name, projection(name, 'b'));
    a.start();
    await eventually(() => expect(a.state).toBe('active'));
    b.start();
    await eventually(() => expect(b.state).toBe('standby'));
    // Over several lock retries (50 ms each) the roles stay put.
    for (let i = 0; i < 10; i++) {
      expect([a.state, b.state]).toEqual(['active', 'standby']);
      await sleep(30);
    }
    expect(await advisoryLocks()).toBe(1);

    const first = await appendEvents('ha-1', 5);
    await eventually(async () => expect(await projectedRows(name)).toHaveLength(5));

    await a.stop();
    expect(a.state).toBe('stopped');
    const second = await appendEvents('ha-2', 5);
    await eventually(() => expect(b.state).toBe('active'));
    await eventually(async () => expect(await projectedRows(name)).toHaveLength(10));
    expect(await advisoryLocks()).toBe(1);

    const rows = await projectedRows(name);
    // 5 + 5 events, each exactly once: a handled the first five, b only the second five.
    expect(rows).toHaveLength(10);
    expect(sorted(rows.filter((r) => r.instance === 'a').map((r) => r.event_id))).toEqual(
      sorted(first),
    );
    expect(sorted(rows.filter((r) => r.instance === 'b').map((r) => r.event_id))).toEqual(
      sorted(second),
    );

    await b.stop();
    await eventually(async () => expect(await advisoryLocks()).toBe(0));
  });
});

describe('LogProcessor in at-least-once mode', () => {
  it('stores the checkpoint only after the handler returned', async () => {
    const name = 'relay-order';
    const start = await startAtEndOfLog(name);
    const ids = await appendEvents('alo-1', 7);
    const events = await readable(ids);

    const seen: { batch: string[]; checkpointDuringHandle: LogPosition }[] = [];
    const order: string[] = [];
    const p = processor(
      name,
      {
        kind: 'at-least-once',
        handle: async (batch) => {
          order.push('handle');
          seen.push({
            batch: batch.map((e) => e.eventId),
            checkpointDuringHandle: await checkpoints.load(db.pool, name),
          });
        },
        afterHandled: async () => {
          order.push('afterHandled');
          // Still the old checkpoint while afterHandled runs: the batch is not yet recorded.
          const last = seen.at(-1)!;
          expect(await checkpoints.load(db.pool, name)).toEqual(last.checkpointDuringHandle);
        },
      },
      { batchSize: 3 },
    );
    // 7 events in batches of 3: 3 + 3 + 1.
    expect(await p.catchUp()).toBe(7);
    expect(seen.map((s) => s.batch)).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
    // During each batch the stored checkpoint was the end of the previous batch.
    expect(seen.map((s) => s.checkpointDuringHandle)).toEqual([
      start,
      positionOf(events[2]!),
      positionOf(events[5]!),
    ]);
    expect(order).toEqual([
      'handle',
      'afterHandled',
      'handle',
      'afterHandled',
      'handle',
      'afterHandled',
    ]);
    expect(await p.position()).toEqual(positionOf(events[6]!));
  });

  it('delivers a batch again when the handler failed, never loses it', async () => {
    const name = 'relay-retry';
    const start = await startAtEndOfLog(name);
    const ids = await appendEvents('alo-2', 4);
    const events = await readable(ids);

    const delivered: string[][] = [];
    let fail = true;
    const p = processor(name, {
      kind: 'at-least-once',
      handle: async (batch) => {
        delivered.push(batch.map((e) => e.eventId));
        if (fail) {
          fail = false;
          throw new Error('broker unavailable');
        }
      },
    });
    await expect(p.catchUp()).rejects.toThrow('broker unavailable');
    expect(await p.position()).toEqual(start);
    expect(await p.catchUp()).toBe(4);
    // The same four events twice: once failed, once acknowledged.
    expect(delivered).toEqual([ids, ids]);
    expect(await p.position()).toEqual(positionOf(events[3]!));
  });

  it('follows new events when started, woken by notifications', async () => {
    const name = 'relay-live';
    await startAtEndOfLog(name);
    const delivered: string[] = [];
    // Polls only every minute: within this test only a notification can wake it.
    const p = processor(
      name,
      {
        kind: 'at-least-once',
        handle: async (batch) => void delivered.push(...batch.map((e) => e.eventId)),
      },
      { pollIntervalMs: 60_000 },
    );
    p.start();
    await eventually(() => expect(p.state).toBe('active'));
    const ids = [...(await appendEvents('live-1', 2)), ...(await appendEvents('live-2', 3))];
    // The appends' own notifications may come while another session's older transaction still
    // holds the watermark below them (the server is shared with other test files); once they are
    // readable, one more notification, as the next append would send, must bring them in.
    await readable(ids);
    await db.pool.query('NOTIFY park_events');
    await eventually(() => expect(sorted(delivered)).toEqual(sorted(ids)), 10_000);
    expect(p.state).toBe('active');
  });
});
