import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '@park/testing';
import { WrongExpectedVersionError } from './errors';
import { EventStore } from './event-store';
import type { NewEvent } from './types';

/** Resolves for everyone once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

const ROUNDS = 100;

let db: TestDatabase;
let store: EventStore;
let first: PoolClient;
let second: PoolClient;

beforeAll(async () => {
  db = await createTestDatabase('concurrency');
  store = new EventStore(db.pool);
  first = await db.pool.connect();
  second = await db.pool.connect();
});

afterAll(async () => {
  first?.release();
  second?.release();
  await db?.drop();
});

describe('optimistic concurrency between two connections', () => {
  it('uses two different server sessions', async () => {
    const pid = async (client: PoolClient) =>
      (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    expect(await pid(first)).not.toBe(await pid(second));
  });

  it(`lets exactly one of two writers that read the same version win, ${ROUNDS} rounds`, async () => {
    const winners = new Map<string, { seeded: number; eventIds: string[] }>();

    for (let round = 0; round < ROUNDS; round++) {
      const streamId = `race-${round}-${randomUUID()}`;
      // Rounds start from versions 0, 1 and 2 in turn, so the exact version 0 (a new stream)
      // is raced as well as an existing stream's head.
      const seeded = round % 3;
      if (seeded > 0) {
        await store.append(
          streamId,
          Array.from({ length: seeded }, (_, i) => ({ type: 'Seeded', data: { i } })),
          'no_stream',
        );
      }

      const arrive = barrier(2);
      const writer = async (client: PoolClient, name: string) => {
        const read = await store.readStream(streamId, { client });
        const version = read.length === 0 ? 0 : read[read.length - 1]!.streamVersion;
        // Both writers have read before either appends.
        await arrive();
        const events: NewEvent[] = [
          { eventId: randomUUID(), type: 'Written', data: { writer: name, n: 1 } },
          { eventId: randomUUID(), type: 'Written', data: { writer: name, n: 2 } },
        ];
        const result = await store.append(streamId, events, version, { client });
        return { name, version, events, result };
      };

      const outcomes = await Promise.allSettled([writer(first, 'first'), writer(second, 'second')]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);

      const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof writer>>>).value;
      // Both read the seeded head, so the winner appended 2 events after it.
      expect(winner.version).toBe(seeded);
      expect(winner.result.nextVersion).toBe(seeded + 2);

      const error = (lost[0] as PromiseRejectedResult).reason as unknown;
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      const conflict = error as WrongExpectedVersionError;
      expect(conflict.streamId).toBe(streamId);
      expect(conflict.expected).toBe(seeded);
      // Either the unique constraint caught the race (actual unknown) or the loser's statement
      // already saw the winner's head (seeded + 2).
      if (conflict.actual !== undefined) expect(conflict.actual).toBe(seeded + 2);

      winners.set(streamId, { seeded, eventIds: winner.events.map((e) => e.eventId!) });
    }

    // After all rounds every stream holds its seed events followed by the winner's two events,
    // and nothing of the loser's.
    expect(winners.size).toBe(ROUNDS);
    for (const [streamId, { seeded, eventIds }] of winners) {
      const events = await store.readStream(streamId);
      expect(events.map((e) => e.streamVersion)).toEqual(
        Array.from({ length: seeded + 2 }, (_, i) => i + 1),
      );
      expect(events.slice(seeded).map((e) => e.eventId)).toEqual(eventIds);
      expect(events.slice(0, seeded).map((e) => e.type)).toEqual(Array(seeded).fill('Seeded'));
    }
    // Rows written: per round the seed (0, 1 or 2) plus the winner's 2.
    // Seeds over 100 rounds: rounds 0..99 with round % 3 = 1 occur 33 times, = 2 occur 33 times,
    // so 33 * 1 + 33 * 2 = 99 seed events; winners: 100 * 2 = 200; total 299.
    const { rows } = await db.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM events WHERE stream_id LIKE 'race-%'",
    );
    expect(Number(rows[0]!.n)).toBe(299);
  });
});
