import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import pg from 'pg';
import { waitFor, withTimeout } from './wait';

export async function postgresAnswers(url: string, timeoutMs = 3_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await withTimeout(
      client.connect().then(() => client.query('SELECT 1')),
      timeoutMs,
      'PostgreSQL',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts the machine's PostgreSQL cluster (Debian's pg_ctlcluster) when it does not answer. */
export async function ensurePostgres(url: string, log: (line: string) => void): Promise<void> {
  try {
    await postgresAnswers(url);
    return;
  } catch {
    // Try to start it below.
  }
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL does not answer at ${redact(url)} and no local cluster is installed: ` +
        'install PostgreSQL 15 (apt-get install postgresql) or set DATABASE_URL.',
    );
  }
  log(`starting PostgreSQL ${versions[0]} ...`);
  const result = spawnSync(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', versions[0]!, 'main', 'start'],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0 && !/already running/.test(result.stderr)) {
    throw new Error(
      `pg_ctlcluster could not start PostgreSQL: ${result.stderr || result.error?.message}`,
    );
  }
  await waitFor('PostgreSQL', () => postgresAnswers(url), 30_000, `Connection: ${redact(url)}`);
}

/** Creates the databases that do not exist yet. */
export async function ensureDatabases(adminUrl: string, names: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const name of names) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        name,
      ]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
}

/** A connection string for another database on the same server. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
