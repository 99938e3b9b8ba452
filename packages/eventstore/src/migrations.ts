import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
 * Applies pending SQL migrations with node-pg-migrate, in one transaction, under its advisory
 * lock so that replicas starting together apply them once (the others wait and find nothing to
 * do). Called at service start.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const dirs = [eventStoreMigrationsDir, ...(options.dirs ?? [])];
  for (let attempt = 1; ; attempt++) {
    try {
      const applied = await runner({
        databaseUrl: options.databaseUrl,
        dir: dirs.map((dir) => path.join(dir, '*.sql')),
        useGlob: true,
        migrationsTable: 'schema_migrations',
        direction: 'up',
        singleTransaction: true,
        checkOrder: true,
        log: options.log ?? (() => undefined),
      });
      return applied.map((migration) => migration.name);
    } catch (error) {
      const lockedByAnother =
        error instanceof Error && /Another migration is already running/.test(error.message);
      if (!lockedByAnother || attempt >= 50) throw error;
      await sleep(200);
    }
  }
}
