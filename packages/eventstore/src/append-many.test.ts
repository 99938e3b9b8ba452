import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@park/testing';
import { WrongExpectedVersionError } from './errors';
import { EventStore } from './event-store';
import { inTransaction } from './pool';
import type { NewEvent } from './types';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('append_many');
  store = new EventStore(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

const stream = (name: string) => `${name}-${randomUUID()}`;
const event = (n: number): NewEvent => ({
  type: 'Happened',
  data: { n, text: 'a "quoted" \\ text' },
});

async function countEvents(): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0]!.n);
}

describe('appendMany', () => {
  it('appends to several streams in one statement, each at its own versions, in the given order', async () => {
    const a = stream('a');
    const b = stream('b');
    await store.append(b, [event(1), event(2)], 'no_stream');
    const results = await store.appendMany([
      { streamId: a, events: [event(10), event(11)], expected: 'no_stream' },
      { streamId: b, events: [event(3)], expected: 2 },
    ]);
    expect(results.map((r) => r.nextVersion)).toEqual([2, 3]);
    expect(results[0]!.events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect((await store.readStream(a)).map((e) => e.data)).toEqual([
      { n: 10, text: 'a "quoted" \\ text' },
      { n: 11, text: 'a "quoted" \\ text' },
    ]);
    expect((await store.readStream(b)).map((e) => [e.streamVersion, e.data.n])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const positions = results.flatMap((r) => r.events.map((e) => e.globalPosition));
    expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
    // One transaction: every event carries the same transaction id.
    expect(new Set(results.flatMap((r) => r.events.map((e) => e.transactionId))).size).toBe(1);
  });

  it('keeps the metadata and the trace of each event', async () => {
    const a = stream('meta');
    await store.appendMany([
      {
        streamId: a,
        events: [{ ...event(1), metadata: { actor: 'tester', correlationId: 'c-1' } }],
        expected: 'any',
      },
    ]);
    expect((await store.readStream(a))[0]!.metadata).toMatchObject({
      actor: 'tester',
      correlationId: 'c-1',
    });
  });

  it.each([
    ['no_stream', 1],
    ['stream_exists', 0],
    [5, 1],
  ] as const)(
    'writes nothing when one expectation (%s) does not hold, and names that stream',
    async (expected, actual) => {
      const good = stream('good');
      const bad = stream('bad');
      if (actual > 0) await store.append(bad, [event(1)], 'no_stream');
      const before = await countEvents();
      const error = await store
        .appendMany([
          { streamId: good, events: [event(1)], expected: 'no_stream' },
          { streamId: bad, events: [event(2)], expected },
        ])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamId: bad, expected, actual });
      expect(await countEvents()).toBe(before);
      expect(await store.streamVersion(good)).toBe(0);
    },
  );

  it('lets one of two concurrent appends at the same version win; the other writes nothing', async () => {
    const shared = stream('shared');
    await store.append(shared, [event(1)], 'no_stream');
    const others = [stream('x'), stream('y')];
    const outcomes = await Promise.allSettled(
      others.map((other) =>
        inTransaction(db.pool, (client) =>
          store.appendMany(
            [
              { streamId: other, events: [event(1)], expected: 'no_stream' },
              { streamId: shared, events: [event(2)], expected: 1 },
            ],
            { client },
          ),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(WrongExpectedVersionError);
    expect(await store.streamVersion(shared)).toBe(2);
    const written = await Promise.all(others.map((other) => store.streamVersion(other)));
    expect(written.sort()).toEqual([0, 1]);
  });

  it('refuses a stream given twice and a stream without events', async () => {
    const a = stream('twice');
    await expect(
      store.appendMany([
        { streamId: a, events: [event(1)], expected: 'any' },
        { streamId: a, events: [event(2)], expected: 'any' },
      ]),
    ).rejects.toThrow(/given twice/);
    await expect(store.appendMany([{ streamId: a, events: [], expected: 'any' }])).rejects.toThrow(
      /no events/,
    );
    expect(await store.appendMany([])).toEqual([]);
  });
});
