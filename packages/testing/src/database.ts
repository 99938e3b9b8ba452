import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, EventStore, migrate, type Upcaster } from '@park/eventstore';
import { databaseUrl } from '@park/infra';
import { testInfrastructure } from './environment';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  store: EventStore;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Folders of service migrations to apply after the event store's. */
  migrations?: string[];
  upcasters?: Upcaster[];
  /** Server to create it on; the run's shared server when omitted. */
  serverUrl?: string;
  poolSize?: number;
}

/** A fresh, migrated database of its own, so test files run in parallel and again. */
export async function createTestDatabase(
  label: string,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testInfrastructure().postgresUrl;
  const name = `t_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(serverUrl, name);
  await migrate({ databaseUrl: url, dirs: options.migrations ?? [] });
  const pool = createPool({
    connectionString: url,
    max: options.poolSize ?? 10,
    applicationName: name,
  });
  const store = new EventStore(pool, { upcasters: options.upcasters ?? [] });
  return {
    name,
    url,
    pool,
    store,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
