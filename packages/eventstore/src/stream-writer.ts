import {
  CommandHandler,
  saveSnapshot,
  toDomainEvent,
  type Decider,
  type DomainEvent,
  type SnapshotPolicy,
} from './decider';
import { WrongExpectedVersionError } from './errors';
import type { EventStore } from './event-store';
import { inTransaction } from './pool';
import { StreamStateCache } from './state-cache';
import { StreamLocks } from './stream-locks';
import type { EventMetadata, JsonObject, RecordedEvent } from './types';
import type { Pool, PoolClient } from 'pg';

export type Queryable = Pick<Pool | PoolClient, 'query'>;

/** What a read-model projection needs of an event: inline (just appended) or from the log. */
export type ProjectableEvent = Pick<RecordedEvent, 'streamId' | 'streamVersion' | 'type' | 'data'>;

/** Applies events to read models on the given client (the append's transaction, or a processor's). */
export type Projector = (db: Queryable, events: ProjectableEvent[]) => Promise<void>;

export interface StreamWriterOptions<State> {
  /** Read-decide-append attempts before the last version conflict is thrown to the caller. */
  maxAttempts?: number;
  snapshots?: SnapshotPolicy<State>;
  /**
   * Keeps the committed state of up to this many recently written streams in memory (see
   * StreamStateCache): a command then reads only the events after the cached version instead of
   * the snapshot and the events since it. Off when absent. With it, this writer's commands on one
   * stream also queue behind each other (StreamLocks) instead of conflicting: a busy stream's
   * overlapping commands would otherwise each fail, drop the cached states of their transaction
   * and reload them. Such a writer's `decide` must not write the same streams through it.
   */
  cachedStreams?: number;
}

export interface Decision<Event, Result> {
  events: Event[];
  result: Result;
}

export interface WriteOutcome<Event, State, Result> {
  events: Event[];
  state: State;
  version: number;
  result: Result;
}

/**
 * CommandHandler's read-decide-append loop, with the append and the read-model projection in ONE
 * transaction: a query right after the command sees its effect, and a decision that reads the
 * read model (history rows) reads it at least as new as the stream version it appends on.
 * (CommandHandler.handle appends on the pool, so it cannot take the projection along; its `load`
 * with snapshots is reused.)
 */
