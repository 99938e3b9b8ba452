import type { EventStore, Queryable } from '@park/eventstore';
import type { PoolClient } from 'pg';
import { postingsEqual, postReading, reversal, type AccountingContext } from '../accounting';
import type { AttributeStatus, MeterFacts, Posting } from '../accounting/model';
import {
  directLineMeter,
  generatorStatuses,
  meterById,
  requireEnterprisePark,
  type ParkFacts,
} from '../directory/directory';
import type { FactorCatalogCache } from '../factors/catalog-store';
import { factorLookup, type FactorSet } from '../factors';
import type { GreenAllocation, IntervalReading } from '@park/metering-events';
import { rebook, type LedgerCause, type LedgerLine } from './ledger';
import {
  bookLines,
  closedMonths,
  lockBasis,
  monthOf,
  saveBasis,
  standingFor,
  type StoredReading,
} from './ledger-store';

/** The accounting context of one reading: factors, attribute status and any allocation. */
export function contextFor(
  sets: readonly FactorSet[],
  park: ParkFacts,
  statuses: ReadonlyMap<string, AttributeStatus>,
  allocatedKwh?: string,
): AccountingContext {
  return {
    gridRegion: park.gridRegion,
    factor: factorLookup(sets),
    generatorStatus: (generatorId: string) => statuses.get(generatorId),
    ...(allocatedKwh === undefined ? {} : { allocatedKwh }),
  };
}

async function allocationsFor(
  db: Queryable,
  meter: MeterFacts,
  intervalStarts: readonly string[],
): Promise<Map<string, string>> {
  if (meter.role !== 'green_direct_line' || !meter.sourceGeneratorId) return new Map();
  const { rows } = await db.query<{ interval_start: Date; allocated_kwh: string }>(
    `SELECT interval_start, allocated_kwh::text FROM green_allocations
     WHERE enterprise_id = $1 AND generator_id = $2 AND interval_start = ANY($3::timestamptz[])`,
    [meter.enterpriseId, meter.sourceGeneratorId, intervalStarts],
  );
  return new Map(rows.map((row) => [row.interval_start.toISOString(), row.allocated_kwh]));
}

/** A meter's values to book: metering's readings, or an allocation's standing reading. */
export interface ReadingsToBook {
  meter: MeterFacts;
  cause: LedgerCause;
  readings: IntervalReading[];
}

export interface AccountingOutcome {
  /** Ledger lines booked (postings and reversals). */
  lines: number;
  /** Readings whose standing posting did not change (repeats, redeliveries). */
  unchanged: number;
}

/**
 * Books metering's readings: each reading's posting replaces what stood for its (meter,
 * interval), so a repeated value books nothing and a corrected one books a reversal and the new
 * posting. Runs on the consumer's transaction, with the inbox that makes redelivery a no-op.
 */
export class AccountingService {
  constructor(
    private readonly store: EventStore,
    private readonly catalog: FactorCatalogCache,
  ) {}

