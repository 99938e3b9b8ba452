import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, EventStore, migrate } from '@park/eventstore';
import { databaseUrl } from '@park/infra';
import type { ScratchDatabase, ScratchDatabaseOptions } from './types';

/** Database name from a label: `bench_<label>_<8 hex>`, within PostgreSQL's 63 bytes. */
export function scratchDatabaseName(
  label: string,
  suffix = randomBytes(4).toString('hex'),
): string {
  const cleaned =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40) || 'db';
  return `bench_${cleaned}_${suffix}`;
}

/**
 * The scratch databases of one benchmark. Each is registered as soon as it exists, before it is
 * migrated, so that dropAll removes it whatever failed afterwards.
 */
export class ScratchDatabases {
  private readonly created: { name: string; pool?: pg.Pool }[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly adminUrl: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Refused once dropAll has begun; a creation still in flight then (a benchmark stopped at its
   * time limit goes on in the background) is waited for and dropped with the others.
   */
  async create(label: string, options: ScratchDatabaseOptions = {}): Promise<ScratchDatabase> {
    if (this.closed) throw new Error('the benchmark has ended: no more scratch databases');
    const creation = this.createNow(label, options);
    this.pending.add(creation);
    try {
      return await creation;
    } finally {
      this.pending.delete(creation);
    }
  }

  private async createNow(
    label: string,
    options: ScratchDatabaseOptions,
  ): Promise<ScratchDatabase> {
    const name = scratchDatabaseName(label);
    await this.admin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
    const entry: { name: string; pool?: pg.Pool } = { name };
    this.created.push(entry);
    const url = databaseUrl(this.adminUrl, name);
    await migrate({ databaseUrl: url, dirs: options.migrations ?? [] });
    const pool = createPool({
      connectionString: url,
      max: options.poolSize ?? 10,
      applicationName: `park-bench ${name}`,
    });
    entry.pool = pool;
    this.log(`scratch database ${name} created and migrated`);
    return { name, url, pool, store: new EventStore(pool) };
  }

  /** Closes the pools and drops the databases (WITH FORCE ends any connection left over). */
  async dropAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    while (this.created.length > 0) {
      const { name, pool } = this.created.pop()!;
      // A connection still busy (a benchmark stopped at its time limit) would hold end() up:
      // wait a little, then DROP ... WITH (FORCE) ends it.
      if (pool) await settleWithin(pool.end(), 5_000);
      try {
        await this.admin((client) =>
          client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
        );
        this.log(`scratch database ${name} dropped`);
      } catch (error) {
        this.log(
          `could not drop scratch database ${name}: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
  }

  private async admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({
      connectionString: this.adminUrl,
      connectionTimeoutMillis: 10_000,
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Waits for the promise to settle, at most ms; never rejects. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
