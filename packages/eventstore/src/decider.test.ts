import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@park/testing';
import { CommandHandler, type Decider, type SnapshotPolicy } from './decider';
import { WrongExpectedVersionError } from './errors';
import { EventStore, type AppendOptions, type ReadStreamOptions } from './event-store';
import type { ExpectedVersion, JsonObject, NewEvent, RecordedEvent } from './types';

// A tiny bank account: opened once, deposits and withdrawals of positive amounts, no overdraft.

type Command =
  | { type: 'Open'; owner: string }
  | { type: 'Deposit'; amount: number }
  | { type: 'Withdraw'; amount: number };

type Event =
  | { type: 'Opened'; owner: string }
  | { type: 'Deposited'; amount: number }
  | { type: 'Withdrawn'; amount: number };

interface State {
  open: boolean;
  owner: string | null;
  balance: number;
}

class AccountError extends Error {}

const account: Decider<Command, Event, State> = {
  initialState: () => ({ open: false, owner: null, balance: 0 }),
  evolve(state, event) {
    switch (event.type) {
      case 'Opened':
        return { ...state, open: true, owner: event.owner };
      case 'Deposited':
        return { ...state, balance: state.balance + event.amount };
      case 'Withdrawn':
        return { ...state, balance: state.balance - event.amount };
    }
  },
  decide(command, state) {
    if (command.type === 'Open') {
      if (state.open) throw new AccountError('already open');
      return [{ type: 'Opened', owner: command.owner }];
    }
    if (!state.open) throw new AccountError('not open');
    if (command.amount < 0) throw new AccountError('negative amount');
    // A zero amount changes nothing: no event.
    if (command.amount === 0) return [];
    if (command.type === 'Deposit') return [{ type: 'Deposited', amount: command.amount }];
    if (command.amount > state.balance) {
      throw new AccountError(`insufficient funds: ${state.balance} < ${command.amount}`);
    }
    return [{ type: 'Withdrawn', amount: command.amount }];
  },
};

/** Given past events, when a command: the new events, or the domain error. */
function given(history: Event[]) {
  const state = history.reduce(account.evolve, account.initialState());
  return {
    state,
    when: (command: Command) => {
      try {
        return { events: account.decide(command, state) };
      } catch (error) {
        return { error };
      }
    },
  };
}

describe('account decider (pure)', () => {
  it('opens a new account', () => {
    expect(given([]).when({ type: 'Open', owner: 'ada' })).toEqual({
      events: [{ type: 'Opened', owner: 'ada' }],
    });
  });

  it('refuses to open an account twice', () => {
    const { error } = given([{ type: 'Opened', owner: 'ada' }]).when({
      type: 'Open',
      owner: 'bob',
    });
    expect(error).toBeInstanceOf(AccountError);
    expect((error as Error).message).toBe('already open');
  });

  it('refuses deposits to an account that is not open', () => {
    expect(given([]).when({ type: 'Deposit', amount: 5 }).error).toBeInstanceOf(AccountError);
  });

  it('allows a withdrawal up to the balance', () => {
    const history: Event[] = [
      { type: 'Opened', owner: 'ada' },
      { type: 'Deposited', amount: 30 },
      { type: 'Withdrawn', amount: 10 },
    ];
    // 30 - 10 = 20 available: withdrawing exactly 20 is allowed, 21 is not.
    expect(given(history).state.balance).toBe(20);
    expect(given(history).when({ type: 'Withdraw', amount: 20 })).toEqual({
      events: [{ type: 'Withdrawn', amount: 20 }],
    });
    const { error } = given(history).when({ type: 'Withdraw', amount: 21 });
    expect((error as Error).message).toBe('insufficient funds: 20 < 21');
  });

  it('decides nothing for a zero amount', () => {
    expect(given([{ type: 'Opened', owner: 'ada' }]).when({ type: 'Deposit', amount: 0 })).toEqual({
      events: [],
    });
  });
});

// --- CommandHandler against PostgreSQL -------------------------------------------------------

/**
 * An event store whose readStream holds every caller at a barrier until `parties` of them have
 * read, so that concurrent command handlers certainly load the same version; counts conflicts.
 */
class RacingStore extends EventStore {
  conflicts = 0;
  private waiting: (() => void)[] = [];
  private parties = 0;

  race(parties: number): void {
    this.parties = parties;
  }

  override async readStream(
    streamId: string,
    options?: ReadStreamOptions,
  ): Promise<RecordedEvent[]> {
    const events = await super.readStream(streamId, options);
    if (this.parties > 0) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        if (this.waiting.length === this.parties) {
          this.parties = 0;
          for (const release of this.waiting.splice(0)) release();
        }
      });
    }
    return events;
  }

  override async append(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedVersion,
    options?: AppendOptions,
  ) {
    try {
      return await super.append(streamId, events, expected, options);
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) this.conflicts += 1;
      throw error;
    }
  }
}

