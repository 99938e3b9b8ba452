/**
 * The newest committed state of recently written streams, kept in memory so that a command on a
 * busy stream reads only the events appended after the cached version (usually none) instead of
 * its snapshot and every event since. The event store stays the source of truth: a cached entry
 * is never ahead of the log, and events another writer appended are read and applied on load.
 *
 * Bounded by a stream count, least recently used first out. States are shared with callers, so
 * they must be treated as immutable; with `freeze` (on under tests) they are frozen deeply, and
 * code that changes one in place fails there instead of corrupting the next command.
 */
export interface CachedState<State> {
  state: State;
  version: number;
  /** Events applied since the last snapshot was taken (or since the stream began). */
  sinceSnapshot: number;
}

export class StreamStateCache<State> {
  private readonly entries = new Map<string, CachedState<State>>();

  constructor(
    readonly capacity: number,
    private readonly freeze = process.env.NODE_ENV === 'test',
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a stream state cache holds at least 1 stream, not ${capacity}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(streamId: string): CachedState<State> | undefined {
    const entry = this.entries.get(streamId);
    if (entry) {
      // Map keeps insertion order: re-inserting makes it the most recently used.
      this.entries.delete(streamId);
      this.entries.set(streamId, entry);
    }
    return entry;
  }

  set(streamId: string, entry: CachedState<State>): void {
    if (this.freeze) deepFreeze(entry.state);
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }

  clear(): void {
    this.entries.clear();
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}
