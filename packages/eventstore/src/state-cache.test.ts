import { createTestDatabase, type TestDatabase } from '@park/testing';
import type { Decider, SnapshotPolicy } from './decider';
import { EventStore } from './event-store';
import { StreamStateCache } from './state-cache';
import { StreamWriter } from './stream-writer';
import type { RecordedEvent } from './types';

// A tally: Add commands of positive amounts, the state their sum and how many there were.
type Command = { type: 'Add'; amount: number };
type Event = { type: 'Added'; amount: number };
interface State {
  total: number;
  count: number;
}

const tally: Decider<Command, Event, State> = {
  initialState: () => ({ total: 0, count: 0 }),
  evolve: (state, event) => ({ total: state.total + event.amount, count: state.count + 1 }),
  decide: (command) => (command.amount === 0 ? [] : [{ type: 'Added', amount: command.amount }]),
};

const every3: SnapshotPolicy<State> = {
  every: 3,
  stateVersion: 1,
  serialize: (state) => ({ total: state.total, count: state.count }),
  deserialize: (json) => ({ total: json.total as number, count: json.count as number }),
};

/** Counts the events read back from the log, which the cache exists to avoid. */
class CountingStore extends EventStore {
  eventsRead = 0;

  override async readStreams(
    streams: readonly { streamId: string; afterVersion?: number }[],
    db?: Parameters<EventStore['readStreams']>[1],
  ): Promise<Map<string, RecordedEvent[]>> {
    const read = await super.readStreams(streams, db);
    for (const events of read.values()) this.eventsRead += events.length;
    return read;
  }
}

let db: TestDatabase;
let store: CountingStore;

beforeAll(async () => {
  db = await createTestDatabase('state_cache');
  store = new CountingStore(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

const noReadModel = async () => undefined;

function writer(cachedStreams?: number) {
  return new StreamWriter(store, tally, noReadModel, {
    snapshots: every3,
    ...(cachedStreams === undefined ? {} : { cachedStreams }),
  });
}

async function add(w: StreamWriter<Command, Event, State>, streamId: string, amount: number) {
  return w.handle(streamId, { type: 'Add', amount });
}

async function snapshotVersion(streamId: string): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ stream_version: string }>(
    'SELECT stream_version FROM stream_snapshots WHERE stream_id = $1',
    [streamId],
  );
  return rows[0] ? Number(rows[0].stream_version) : undefined;
}

describe('StreamStateCache', () => {
  it('drops the least recently used stream beyond its capacity', () => {
    const cache = new StreamStateCache<number>(2, false);
    cache.set('a', { state: 1, version: 1, sinceSnapshot: 1 });
    cache.set('b', { state: 2, version: 1, sinceSnapshot: 1 });
    // Reading "a" makes "b" the least recently used one.
    expect(cache.get('a')?.state).toBe(1);
    cache.set('c', { state: 3, version: 1, sinceSnapshot: 1 });
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a')?.state, cache.get('c')?.state]).toEqual([1, 3]);
    expect(cache.size).toBe(2);
  });

  it('refuses a capacity below one stream', () => {
    expect(() => new StreamStateCache(0)).toThrow(
      'a stream state cache holds at least 1 stream, not 0',
    );
  });

  it('freezes cached states deeply, so a change in place fails loudly', () => {
    const cache = new StreamStateCache<{ slots: Record<string, { value: string }> }>(1, true);
    const state = { slots: { '00:00': { value: '1.5' } } };
    cache.set('meter-1', { state, version: 1, sinceSnapshot: 1 });
    expect(() => {
      state.slots['00:00']!.value = '2';
    }).toThrow(TypeError);
    expect(cache.get('meter-1')?.state.slots['00:00']?.value).toBe('1.5');
  });
});

describe('StreamWriter with a state cache', () => {
  it('reads no events back for a stream it wrote last, and decides on the same state', async () => {
    const cached = writer(10);
    await add(cached, 'tally-1', 5);
    await add(cached, 'tally-1', 7);
    const before = store.eventsRead;
    const outcome = await add(cached, 'tally-1', 11);
    // 5 + 7 + 11 = 23 over 3 events, without reading the first two back.
    expect(outcome.state).toEqual({ total: 23, count: 3 });
    expect(outcome.version).toBe(3);
    expect(store.eventsRead).toBe(before);
    expect(cached.cachedStreamCount).toBe(1);
  });

  it('applies what another writer appended after the cached version', async () => {
    const cached = writer(10);
    const otherReplica = writer();
    await add(cached, 'tally-2', 2);
    await add(otherReplica, 'tally-2', 3);
    await add(otherReplica, 'tally-2', 4);
    const outcome = await add(cached, 'tally-2', 1);
    // 2 (cached) + 3 + 4 (read from the log) + 1 = 10 at version 4.
    expect(outcome.state).toEqual({ total: 10, count: 4 });
    expect(outcome.version).toBe(4);
  });

  it('takes snapshots at the same versions as a writer without a cache', async () => {
    const cached = writer(10);
    const plain = writer();
    const versionsCached: (number | undefined)[] = [];
    const versionsPlain: (number | undefined)[] = [];
    for (let i = 1; i <= 7; i++) {
      await add(cached, 'tally-3', i);
      versionsCached.push(await snapshotVersion('tally-3'));
      await add(plain, 'tally-4', i);
      versionsPlain.push(await snapshotVersion('tally-4'));
    }
    // Every 3 events since the last snapshot: at versions 3 and 6.
    const expected = [undefined, undefined, 3, 3, 3, 6, 6];
    expect(versionsCached).toEqual(expected);
    expect(versionsPlain).toEqual(expected);
  });

  it('recovers when the log is behind the cache (a store reset under it)', async () => {
    const cached = writer(10);
    await add(cached, 'tally-5', 8);
    await add(cached, 'tally-5', 9);
    // The append-only trigger forbids deleting events; a reset truncates them.
    await db.pool.query('TRUNCATE events, stream_snapshots');
    const outcome = await add(cached, 'tally-5', 6);
    // The cached state (17 at version 2) is gone with the log: the stream starts again at 6.
    expect(outcome.state).toEqual({ total: 6, count: 1 });
    expect(outcome.version).toBe(1);
  });

  it("queues one process's concurrent commands on a stream instead of failing them", async () => {
    // One attempt each: a command that read a version another one appended past would fail.
    const cached = new StreamWriter(store, tally, noReadModel, {
      snapshots: every3,
      cachedStreams: 10,
      maxAttempts: 1,
    });
    const amounts = Array.from({ length: 20 }, (_, i) => i + 1);
    await Promise.all(amounts.map((amount) => add(cached, 'tally-7', amount)));
    const outcome = await add(cached, 'tally-7', 100);
    // 1 + 2 + ... + 20 = 20 * 21 / 2 = 210, plus 100, over 21 events.
    expect(outcome.state).toEqual({ total: 310, count: 21 });
    expect(outcome.version).toBe(21);
  });

  it('keeps the state of a command that decided nothing', async () => {
    const cached = writer(10);
    await add(cached, 'tally-6', 4);
    await add(cached, 'tally-6', 0);
    const before = store.eventsRead;
    const outcome = await add(cached, 'tally-6', 1);
    expect(outcome.state).toEqual({ total: 5, count: 2 });
    expect(store.eventsRead).toBe(before);
  });
});