const snapshotPolicy = (stateVersion: number): SnapshotPolicy<State> => ({
  every: 10,
  stateVersion,
  serialize: (state) => ({ open: state.open, owner: state.owner, balance: state.balance }),
  deserialize: (json) => ({
    open: json.open as boolean,
    owner: json.owner as string | null,
    balance: json.balance as number,
  }),
});

let db: TestDatabase;
let store: RacingStore;

beforeAll(async () => {
  db = await createTestDatabase('decider');
  store = new RacingStore(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

async function rowsOf(streamId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM events WHERE stream_id = $1',
    [streamId],
  );
  return Number(rows[0]!.n);
}

async function snapshotRow(
  streamId: string,
): Promise<{ stream_version: number; state_version: number; state: JsonObject } | undefined> {
  const { rows } = await db.pool.query<{
    stream_version: string;
    state_version: number;
    state: JsonObject;
  }>('SELECT stream_version, state_version, state FROM stream_snapshots WHERE stream_id = $1', [
    streamId,
  ]);
  const row = rows[0];
  return row && { ...row, stream_version: Number(row.stream_version) };
}

describe('CommandHandler', () => {
  it('appends the decided events and returns the new state and version', async () => {
    const handler = new CommandHandler(store, account);
    const id = `account-${randomUUID()}`;
    const opened = await handler.handle(id, { type: 'Open', owner: 'ada' }, { actor: 'tester' });
    expect(opened).toEqual({
      events: [{ type: 'Opened', owner: 'ada' }],
      state: { open: true, owner: 'ada', balance: 0 },
      version: 1,
    });
    const deposited = await handler.handle(id, { type: 'Deposit', amount: 70 });
    expect(deposited.version).toBe(2);
    expect(deposited.state.balance).toBe(70);
    const stored = await store.readStream(id);
    expect(stored.map((e) => [e.type, e.data])).toEqual([
      ['Opened', { owner: 'ada' }],
      ['Deposited', { amount: 70 }],
    ]);
    expect(stored[0]!.metadata).toEqual({ actor: 'tester' });
  });

  it('makes concurrent commands on one stream all succeed through retries', async () => {
    const handler = new CommandHandler(store, account, { maxAttempts: 10 });
    const id = `account-${randomUUID()}`;
    await handler.handle(id, { type: 'Open', owner: 'ada' });
    store.conflicts = 0;
    store.race(5);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => handler.handle(id, { type: 'Deposit', amount: 10 })),
    );
    // All five loaded version 1 at the barrier: one appended, four had to retry at least once.
    expect(store.conflicts).toBeGreaterThanOrEqual(4);
    // Versions 2..6, one each.
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
    // 5 deposits * 10 = 50.
    const { state, version } = await handler.load(id);
    expect(state.balance).toBe(50);
    expect(version).toBe(6);
    expect(await rowsOf(id)).toBe(6);
  });

  it('gives up with WrongExpectedVersionError after maxAttempts', async () => {
    const handler = new CommandHandler(store, account, { maxAttempts: 1 });
    const id = `account-${randomUUID()}`;
    await handler.handle(id, { type: 'Open', owner: 'ada' });
    store.race(3);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 3 }, () => handler.handle(id, { type: 'Deposit', amount: 10 })),
    );
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(failed).toHaveLength(2);
    for (const f of failed) {
      expect((f as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
    }
    // 1 open + the 1 deposit that won.
    expect(await rowsOf(id)).toBe(2);
  });

  it('re-decides on retry: of five concurrent opens, one opens and four are refused', async () => {
    const handler = new CommandHandler(store, account, { maxAttempts: 10 });
    const id = `account-${randomUUID()}`;
    store.race(5);
    const outcomes = await Promise.allSettled(
      ['a', 'b', 'c', 'd', 'e'].map((owner) => handler.handle(id, { type: 'Open', owner })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(4);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AccountError);
    }
    expect(await rowsOf(id)).toBe(1);
  });

  it('writes nothing for a command that decide rejects, or that decides no events', async () => {
    const handler = new CommandHandler(store, account);
    const id = `account-${randomUUID()}`;
    await handler.handle(id, { type: 'Open', owner: 'ada' });
    await handler.handle(id, { type: 'Deposit', amount: 30 });
    await expect(handler.handle(id, { type: 'Withdraw', amount: 31 })).rejects.toThrow(
      'insufficient funds: 30 < 31',
    );
    const noop = await handler.handle(id, { type: 'Deposit', amount: 0 });
    expect(noop).toEqual({
      events: [],
      state: { open: true, owner: 'ada', balance: 30 },
      version: 2,
    });
    expect(await rowsOf(id)).toBe(2);
    const never = `account-${randomUUID()}`;
    await expect(handler.handle(never, { type: 'Withdraw', amount: 1 })).rejects.toThrow(
      'not open',
    );
    expect(await rowsOf(never)).toBe(0);
  });

  it('works with a decider written as a class whose methods use this', async () => {
    class AccountDecider implements Decider<Command, Event, State> {
      private readonly rules = account;
      initialState(): State {
        return this.rules.initialState();
      }
      evolve(state: State, event: Event): State {
        return this.rules.evolve(state, event);
      }
      decide(command: Command, state: State): Event[] {
        return this.rules.decide(command, state);
      }
    }
    const handler = new CommandHandler(store, new AccountDecider());
    const id = `account-${randomUUID()}`;
    await handler.handle(id, { type: 'Open', owner: 'ada' });
    const result = await handler.handle(id, { type: 'Deposit', amount: 5 });
    expect(result.state).toEqual({ open: true, owner: 'ada', balance: 5 });
    expect(await rowsOf(id)).toBe(2);
  });
});