export class StreamWriter<Command, Event extends DomainEvent, State> {
  private readonly handler: CommandHandler<Command, Event, State>;
  private readonly maxAttempts: number;
  private readonly cache?: StreamStateCache<State>;
  private readonly locks?: StreamLocks;

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    private readonly project: Projector,
    private readonly options: StreamWriterOptions<State> = {},
  ) {
    this.handler = new CommandHandler(store, decider, { snapshots: options.snapshots });
    this.maxAttempts = options.maxAttempts ?? 5;
    if (options.cachedStreams !== undefined) {
      this.cache = new StreamStateCache(options.cachedStreams);
      this.locks = new StreamLocks();
    }
  }

  /** Streams whose state is held in memory (0 without a cache). */
  get cachedStreamCount(): number {
    return this.cache?.size ?? 0;
  }

  load(streamId: string): Promise<{ state: State; version: number; replayed: number }> {
    return this.handler.load(streamId);
  }

  /** The decider's own decision for a command. */
  handle(
    streamId: string,
    command: Command,
    metadata: EventMetadata = {},
  ): Promise<WriteOutcome<Event, State, undefined>> {
    return this.write(
      streamId,
      async (state) => ({ events: this.decider.decide(command, state), result: undefined }),
      metadata,
    );
  }

  /**
   * Loads the stream, calls `decide` with the state and the transaction's client (to read read
   * models), appends its events at the loaded version and projects them, all in one transaction;
   * on a version conflict does it again on the new state, up to maxAttempts times.
   */
  async write<Result>(
    streamId: string,
    decide: (state: State, client: PoolClient) => Promise<Decision<Event, Result>>,
    metadata: EventMetadata = {},
  ): Promise<WriteOutcome<Event, State, Result>> {
    const written = await this.writeMany(
      [streamId],
      (_id, state, client) => decide(state, client),
      metadata,
    );
    return written.get(streamId)!;
  }

  /**
   * `write` for several streams in ONE transaction: the streams are loaded together (one
   * snapshot query, one event query), decided one after the other in stream id order, then
   * appended in one statement (rows in stream id order: the same lock order for every such
   * transaction) and projected in one call, and committed together. A stream's `decide` sees the
   * read models as they were before this transaction's events: it must not depend on another
   * stream of the same call. A version conflict on any stream rolls all of them back and does it again on new
   * states, up to maxAttempts times. `decide` must not throw for one stream's domain reasons
   * (that fails them all): return such an answer as the stream's result with no events.
   */
  async writeMany<Result>(
    streamIds: readonly string[],
    decide: (
      streamId: string,
      state: State,
      client: PoolClient,
    ) => Promise<Decision<Event, Result>>,
    metadata: EventMetadata = {},
  ): Promise<Map<string, WriteOutcome<Event, State, Result>>> {
    const ids = [...new Set(streamIds)].sort();
    const release = await this.locks?.acquire(ids);
    try {
      return await this.writeManyHeld(ids, decide, metadata);
    } finally {
      release?.();
    }
  }

  private async writeManyHeld<Result>(
    ids: readonly string[],
    decide: (
      streamId: string,
      state: State,
      client: PoolClient,
    ) => Promise<Decision<Event, Result>>,
    metadata: EventMetadata,
  ): Promise<Map<string, WriteOutcome<Event, State, Result>>> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.loadMany(ids);
      try {
        const decided = await inTransaction(this.store.pool, async (client) => {
          const outcomes: { streamId: string; events: Event[]; result: Result; version: number }[] =
            [];
          for (const streamId of ids) {
            const { state, version } = loaded.get(streamId)!;
            const { events, result } = await decide(streamId, state, client);
            outcomes.push({ streamId, events, result, version });
          }
          const changed = outcomes.filter((outcome) => outcome.events.length > 0);
          if (changed.length === 0) return outcomes;
          const data = changed.map((outcome) => outcome.events.map(toJson));
          const appended = await this.store.appendMany(
            changed.map((outcome, i) => ({
              streamId: outcome.streamId,
              events: outcome.events.map((event, k) => ({
                type: event.type,
                data: data[i]![k]!,
                metadata,
              })),
              expected: outcome.version === 0 ? 'no_stream' : outcome.version,
            })),
            { client },
          );
          await this.project(
            client,
            changed.flatMap((outcome, i) =>
              outcome.events.map((event, k) => ({
                streamId: outcome.streamId,
                streamVersion: appended[i]!.events[k]!.streamVersion,
                type: event.type,
                data: data[i]![k]!,
              })),
            ),
          );
          changed.forEach((outcome, i) => (outcome.version = appended[i]!.nextVersion));
          return outcomes;
        });
        const written = new Map<string, WriteOutcome<Event, State, Result>>();
        for (const outcome of decided) {
          const { state, replayed } = loaded.get(outcome.streamId)!;
          const next = outcome.events.reduce((s, event) => this.decider.evolve(s, event), state);
          let sinceSnapshot = replayed + outcome.events.length;
          if (
            this.options.snapshots &&
            outcome.events.length > 0 &&
            sinceSnapshot >= this.options.snapshots.every
          ) {
            // Only a shortcut: a failed snapshot must not fail a committed command.
            const saved = await saveSnapshot(
              this.store.pool,
              outcome.streamId,
              this.options.snapshots,
              next,
              outcome.version,
            ).then(
              () => true,
              () => false,
            );
            if (saved) sinceSnapshot = 0;
          }
          this.cache?.set(outcome.streamId, {
            state: next,
            version: outcome.version,
            sinceSnapshot,
          });
          written.set(outcome.streamId, {
            events: outcome.events,
            result: outcome.result,
            version: outcome.version,
            state: next,
          });
        }
        return written;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) && !isDeadlock(error)) throw error;
        // A conflict means the log moved on without this process (another replica, or a store
        // reset under it): load these streams afresh rather than trust what is cached.
        for (const streamId of ids) this.cache?.delete(streamId);
        // The last conflict goes to the caller as it is: the API maps it to ABORTED (retry).
        if (attempt >= this.maxAttempts) throw error;
      }
    }
  }

  /**
   * `load` for several streams: the cached ones from memory, the others from their snapshots (one
   * query), and the events after either (one query). `replayed` counts the events since the last
   * snapshot, which decides when the next one is taken.
   */
  private async loadMany(
    streamIds: readonly string[],
  ): Promise<Map<string, { state: State; version: number; replayed: number }>> {
    const policy = this.options.snapshots;
    const starts = new Map<string, { state: State; version: number; sinceSnapshot: number }>();
    const uncached: string[] = [];
    for (const streamId of streamIds) {
      const cached = this.cache?.get(streamId);
      if (cached) starts.set(streamId, cached);
      else uncached.push(streamId);
    }
    if (policy && uncached.length > 0) {
      const { rows } = await this.store.pool.query<{
        stream_id: string;
        stream_version: string;
        state: JsonObject;
      }>(
        `SELECT stream_id, stream_version, state FROM stream_snapshots
         WHERE stream_id = ANY($1::text[]) AND state_version = $2`,
        [uncached, policy.stateVersion],
      );
      for (const row of rows) {
        starts.set(row.stream_id, {
          state: policy.deserialize(row.state),
          version: Number(row.stream_version),
          sinceSnapshot: 0,
        });
      }
    }
    const recorded = await this.store.readStreams(
      streamIds.map((streamId) => ({
        streamId,
        afterVersion: starts.get(streamId)?.version ?? 0,
      })),
    );
    const loaded = new Map<string, { state: State; version: number; replayed: number }>();
    for (const streamId of streamIds) {
      const start = starts.get(streamId);
      const events = recorded.get(streamId) ?? [];
      let state = start?.state ?? this.decider.initialState();
      for (const event of events) state = this.decider.evolve(state, toDomainEvent<Event>(event));
      const version =
        events.length > 0 ? events[events.length - 1]!.streamVersion : (start?.version ?? 0);
      loaded.set(streamId, {
        state,
        version,
        replayed: (start?.sinceSnapshot ?? 0) + events.length,
      });
    }
    return loaded;
  }
}

