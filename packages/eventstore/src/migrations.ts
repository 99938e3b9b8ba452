import * as path from 'node:path';
import { runner } from 'node-pg-migrate';

/** The event store's own schema; services add their migrations folder after it. */
export const eventStoreMigrationsDir = path.resolve(__dirname, '..', 'migrations');

export interface MigrateOptions {
  databaseUrl: string;
  /** Folders of the service's own migrations, applied after the event store's. */
  dirs?: string[];
  log?: (message: string) => void;
}

/**
 * Applies pending migrations with node-pg-migrate, in one transaction, under its advisory lock
 * so that replicas starting together apply them once. Called at service start.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const applied = await runner({
    databaseUrl: options.databaseUrl,
    dir: [eventStoreMigrationsDir, ...(options.dirs ?? [])],
    migrationsTable: 'schema_migrations',
    direction: 'up',
    singleTransaction: true,
    checkOrder: true,
    log: options.log ?? (() => undefined),
  });
  return applied.map((migration) => migration.name);
}
