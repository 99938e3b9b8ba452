import type { Pool } from 'pg';
import { WrongExpectedVersionError } from './errors';
import type { EventStore } from './event-store';
import type { EventMetadata, JsonObject, RecordedEvent } from './types';

/** A domain event as the decider sees it: a discriminated union member with JSON-safe fields. */
export interface DomainEvent {
  type: string;
}

/**
 * The decider shape of an aggregate: pure functions, no I/O. `decide` throws a domain error
 * for a command that the state does not allow.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
}

export interface SnapshotPolicy<State> {
  /** Take a snapshot when this many events were replayed since the last one. */
  every: number;
  /** Bump when the state's shape changes: older snapshots are then ignored and rebuilt. */
  stateVersion: number;
  serialize(state: State): JsonObject;
  deserialize(json: JsonObject): State;
}

export interface CommandHandlerOptions<State> {
  /** Read-decide-append attempts before a version conflict reaches the caller. */
  maxAttempts?: number;
  snapshots?: SnapshotPolicy<State>;
}

export interface CommandResult<Event, State> {
  events: Event[];
  state: State;
  version: number;
}

/** Loads an aggregate, decides, appends with the version it read, and retries on conflict. */
export class CommandHandler<Command, Event extends DomainEvent, State> {
  private readonly maxAttempts: number;

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    private readonly options: CommandHandlerOptions<State> = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  async load(streamId: string): Promise<{ state: State; version: number; replayed: number }> {
    const snapshot = await this.loadSnapshot(streamId);
    let state = snapshot?.state ?? this.decider.initialState();
    const events = await this.store.readStream(streamId, { afterVersion: snapshot?.version ?? 0 });
    for (const recorded of events)
      state = this.decider.evolve(state, toDomainEvent<Event>(recorded));
    const version =
      events.length > 0 ? events[events.length - 1]!.streamVersion : (snapshot?.version ?? 0);
    return { state, version, replayed: events.length };
  }

  async handle(
    streamId: string,
    command: Command,
    metadata: EventMetadata = {},
  ): Promise<CommandResult<Event, State>> {
    for (let attempt = 1; ; attempt++) {
      const { state, version, replayed } = await this.load(streamId);
      const events = this.decider.decide(command, state);
      if (events.length === 0) return { events, state, version };
      try {
        const result = await this.store.append(
          streamId,
          events.map((event) => ({ type: event.type, data: toJson(event), metadata })),
          version === 0 ? 'no_stream' : version,
        );
        const next = events.reduce((s, event) => this.decider.evolve(s, event), state);
        if (this.options.snapshots && replayed + events.length >= this.options.snapshots.every) {
          // The events are committed; a snapshot is only a shortcut, so failing to write one
          // must not turn the command into an error.
          await saveSnapshot(
            this.store.pool,
            streamId,
            this.options.snapshots,
            next,
            result.nextVersion,
          ).catch(() => undefined);
        }
        return { events, state: next, version: result.nextVersion };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) || attempt >= this.maxAttempts)
          throw error;
      }
    }
  }

  private async loadSnapshot(
    streamId: string,
  ): Promise<{ state: State; version: number } | undefined> {
    const policy = this.options.snapshots;
    if (!policy) return undefined;
    const { rows } = await this.store.pool.query<{ stream_version: string; state: JsonObject }>(
      'SELECT stream_version, state FROM stream_snapshots WHERE stream_id = $1 AND state_version = $2',
      [streamId, policy.stateVersion],
    );
    const row = rows[0];
    return row
      ? { state: policy.deserialize(row.state), version: Number(row.stream_version) }
      : undefined;
  }
}

/** Stores a stream's snapshot; it only ever moves forward, a slower writer's older one is dropped. */
export async function saveSnapshot<State>(
  db: Pick<Pool, 'query'>,
  streamId: string,
  policy: SnapshotPolicy<State>,
  state: State,
  version: number,
): Promise<void> {
  await db.query(
    `INSERT INTO stream_snapshots (stream_id, stream_version, state_version, state)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (stream_id) DO UPDATE
       SET stream_version = EXCLUDED.stream_version, state_version = EXCLUDED.state_version,
           state = EXCLUDED.state, taken_at = now()
       WHERE stream_snapshots.stream_version < EXCLUDED.stream_version
          OR stream_snapshots.state_version <> EXCLUDED.state_version`,
    [streamId, version, policy.stateVersion, JSON.stringify(policy.serialize(state))],
  );
}

export function toDomainEvent<Event extends DomainEvent>(recorded: RecordedEvent): Event {
  return { ...recorded.data, type: recorded.type } as unknown as Event;
}

function toJson(event: DomainEvent): JsonObject {
  const { type: _type, ...fields } = event as DomainEvent & Record<string, unknown>;
  return fields as JsonObject;
}
