/**
 * In-process locks by stream id, so that two commands of one process on the same stream queue
 * behind each other instead of reading the same version and failing on the append. Across
 * processes the event store's optimistic concurrency still decides; these locks only keep one
 * process from conflicting with itself, which under a steady load on one busy stream turns every
 * overlapping call into a retry (each reloading the state of every stream of its transaction).
 *
 * A holder of several streams takes them in sorted order, so two holders of overlapping sets
 * never wait on each other in a cycle.
 */
export class StreamLocks {
  /** Per stream, the promise the next holder waits for: resolved when the last queued releases. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Streams held or waited for (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }

  /** Waits until every stream is free, holds them all; the returned function releases them. */
  async acquire(streamIds: Iterable<string>): Promise<() => void> {
    const sorted = [...new Set(streamIds)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const streamId of sorted) releases.push(await this.acquireOne(streamId));
    } catch (error) {
      for (const release of releases) release();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const release of releases) release();
    };
  }

  private async acquireOne(streamId: string): Promise<() => void> {
    const previous = this.tails.get(streamId);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => held) : held;
    this.tails.set(streamId, tail);
    if (previous) await previous;
    return () => {
      release();
      // Nobody queued behind: forget the stream, so the map holds only busy streams.
      if (this.tails.get(streamId) === tail) this.tails.delete(streamId);
    };
  }
}