function isDeadlock(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === '40P01';
}

/**
 * The event's fields as the store will hold them, exactly what JSON.parse(JSON.stringify(fields))
 * gives. Plain data (the usual event) is copied directly, at a fraction of the cost of printing
 * and parsing it again; anything JSON would transform (toJSON, a non-finite number, a class
 * instance, a bigint, deep or cyclic nesting) goes through JSON itself.
 */
export function toJson(event: DomainEvent): JsonObject {
  const { type: _type, ...fields } = event as DomainEvent & Record<string, unknown>;
  const copy = plainJsonCopy(fields, 0);
  return (copy === NOT_PLAIN ? JSON.parse(JSON.stringify(fields)) : copy) as JsonObject;
}

const NOT_PLAIN = Symbol('not plain JSON');
const MAX_PLAIN_DEPTH = 64;

/** JSON's round trip of plain data, or NOT_PLAIN where it would have to be JSON's own. */
function plainJsonCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON prints -0 as 0.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : NOT_PLAIN;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_PLAIN_DEPTH) return NOT_PLAIN;
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (Array.isArray(value)) {
        if (prototype !== Array.prototype) return NOT_PLAIN;
        const array: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = value[i] as unknown;
          // JSON writes null for what it cannot hold in an array.
          const copied = isDropped(item) ? null : plainJsonCopy(item, depth + 1);
          if (copied === NOT_PLAIN) return NOT_PLAIN;
          array[i] = copied;
        }
        return array;
      }
      if ((prototype !== Object.prototype && prototype !== null) || 'toJSON' in value) {
        return NOT_PLAIN;
      }
      const object: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        // An own "__proto__" key would set the copy's prototype instead.
        if (key === '__proto__') return NOT_PLAIN;
        const item = (value as Record<string, unknown>)[key];
        // JSON leaves out the keys whose value it cannot hold.
        if (isDropped(item)) continue;
        const copied = plainJsonCopy(item, depth + 1);
        if (copied === NOT_PLAIN) return NOT_PLAIN;
        object[key] = copied;
      }
      return object;
    }
    default:
      return NOT_PLAIN;
  }
}

function isDropped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}
