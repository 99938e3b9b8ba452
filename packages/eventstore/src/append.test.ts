import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@park/testing';
import { WrongExpectedVersionError } from './errors';
import { EventStore } from './event-store';
import type { ExpectedVersion, NewEvent } from './types';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('append');
  store = new EventStore(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

const stream = (name: string) => `${name}-${randomUUID()}`;
const event = (n: number): NewEvent => ({ type: 'Happened', data: { n } });

async function countEvents(): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0]!.n);
}

/** Appends, expects a WrongExpectedVersionError and checks that no row was written. */
async function expectRejected(
  streamId: string,
  expected: ExpectedVersion,
  actual: number,
): Promise<void> {
  const before = await countEvents();
  const error = await store.append(streamId, [event(1), event(2)], expected).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  const conflict = error as WrongExpectedVersionError;
  expect(conflict.streamId).toBe(streamId);
  expect(conflict.expected).toBe(expected);
  expect(conflict.actual).toBe(actual);
  expect(await countEvents()).toBe(before);
}

describe('expected version', () => {
  it("'no_stream' creates a new stream", async () => {
    const id = stream('new');
    const result = await store.append(id, [event(1)], 'no_stream');
    expect(result.nextVersion).toBe(1);
    expect((await store.readStream(id)).map((e) => e.data)).toEqual([{ n: 1 }]);
  });

  it("'no_stream' on an existing stream fails and writes nothing", async () => {
    const id = stream('exists');
    await store.append(id, [event(1), event(2), event(3)], 'no_stream');
    await expectRejected(id, 'no_stream', 3);
    expect(await store.streamVersion(id)).toBe(3);
  });

  it("'stream_exists' on a missing stream fails and writes nothing", async () => {
    const id = stream('missing');
    await expectRejected(id, 'stream_exists', 0);
    expect(await store.readStream(id)).toEqual([]);
  });

  it("'stream_exists' appends to an existing stream", async () => {
    const id = stream('existing');
    await store.append(id, [event(1)], 'no_stream');
    const result = await store.append(id, [event(2)], 'stream_exists');
    expect(result.nextVersion).toBe(2);
  });

  it('an exact version appends only at that version', async () => {
    const id = stream('exact');
    await store.append(id, [event(1), event(2)], 'no_stream');
    // The stream is at 2: 1 is behind, 3 is ahead, both fail.
    await expectRejected(id, 1, 2);
    await expectRejected(id, 3, 2);
    const result = await store.append(id, [event(3)], 2);
    expect(result.nextVersion).toBe(3);
    // Exact 0 means "no stream yet".
    await expectRejected(id, 0, 3);
    const fresh = stream('exact-zero');
    expect((await store.append(fresh, [event(1)], 0)).nextVersion).toBe(1);
  });

  it("'any' appends whatever the stream's version", async () => {
    const id = stream('any');
    expect((await store.append(id, [event(1)], 'any')).nextVersion).toBe(1);
    expect((await store.append(id, [event(2), event(3)], 'any')).nextVersion).toBe(3);
  });

  it.each(['any', 'stream_exists'] as const)(
    "concurrent '%s' appends to one stream all succeed, one after the other",
    async (expected) => {
      const id = stream(`concurrent-${expected}`);
      await store.append(id, [event(0)], 'no_stream');
      const writers = 8;
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(
          Array.from({ length: writers }, (_, i) =>
            store.append(id, [event(round * writers + i + 1)], expected),
          ),
        );
        // Each round takes the 8 versions after the previous round's head: the seed is version
        // 1, round r takes 2 + 8r .. 9 + 8r, in some order.
        expect(results.map((r) => r.nextVersion).sort((a, b) => a - b)).toEqual(
          Array.from({ length: writers }, (_, i) => 2 + round * writers + i),
        );
      }
      // 1 seed + 5 rounds * 8 events = 41 events, versions 1..41, every n exactly once.
      const events = await store.readStream(id);
      expect(events.map((e) => e.streamVersion)).toEqual(
        Array.from({ length: 41 }, (_, i) => i + 1),
      );
      expect(events.map((e) => e.data.n as number).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 41 }, (_, i) => i),
      );
    },
  );

  it('rejects a version that is not a version, and an empty append', async () => {
    const id = stream('invalid');
    const before = await countEvents();
    await expect(store.append(id, [event(1)], -1)).rejects.toThrow(RangeError);
    await expect(store.append(id, [event(1)], 1.5)).rejects.toThrow(RangeError);
    await expect(store.append(id, [], 'any')).rejects.toThrow(/no events/);
    expect(await countEvents()).toBe(before);
  });
});

