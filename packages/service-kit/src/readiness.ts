import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';

export type DependencyName = 'postgres' | 'kafka' | 'redis' | (string & {});

export interface DependencyCheck {
  name: DependencyName;
  check(): Promise<void>;
  /** Releases what the check holds open (a connected admin client). */
  close?(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  dependencies: Record<string, { ok: boolean; error?: string; checkedAt: string }>;
}

/**
 * Probes the service's dependencies on an interval and remembers the answer, so /readyz and the
 * gRPC health service answer at once and agree. Listeners hear every change of readiness.
 */
export class Readiness {
  private report: ReadinessReport = { ready: false, dependencies: {} };
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(ready: boolean) => void>();
  private shuttingDown = false;

  constructor(
    private readonly checks: DependencyCheck[],
    private readonly options: { intervalMs?: number; timeoutMs?: number } = {},
  ) {}

  get current(): ReadinessReport {
    return this.report;
  }

  onChange(listener: (ready: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<ReadinessReport> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs ?? 2_000);
    this.timer.unref();
    return this.report;
  }

  /** During shutdown the service reports not ready whatever its dependencies say. */
  markShuttingDown(): void {
    this.shuttingDown = true;
    this.publish({ ...this.report, ready: false });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Stops probing and releases the checks' connections. */
  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.checks.map((check) => check.close?.().catch(() => undefined)));
  }

  async probe(): Promise<ReadinessReport> {
    const timeoutMs = this.options.timeoutMs ?? 1_500;
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          return [name, { ok: true, checkedAt: new Date().toISOString() }] as const;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return [
            name,
            { ok: false, error: message, checkedAt: new Date().toISOString() },
          ] as const;
        }
      }),
    );
    const dependencies = Object.fromEntries(results);
    const ready = !this.shuttingDown && results.every(([, result]) => result.ok);
    this.publish({ ready, dependencies });
    return this.report;
  }

  private publish(report: ReadinessReport): void {
    const changed = report.ready !== this.report.ready;
    this.report = report;
    if (changed) for (const listener of this.listeners) listener(report.ready);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const dependencyChecks = {
  postgres(pool: Pool): DependencyCheck {
    return { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) };
  },
  redis(redis: Redis): DependencyCheck {
    return {
      name: 'redis',
      check: async () => {
        if ((await redis.ping()) !== 'PONG') throw new Error('Redis did not answer PONG');
      },
    };
  },
  /** The broker answers metadata requests through an admin client kept connected. */
  kafka(kafka: Kafka): DependencyCheck {
    const admin = kafka.admin();
    let connected: Promise<void> | undefined;
    return {
      name: 'kafka',
      check: async () => {
        connected ??= admin.connect().catch((error: unknown) => {
          connected = undefined;
          throw error;
        });
        await connected;
        await admin.describeCluster();
      },
      async close() {
        if (connected) await admin.disconnect();
        connected = undefined;
      },
    };
  },
};