  async accountReadings(
    tx: PoolClient,
    values: ReadingsToBook,
    source: string,
    scope: Map<string, unknown> = new Map(),
  ): Promise<AccountingOutcome> {
    // Reference data read once per transaction (a consumer's group of messages shares one).
    const once = async <T>(key: string, read: () => Promise<T>): Promise<T> => {
      if (!scope.has(key)) scope.set(key, await read());
      return scope.get(key) as T;
    };
    const { park } = await once(`park:${values.meter.enterpriseId}`, () =>
      requireEnterprisePark(tx, values.meter.enterpriseId),
    );
    const meter: MeterFacts = { ...values.meter };
    if (meter.commodity === 'steam') {
      meter.steamEnthalpyGjPerTonne = (await meterById(tx, meter.meterId))?.steamEnthalpyGjPerTonne;
    }
    const sets = await once('catalog', () => this.catalog.current(tx));
    const statuses = meter.sourceGeneratorId
      ? await once(`generator:${meter.sourceGeneratorId}`, () =>
          generatorStatuses(tx, [meter.sourceGeneratorId!]),
        )
      : new Map<string, AttributeStatus>();
    const starts = values.readings.map((reading) => reading.intervalStart);
    const allocations = await allocationsFor(tx, meter, starts);
    const basis = await lockBasis(tx, meter.meterId, starts);
    const closed = await once(`closed:${park.parkId}`, () => closedMonths(tx, park.parkId));

    const lines: LedgerLine[] = [];
    const changed: Parameters<typeof saveBasis>[1][number][] = [];
    let unchanged = 0;
    for (const reading of values.readings) {
      const stored: StoredReading = { value: reading.value, quality: reading.quality, meter };
      const next = postReading(
        {
          meter,
          intervalStart: reading.intervalStart,
          value: reading.value,
          quality: reading.quality,
        },
        contextFor(sets, park, statuses, allocations.get(reading.intervalStart)),
      );
      const standing = standingFor(basis, meter.meterId, reading.intervalStart)?.posting;
      const booked = rebook(
        standing,
        next,
        postingsEqual,
        reversal,
        closed.has(monthOf(reading.intervalStart, park.timeZone)),
      );
      if (booked.length === 0) {
        unchanged++;
        continue;
      }
      lines.push(...booked);
      changed.push({
        meterId: meter.meterId,
        intervalStart: reading.intervalStart,
        enterpriseId: meter.enterpriseId,
        reading: stored,
        posting: next,
      });
    }
    if (lines.length > 0) {
      await bookLines(this.store, tx, {
        enterpriseId: meter.enterpriseId,
        parkId: park.parkId,
        timeZone: park.timeZone,
        cause: values.cause,
        source,
        lines,
      });
      await saveBasis(tx, changed);
    }
    return { lines: lines.length, unchanged };
  }

  /**
   * Dispatch allocated direct-line power: the allocation (its latest revision) replaces the
   * enterprise's own direct-line reading as its green supply for that interval. Without a
   * direct-line meter the allocation is booked on a pseudo-meter named after the line.
   */
  async accountAllocation(
    tx: PoolClient,
    allocation: GreenAllocation,
    source: string,
  ): Promise<AccountingOutcome> {
    const { rowCount } = await tx.query(
      `INSERT INTO green_allocations (enterprise_id, generator_id, interval_start, line_id, meter_id,
         allocated_kwh, revision)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (enterprise_id, generator_id, interval_start) DO UPDATE
         SET line_id = $4, meter_id = $5, allocated_kwh = $6, revision = $7
         WHERE green_allocations.revision < EXCLUDED.revision`,
      [
        allocation.enterpriseId,
        allocation.generatorId,
        allocation.intervalStart,
        allocation.lineId,
        allocation.meterId ?? null,
        allocation.allocatedKwh,
        allocation.revision.toString(),
      ],
    );
    // An older revision arriving late changes nothing.
    if (rowCount === 0) return { lines: 0, unchanged: 1 };

    const meterId =
      allocation.meterId ??
      (await directLineMeter(tx, allocation.enterpriseId, allocation.generatorId));
    const registered = meterId ? await meterById(tx, meterId) : undefined;
    const basis = meterId
      ? await lockBasis(tx, meterId, [allocation.intervalStart])
      : await lockBasis(tx, `line:${allocation.lineId}`, [allocation.intervalStart]);
    const standing = [...basis.values()][0];
    let meter: MeterFacts;
    let quality: Posting['quality'] = 'measured';
    if (registered && standing) {
      meter = standing.reading.meter;
      quality = standing.reading.quality;
    } else if (registered) {
      // The reading has not arrived: it will find this allocation when it does.
      return { lines: 0, unchanged: 0 };
    } else {
      meter = {
        meterId: `line:${allocation.lineId}`,
        enterpriseId: allocation.enterpriseId,
        commodity: 'electricity',
        role: 'green_direct_line',
        unit: 'kWh',
        sourceGeneratorId: allocation.generatorId,
      };
    }
    return this.accountReadings(
      tx,
      {
        meter,
        cause: 'allocation',
        readings: [
          {
            intervalStart: allocation.intervalStart,
            value: standing?.reading.value ?? allocation.allocatedKwh,
            quality,
            source,
          },
        ],
      },
      source,
    );
  }
}