describe('multi-event appends and readStream', () => {
  it('gives the events of one append consecutive versions and increasing positions', async () => {
    const id = stream('multi');
    await store.append(id, [event(1), event(2)], 'no_stream');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const result = await store.append(
      id,
      ids.map((eventId, i) => ({ eventId, type: 'Happened', data: { n: 3 + i } })),
      2,
    );
    // After version 2, three events take 3, 4 and 5.
    expect(result.nextVersion).toBe(5);
    expect(result.events.map((e) => e.streamVersion)).toEqual([3, 4, 5]);
    expect(result.events.map((e) => e.eventId)).toEqual(ids);
    const positions = result.events.map((e) => e.globalPosition);
    expect(positions[1]! - positions[0]!).toBe(1n);
    expect(positions[2]! - positions[1]!).toBe(1n);
    // One statement, one transaction.
    expect(new Set(result.events.map((e) => e.transactionId)).size).toBe(1);
  });

  it('reads a stream in version order, with afterVersion and limit', async () => {
    const id = stream('order');
    const other = stream('other');
    // Interleave another stream so that the stream's rows are not adjacent in the table.
    for (let n = 1; n <= 6; n++) {
      await store.append(id, [event(n)], n - 1);
      await store.append(other, [event(100 + n)], 'any');
    }
    const all = await store.readStream(id);
    expect(all.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.every((e) => e.streamId === id && e.type === 'Happened')).toBe(true);
    const page = await store.readStream(id, { afterVersion: 2, limit: 3 });
    expect(page.map((e) => e.streamVersion)).toEqual([3, 4, 5]);
    expect(await store.readStream(id, { afterVersion: 6 })).toEqual([]);
  });

  it('returns what was appended: ids, data, metadata, schema version', async () => {
    const id = stream('roundtrip');
    const eventId = randomUUID();
    await store.append(
      id,
      [
        {
          eventId,
          type: 'Measured',
          schemaVersion: 2,
          data: { value: 12.5, tags: ['a', 'b'], nested: { ok: true } },
          metadata: { correlationId: 'c-1', actor: 'tester' },
        },
      ],
      'no_stream',
    );
    const [read] = await store.readStream(id);
    expect(read).toMatchObject({
      eventId,
      streamId: id,
      streamVersion: 1,
      type: 'Measured',
      schemaVersion: 2,
      data: { value: 12.5, tags: ['a', 'b'], nested: { ok: true } },
      metadata: { correlationId: 'c-1', actor: 'tester' },
    });
    expect(read!.recordedAt).toBeInstanceOf(Date);
  });

  it('appends inside the caller transaction and writes nothing when it rolls back', async () => {
    const id = stream('tx');
    const before = await countEvents();
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await store.append(id, [event(1), event(2)], 'no_stream', { client });
      // Visible inside the transaction, not outside it.
      expect(await store.readStream(id, { client })).toHaveLength(2);
      expect(await store.readStream(id)).toHaveLength(0);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await countEvents()).toBe(before);
    expect(await store.streamVersion(id)).toBe(0);
  });
});

it('reads several streams at once, each after its own version', async () => {
  const a = stream('many-a');
  const b = stream('many-b');
  const empty = stream('many-empty');
  await store.append(a, [event(1), event(2), event(3)], 'no_stream');
  await store.append(b, [event(10)], 'no_stream');
  const read = await store.readStreams([
    { streamId: a, afterVersion: 1 },
    { streamId: b },
    { streamId: empty },
  ]);
  expect(read.get(a)!.map((e) => [e.streamVersion, e.data])).toEqual([
    [2, { n: 2 }],
    [3, { n: 3 }],
  ]);
  expect(read.get(b)!.map((e) => e.streamVersion)).toEqual([1]);
  expect(read.has(empty)).toBe(false);
  expect(await store.readStreams([])).toEqual(new Map());
});
