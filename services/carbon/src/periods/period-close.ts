import { localDateTime, startOfNextLocalMonth, zonedInstant } from '@park/domain-primitives';
import { inTransaction, type EventStore } from '@park/eventstore';
import { NotFoundError, PreconditionError, ValidationError } from '@park/service-kit/errors';
import type { Pool } from 'pg';
import { sumFigures } from '../accounting';
import type { PostingFigures } from '../accounting/model';
import { parkFacts } from '../directory/directory';
import { ledgerStreamId } from '../ledger/ledger';
import { appendPeriodClosed, lockLedgerStreams } from '../ledger/ledger-store';

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY_MS = 86_400_000;

export interface MonthBounds {
  from: string;
  to: string;
}

/** [first instant, first instant of the next month) of a park-local month. */
export function monthBounds(month: string, timeZone: string): MonthBounds {
  const match = MONTH.exec(month);
  if (!match) throw ValidationError.field('month', `'${month}' is not a month YYYY-MM`);
  const from = zonedInstant({ year: Number(match[1]), month: Number(match[2]), day: 1 }, timeZone);
  return {
    from: new Date(from).toISOString(),
    to: new Date(startOfNextLocalMonth(from, timeZone)).toISOString(),
  };
}

export interface CloseOutcome {
  month: string;
  enterprises: number;
  alreadyClosed: boolean;
}

/**
 * Closes a park's month once its late-data window has passed: each enterprise's ledger stream
 * for the month records its figures as closed, and lines booked for the month afterwards are
 * prior-period adjustments, disclosed apart.
 */
export class PeriodCloser {
  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly lateDataWindowDays: number,
  ) {}

  async close(
    parkId: string,
    month: string,
    closedBy: string,
    now: Date = new Date(),
  ): Promise<CloseOutcome> {
    const park = await parkFacts(this.pool, parkId);
    if (!park) throw new NotFoundError(`park ${parkId} is not known to the carbon service`);
    const bounds = monthBounds(month, park.timeZone);
    const closesAt = Date.parse(bounds.to) + this.lateDataWindowDays * DAY_MS;
    if (now.getTime() < closesAt) {
      throw new PreconditionError(
        `${month} can close from ${new Date(closesAt).toISOString()}, after the ` +
          `${this.lateDataWindowDays}-day late-data window`,
      );
    }
    return inTransaction(this.pool, async (tx) => {
      const { rowCount } = await tx.query(
        `INSERT INTO closed_periods (park_id, month, closed_at, closed_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [parkId, `${month}-01`, now.toISOString(), closedBy],
      );
      if (rowCount === 0) return { month, enterprises: 0, alreadyClosed: true };
      const { rows } = await tx.query<{
        enterprise_id: string;
        energy_kgce: string;
        electricity_kwh: string;
        grid_kwh: string;
        renewable_kwh: string;
        carbon_free_kwh: string;
        scope1_kgco2e: string;
        scope2_location_kgco2e: string;
        scope2_market_kgco2e: string;
      }>(
        `SELECT enterprise_id, sum(energy_kgce)::text AS energy_kgce,
           sum(electricity_kwh)::text AS electricity_kwh, sum(grid_kwh)::text AS grid_kwh,
           sum(renewable_kwh)::text AS renewable_kwh, sum(carbon_free_kwh)::text AS carbon_free_kwh,
           sum(scope1_kgco2e)::text AS scope1_kgco2e,
           sum(scope2_location_kgco2e)::text AS scope2_location_kgco2e,
           sum(scope2_market_kgco2e)::text AS scope2_market_kgco2e
         FROM ledger_lines
         WHERE park_id = $1 AND interval_start >= $2 AND interval_start < $3 AND NOT prior_period
         GROUP BY enterprise_id ORDER BY enterprise_id`,
        [parkId, bounds.from, bounds.to],
      );
      // The months' streams locked in one order first, as every ledger writer does.
      await lockLedgerStreams(
        tx,
        rows.map((row) => ledgerStreamId(row.enterprise_id, month)),
      );
      for (const row of rows) {
        const figures: PostingFigures = sumFigures([
          {
            energyKgce: row.energy_kgce,
            electricityKwh: row.electricity_kwh,
            gridKwh: row.grid_kwh,
            renewableKwh: row.renewable_kwh,
            carbonFreeKwh: row.carbon_free_kwh,
            scope1KgCo2e: row.scope1_kgco2e,
            scope2LocationKgCo2e: row.scope2_location_kgco2e,
            scope2MarketKgCo2e: row.scope2_market_kgco2e,
          },
        ]);
        await appendPeriodClosed(this.store, tx, {
          type: 'PeriodClosed',
          enterpriseId: row.enterprise_id,
          parkId,
          month,
          figures,
          closedBy,
        });
      }
      return { month, enterprises: rows.length, alreadyClosed: false };
    });
  }

  /** Closes every month of every park whose window has passed and that has lines (scheduler). */
  async closeDue(now: Date = new Date()): Promise<CloseOutcome[]> {
    const { rows } = await this.pool.query<{ park_id: string; month: string; time_zone: string }>(
      `SELECT DISTINCT l.park_id, to_char(l.interval_start AT TIME ZONE p.time_zone, 'YYYY-MM') AS month,
         p.time_zone
       FROM ledger_lines l JOIN carbon_parks p ON p.park_id = l.park_id
       WHERE l.interval_start < $1
         AND NOT EXISTS (SELECT 1 FROM closed_periods c WHERE c.park_id = l.park_id
           AND c.month = date_trunc('month', l.interval_start AT TIME ZONE p.time_zone)::date)
       ORDER BY 1, 2`,
      [new Date(now.getTime() - this.lateDataWindowDays * DAY_MS).toISOString()],
    );
    const outcomes: CloseOutcome[] = [];
    for (const row of rows) {
      const bounds = monthBounds(row.month, row.time_zone);
      if (Date.parse(bounds.to) + this.lateDataWindowDays * DAY_MS > now.getTime()) continue;
      outcomes.push(await this.close(row.park_id, row.month, 'scheduler', now));
    }
    return outcomes;
  }
}

export function currentMonth(now: number, timeZone: string): string {
  const local = localDateTime(now, timeZone);
  return `${local.year}-${String(local.month).padStart(2, '0')}`;
}