describe('CommandHandler snapshots', () => {
  /** Opens the account and deposits k at each version k = 2..25. */
  async function build(handler: CommandHandler<Command, Event, State>, id: string): Promise<void> {
    await handler.handle(id, { type: 'Open', owner: 'ada' });
    for (let k = 2; k <= 25; k++) await handler.handle(id, { type: 'Deposit', amount: k });
  }
  // Sum of 2..25 = (25 * 26) / 2 - 1 = 324; of 2..20 = (20 * 21) / 2 - 1 = 209.
  const BALANCE_AT_25 = 324;
  const BALANCE_AT_20 = 209;

  it('snapshots every 10 events and loads by replaying only the events after it', async () => {
    const handler = new CommandHandler(store, account, { snapshots: snapshotPolicy(2) });
    const id = `account-${randomUUID()}`;
    await build(handler, id);
    // One event per command: a snapshot is taken when 10 events were replayed plus appended
    // since the last one, at versions 10 and 20; 21..25 are 5 events, not enough for a third.
    expect(await snapshotRow(id)).toEqual({
      stream_version: 20,
      state_version: 2,
      state: { open: true, owner: 'ada', balance: BALANCE_AT_20 },
    });
    const loaded = await handler.load(id);
    expect(loaded).toEqual({
      state: { open: true, owner: 'ada', balance: BALANCE_AT_25 },
      version: 25,
      replayed: 5,
    });
  });

  it('starts from the snapshot state rather than from the first event', async () => {
    const handler = new CommandHandler(store, account, { snapshots: snapshotPolicy(2) });
    const id = `account-${randomUUID()}`;
    await build(handler, id);
    // Mark the snapshot: a load that used it is off by exactly 1000.
    await db.pool.query(
      `UPDATE stream_snapshots SET state = jsonb_set(state, '{balance}', to_jsonb($2::int))
       WHERE stream_id = $1`,
      [id, BALANCE_AT_20 + 1000],
    );
    const loaded = await handler.load(id);
    expect(loaded.state.balance).toBe(BALANCE_AT_25 + 1000);
    expect(loaded.replayed).toBe(5);
  });

  it('ignores a snapshot of an older state version and replaces it', async () => {
    const handler = new CommandHandler(store, account, { snapshots: snapshotPolicy(2) });
    const id = `account-${randomUUID()}`;
    await build(handler, id);
    // A snapshot from the state's previous shape, at the stream's head, with a balance that
    // would show if it were used.
    await db.pool.query(
      `UPDATE stream_snapshots SET state_version = 1, stream_version = 25,
         state = '{"cents": 999999}'::jsonb WHERE stream_id = $1`,
      [id],
    );
    const loaded = await handler.load(id);
    expect(loaded).toEqual({
      state: { open: true, owner: 'ada', balance: BALANCE_AT_25 },
      version: 25,
      replayed: 25,
    });
    // The next command replays 25 + appends 1 >= 10 events: a current snapshot replaces the old.
    await handler.handle(id, { type: 'Deposit', amount: 26 });
    expect(await snapshotRow(id)).toEqual({
      stream_version: 26,
      state_version: 2,
      // 324 + 26 = 350.
      state: { open: true, owner: 'ada', balance: 350 },
    });
    expect((await handler.load(id)).replayed).toBe(0);
  });

  it('does not snapshot without a policy', async () => {
    const handler = new CommandHandler(store, account);
    const id = `account-${randomUUID()}`;
    await build(handler, id);
    expect(await snapshotRow(id)).toBeUndefined();
    expect((await handler.load(id)).replayed).toBe(25);
  });
});
