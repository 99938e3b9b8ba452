import { StreamWriter, type EventStore, type Queryable } from '@park/eventstore';
import {
  FACTOR_CATALOG_STREAM,
  factorCatalogDecider,
  type FactorCatalog,
  type FactorCatalogCommand,
  type FactorCatalogEvent,
  type FactorSetPublished,
} from './catalog';
import type { FactorSet, FactorSetDraft } from './factor-set';
import { SEED_FACTOR_SETS } from './seed';

/**
 * Accounting reads the catalog under a shared advisory lock and publication takes it
 * exclusively, so a posting computed with the old catalog commits before the publication does,
 * and the restatement that follows the publication finds it.
 */
const CATALOG_LOCK = 'carbon:factor-catalog';

export type RestatementStatus = 'running' | 'done';

export interface PublishedFactorSet extends FactorSet {
  publishedAt: string;
  publishedBy: string;
  restatementStatus: RestatementStatus;
  restatedIntervals: number;
}

/** The catalog's versions as accounting uses them, reloaded when a version was added. */
export class FactorCatalogCache {
  private sets: FactorSet[] = [];
  private loadedCount = -1;

  async current(tx: Queryable): Promise<FactorSet[]> {
    await tx.query('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [CATALOG_LOCK]);
    const { rows } = await tx.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM factor_sets',
    );
    const count = rows[0]!.count;
    if (count !== this.loadedCount) {
      this.sets = (await listFactorSets(tx, true)).map(
        ({
          publishedAt: _a,
          publishedBy: _b,
          restatementStatus: _s,
          restatedIntervals: _n,
          ...set
        }) => set,
      );
      this.loadedCount = count;
    }
    return this.sets;
  }
}

export async function listFactorSets(
  db: Queryable,
  allVersions: boolean,
): Promise<PublishedFactorSet[]> {
  const { rows } = await db.query<{
    content: FactorSet;
    published_at: Date;
    published_by: string;
    restatement_status: RestatementStatus;
    restated_intervals: string;
  }>(
    `SELECT content, published_at, published_by, restatement_status, restated_intervals
     FROM factor_sets f
     WHERE $1 OR version = (SELECT max(version) FROM factor_sets g WHERE g.set_id = f.set_id)
     ORDER BY set_id, version`,
    [allVersions],
  );
  return rows.map((row) => ({
    ...row.content,
    publishedAt: row.published_at.toISOString(),
    publishedBy: row.published_by,
    restatementStatus: row.restatement_status,
    restatedIntervals: Number(row.restated_intervals),
  }));
}

async function projectCatalog(client: Queryable, events: { data: unknown }[]): Promise<void> {
  if (events.length === 0) return;
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [CATALOG_LOCK]);
  for (const { data } of events) {
    const event = data as Omit<FactorSetPublished, 'type'>;
    // The first publication has nothing to restate; later ones restate in the background.
    const { rows } = await client.query<{ postings: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM ledger_basis) AS postings',
    );
    await client.query(
      `INSERT INTO factor_sets (set_id, version, content, published_at, published_by, restatement_status)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [
        event.set.setId,
        event.set.version,
        JSON.stringify(event.set),
        event.publishedAt,
        event.publishedBy,
        rows[0]!.postings ? 'running' : 'done',
      ],
    );
  }
}

export class FactorCatalogService {
  private readonly writer: StreamWriter<FactorCatalogCommand, FactorCatalogEvent, FactorCatalog>;

  constructor(store: EventStore) {
    this.writer = new StreamWriter(store, factorCatalogDecider, projectCatalog);
  }

  /** Publishes a set (its next version); undefined when the same content is already latest. */
  async publish(
    draft: FactorSetDraft,
    publishedBy: string,
    now: Date = new Date(),
  ): Promise<FactorSetPublished | undefined> {
    const outcome = await this.writer.handle(FACTOR_CATALOG_STREAM, {
      type: 'PublishFactorSet',
      set: draft,
      publishedAt: now.toISOString(),
      publishedBy,
    });
    return outcome.events[0];
  }

  /** Publishes DESIGN.md's reference sets when the catalog is empty (a new deployment). */
  async seedIfEmpty(): Promise<number> {
    const { version } = await this.writer.load(FACTOR_CATALOG_STREAM);
    if (version > 0) return 0;
    let published = 0;
    for (const draft of SEED_FACTOR_SETS) {
      if (await this.publish(draft, 'seed')) published++;
    }
    return published;
  }
}
