import { UnavailableError } from './errors';

export interface AdmissionLimits {
  /** Units of work done at the same time. */
  inProgress: number;
  /** Units that wait for a place; one more is refused at once. */
  waiting: number;
}

/**
 * Bounds the work a process takes on at once. A request beyond `inProgress` waits its turn (first
 * come, first served); one beyond `waiting` more is refused with UnavailableError (gRPC
 * UNAVAILABLE, HTTP 503), which clients retry with backoff. Without a bound, an open-loop load that
 * outruns the service for a while (a database pause, a long garbage collection) piles up calls, each
 * holding its batch in memory, until the heap runs out and everything accepted is lost with it.
 */
export class AdmissionLimiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    readonly what: string,
    readonly limits: AdmissionLimits,
  ) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < (name === 'inProgress' ? 1 : 0)) {
        throw new RangeError(`admission limit ${name} must be a whole number, not ${value}`);
      }
    }
  }

  get inProgress(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.inProgress) {
      if (this.queue.length >= this.limits.waiting) {
        throw new UnavailableError(
          `the service is at capacity: ${this.running} ${this.what} in progress and ` +
            `${this.queue.length} waiting; retry with backoff`,
        );
      }
      // A place is handed over by the one that leaves it, so `running` stays counted.
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
