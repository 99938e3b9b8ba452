import { inTransaction, type EventStore } from '@park/eventstore';
import type { Logger } from '@park/service-kit';
import type { Pool } from 'pg';
import { postingsEqual, postReading, reversal } from '../accounting';
import type { Posting } from '../accounting/model';
import { generatorStatuses, requireEnterprisePark, type ParkFacts } from '../directory/directory';
import type { FactorCatalogCache } from '../factors/catalog-store';
import type { FactorSet } from '../factors';
import { contextFor } from './accounting-service';
import { rebook, type LedgerLine } from './ledger';
import {
  bookLinesMany,
  closedMonths,
  monthOf,
  saveBasis,
  type StoredReading,
} from './ledger-store';

const PAGE = 500;

export interface RestatementProgress {
  setId: string;
  version: number;
  examined: number;
  restated: number;
}

/**
 * Restates what a factor set version covers: every standing posting in the set's validity, and
 * after it those that used an earlier set as a fallback, is recomputed with the catalog as it
 * now is; only postings whose result changed are booked again (reversal and new posting, cause
 * 'restatement'), so exactly the affected periods move. Pages commit one by one with their
 * progress, and a page done twice books nothing the second time, so a crash loses nothing: the
 * run resumes at start-up from the set's status.
 */
export class Restatements {
  private readonly running = new Map<string, Promise<RestatementProgress>>();

  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly catalog: FactorCatalogCache,
    private readonly logger?: Logger,
  ) {}

  /** Starts (or joins) the restatement of a version. */
  restate(setId: string, version: number): Promise<RestatementProgress> {
    const key = `${setId}@${version}`;
    let run = this.running.get(key);
    if (!run) {
      run = this.run(setId, version).finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return run;
  }

  /** Resumes the versions whose restatement had not finished (after a restart). */
  async resumePending(): Promise<RestatementProgress[]> {
    const { rows } = await this.pool.query<{ set_id: string; version: number }>(
      `SELECT set_id, version FROM factor_sets WHERE restatement_status = 'running' ORDER BY published_at`,
    );
    const done: RestatementProgress[] = [];
    for (const row of rows) done.push(await this.restate(row.set_id, row.version));
    return done;
  }

  private async run(setId: string, version: number): Promise<RestatementProgress> {
    const { rows } = await this.pool.query<{ content: FactorSet }>(
      'SELECT content FROM factor_sets WHERE set_id = $1 AND version = $2',
      [setId, version],
    );
    const set = rows[0]?.content;
    if (!set) throw new Error(`factor set ${setId} version ${version} is not published`);
    const progress: RestatementProgress = { setId, version, examined: 0, restated: 0 };
    let after: { start: string; meterId: string } = { start: '-infinity', meterId: '' };
    for (;;) {
      const page = await inTransaction(this.pool, async (tx) => {
        const sets = await this.catalog.current(tx);
        const { rows: basis } = await tx.query<{
          meter_id: string;
          interval_start: Date;
          enterprise_id: string;
          reading: StoredReading;
          posting: Posting;
        }>(
          `SELECT meter_id, interval_start, enterprise_id, reading, posting FROM ledger_basis
           WHERE ((interval_start >= $1 AND ($2::timestamptz IS NULL OR interval_start < $2))
               OR (uses_fallback AND $2::timestamptz IS NOT NULL AND interval_start >= $2))
             AND (interval_start, meter_id) > ($3::timestamptz, $4)
           ORDER BY interval_start, meter_id LIMIT ${PAGE} FOR UPDATE`,
          [set.validFrom, set.validTo ?? null, after.start, after.meterId],
        );
        const parks = new Map<string, ParkFacts>();
        const closedByPark = new Map<string, Set<string>>();
        const statuses = await generatorStatuses(
          tx,
          basis.flatMap((row) => row.posting.generatorId ?? []),
        );
        const byEnterprise = new Map<
          string,
          { lines: LedgerLine[]; changed: Parameters<typeof saveBasis>[1][number][] }
        >();
        for (const row of basis) {
          let park = parks.get(row.enterprise_id);
          if (!park) {
            park = (await requireEnterprisePark(tx, row.enterprise_id)).park;
            parks.set(row.enterprise_id, park);
          }
          let closed = closedByPark.get(park.parkId);
          if (!closed) {
            closed = await closedMonths(tx, park.parkId);
            closedByPark.set(park.parkId, closed);
          }
          const intervalStart = row.interval_start.toISOString();
          const allocated = row.posting.basis === 'allocation' ? row.posting.quantity : undefined;
          const next = postReading(
            {
              meter: row.reading.meter,
              intervalStart,
              value: row.reading.value,
              quality: row.reading.quality,
            },
            contextFor(sets, park, statuses, allocated),
          );
          const lines = rebook(
            row.posting,
            next,
            postingsEqual,
            reversal,
            closed.has(monthOf(intervalStart, park.timeZone)),
          );
          if (lines.length === 0) continue;
          const entry = byEnterprise.get(row.enterprise_id) ?? { lines: [], changed: [] };
          entry.lines.push(...lines);
          entry.changed.push({
            meterId: row.meter_id,
            intervalStart,
            enterpriseId: row.enterprise_id,
            reading: row.reading,
            posting: next,
          });
          byEnterprise.set(row.enterprise_id, entry);
        }
        // Every enterprise's lines in one booking call, which locks their streams in one order
        // (as the readings consumer does) and appends them in one statement.
        await bookLinesMany(
          this.store,
          tx,
          [...byEnterprise].map(([enterpriseId, { lines }]) => {
            const park = parks.get(enterpriseId)!;
            return {
              enterpriseId,
              parkId: park.parkId,
              timeZone: park.timeZone,
              cause: 'restatement' as const,
              source: `factor-set:${setId}@${version}`,
              factorSet: { setId, version },
              lines,
            };
          }),
        );
        const changed = [...byEnterprise.values()].flatMap((entry) => entry.changed);
        await saveBasis(tx, changed);
        const restated = changed.length;
        const last = basis[basis.length - 1];
        await tx.query(
          `UPDATE factor_sets SET restated_intervals = restated_intervals + $3,
             restatement_status = CASE WHEN $4 THEN 'done' ELSE restatement_status END
           WHERE set_id = $1 AND version = $2`,
          [setId, version, restated, basis.length < PAGE],
        );
        return {
          examined: basis.length,
          restated,
          last: last && { start: last.interval_start.toISOString(), meterId: last.meter_id },
        };
      });
      progress.examined += page.examined;
      progress.restated += page.restated;
      this.logger?.info({ ...progress }, 'restating factor set');
      if (!page.last || page.examined < PAGE) break;
      after = page.last;
    }
    return progress;
  }
}
