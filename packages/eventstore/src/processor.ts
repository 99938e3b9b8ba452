import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { checkpoints } from './checkpoints';
import { inTransaction } from './pool';
import { positionOf, type EventStore } from './event-store';
import type { LogPosition, RecordedEvent } from './types';

export interface ProcessorOptions {
  /** Unique name; the checkpoint and the single-instance lock are keyed by it. */
  name: string;
  /** Connection string for the session that holds the lock and listens for new events. */
  connectionString: string;
  batchSize?: number;
  /** Polls this often when no notification arrives (notifications can be missed on reconnect). */
  pollIntervalMs?: number;
  /** A standby instance tries to take the lock this often. */
  lockRetryMs?: number;
  /** First delay after a failed batch; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  onError?: (error: unknown, processor: string) => void;
}

/**
 * `projection`: the handler's writes and the checkpoint commit in one transaction, so each event
 * has its effect exactly once. `at-least-once`: for side effects outside PostgreSQL (publishing
 * to Kafka); the checkpoint is stored only after the handler returned, so a crash repeats the
 * batch but never loses it.
 */
export type ProcessorMode =
  | {
      kind: 'projection';
      handle: (events: RecordedEvent[], client: pg.PoolClient) => Promise<void>;
    }
  | {
      kind: 'at-least-once';
      handle: (events: RecordedEvent[]) => Promise<void>;
      /** Called after the handler succeeded and before the checkpoint is stored. */
      afterHandled?: (events: RecordedEvent[]) => Promise<void>;
    };

export type ProcessorState = 'stopped' | 'standby' | 'active';

/**
 * Follows the global log from a durable checkpoint. One instance per name is active across all
 * replicas (a session advisory lock); the others wait on standby and take over if it dies.
 */
export class LogProcessor {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lockRetryMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private session: pg.Client | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set by a notification that arrived while no one was waiting, so it is not lost. */
  private notified = false;
  private currentState: ProcessorState = 'stopped';

  constructor(
    private readonly store: EventStore,
    private readonly options: ProcessorOptions,
    private readonly mode: ProcessorMode,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.lockRetryMs = options.lockRetryMs ?? 2_000;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  }

  get name(): string {
    return this.options.name;
  }

  get state(): ProcessorState {
    return this.currentState;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the batch in hand finish, then releases the lock and the session. */
  async stop(): Promise<void> {
    this.running = false;
    this.notified = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Processes every event committed so far; returns how many it handled. For tools and tests. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.processBatch();
      if (handled === 0) return total;
      total += handled;
    }
  }

  async position(): Promise<LogPosition> {
    return checkpoints.load(this.store.pool, this.name);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!(await this.holdLock())) {
          this.currentState = 'standby';
          await this.idle(this.lockRetryMs);
          continue;
        }
        this.currentState = 'active';
        const handled = await this.processBatch();
        failures = 0;
        if (handled === 0) await this.idle(this.pollIntervalMs);
      } catch (error) {
        failures += 1;
        this.options.onError?.(error, this.name);
        await this.idle(Math.min(this.retryDelayMs * 2 ** (failures - 1), this.maxRetryDelayMs));
      }
    }
    await this.releaseLock();
    this.currentState = 'stopped';
  }

  private async processBatch(): Promise<number> {
    const { pool } = this.store;
    if (this.mode.kind === 'projection') {
      const { handle } = this.mode;
      return inTransaction(pool, async (client) => {
        const from = await checkpoints.load(client, this.name, true);
        const events = await this.store.readAll(from, this.batchSize, client);
        if (events.length === 0) return 0;
        await handle(events, client);
        await checkpoints.store(client, this.name, positionOf(events[events.length - 1]!));
        return events.length;
      });
    }
    const from = await checkpoints.load(pool, this.name);
    const events = await this.store.readAll(from, this.batchSize);
    if (events.length === 0) return 0;
    await this.mode.handle(events);
    await this.mode.afterHandled?.(events);
    await checkpoints.store(pool, this.name, positionOf(events[events.length - 1]!));
    return events.length;
  }

  /** Takes (or confirms) the advisory lock on a dedicated session that also listens for events. */
  private async holdLock(): Promise<boolean> {
    if (this.session) return true;
    const session = new pg.Client({ connectionString: this.options.connectionString });
    session.on('error', (error) => {
      this.options.onError?.(error, this.name);
      // The lock went with the connection: stop acting as the active instance.
      if (this.session === session) this.session = undefined;
    });
    try {
      await session.connect();
      const { rows } = await session.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
        [`park.processor:${this.name}`],
      );
      if (!rows[0]?.locked) {
        await session.end();
        return false;
      }
      session.on('notification', () => {
        this.notified = true;
        this.wake?.();
      });
      await session.query('LISTEN park_events');
      this.session = session;
      return true;
    } catch (error) {
      await session.end().catch(() => undefined);
      throw error;
    }
  }

  private async releaseLock(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    // Ending the session releases its advisory lock.
    await session?.end().catch(() => undefined);
  }

  private async idle(ms: number): Promise<void> {
    if (!this.running) return;
    if (this.notified) {
      this.notified = false;
      return;
    }
    const controller = new AbortController();
    const woken = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    await Promise.race([
      woken,
      sleep(ms, undefined, { signal: controller.signal }).catch(() => undefined),
    ]);
    controller.abort();
    this.wake = undefined;
    this.notified = false;
  }
}
