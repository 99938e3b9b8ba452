import type { EventStore, Queryable } from '@park/eventstore';
import type { PoolClient } from 'pg';
import { postingsEqual, postReading, reversal, type AccountingContext } from '../accounting';
import type { AttributeStatus, FactorRef, MeterFacts, Posting } from '../accounting/model';
import {
  directLineMeter,
  generatorStatuses,
  meterById,
  requireEnterpriseParks,
  type EnterpriseFacts,
  type ParkFacts,
} from '../directory/directory';
import type { FactorCatalogCache } from '../factors/catalog-store';
import { factorLookup, type FactorSet } from '../factors';
import type { GreenAllocation, IntervalReading } from '@park/metering-events';
import { rebook, type LedgerCause, type LedgerLine } from './ledger';
import {
  basisKey,
  bookLinesMany,
  closedMonths,
  lockBasis,
  lockBasisMany,
  monthOf,
  type LedgerBooking,
  type StoredReading,
} from './ledger-store';

/** The accounting context of one reading: factors, attribute status and any allocation. */
export function contextFor(
  sets: readonly FactorSet[],
  park: ParkFacts,
  statuses: ReadonlyMap<string, AttributeStatus>,
  allocatedKwh?: string,
  factor: AccountingContext['factor'] = factorLookup(sets),
): AccountingContext {
  return {
    gridRegion: park.gridRegion,
    factor,
    generatorStatus: (generatorId: string) => statuses.get(generatorId),
    ...(allocatedKwh === undefined ? {} : { allocatedKwh }),
  };
}

/**
 * factorLookup over the catalog, each (key, instant) resolved once: a group's readings ask for
 * the same factors of the same few intervals again and again. A missing factor throws each time.
 */
function rememberedFactors(sets: readonly FactorSet[]): AccountingContext['factor'] {
  const lookup = factorLookup(sets);
  const known = new Map<string, FactorRef>();
  return (key, instant) => {
    const at = `${key}|${instant}`;
    let ref = known.get(at);
    if (!ref) {
      ref = lookup(key, instant);
      known.set(at, ref);
    }
    return ref;
  };
}

/**
 * Dispatch's allocations for the direct-line meters' intervals, in one query: allocated kWh by
 * allocationKey(meter, interval start as the reading gives it).
 */
async function allocationsFor(
  db: Queryable,
  wanted: readonly { meter: MeterFacts; intervalStarts: readonly string[] }[],
): Promise<Map<string, string>> {
  const enterprises: string[] = [];
  const generators: string[] = [];
  const starts: string[] = [];
  for (const { meter, intervalStarts } of wanted) {
    if (meter.role !== 'green_direct_line' || !meter.sourceGeneratorId) continue;
    for (const start of intervalStarts) {
      enterprises.push(meter.enterpriseId);
      generators.push(meter.sourceGeneratorId);
      starts.push(start);
    }
  }
  if (starts.length === 0) return new Map();
  const { rows } = await db.query<{
    enterprise_id: string;
    generator_id: string;
    interval_start: Date;
    allocated_kwh: string;
  }>(
    `SELECT enterprise_id, generator_id, interval_start, allocated_kwh::text FROM green_allocations
     WHERE (enterprise_id, generator_id, interval_start) IN (
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]))`,
    [enterprises, generators, starts],
  );
  return new Map(
    rows.map((row) => [
      `${row.enterprise_id}|${row.generator_id}|${row.interval_start.toISOString()}`,
      row.allocated_kwh,
    ]),
  );
}

function allocationKey(meter: MeterFacts, intervalStart: string): string {
  return `${meter.enterpriseId}|${meter.sourceGeneratorId}|${intervalStart}`;
}

/** A meter's values to book: metering's readings, or an allocation's standing reading. */
export interface ReadingsToBook {
  meter: MeterFacts;
  cause: LedgerCause;
  readings: IntervalReading[];
}

/** One message's readings and the id that its ledger events name as their source. */
export interface ReadingsBooking {
  values: ReadingsToBook;
  source: string;
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
    const [outcome] = await this.accountReadingsGroup(tx, [{ values, source }], scope);
    return outcome!;
  }

  /**
   * accountReadings for several messages on one transaction, with the same ledger, basis and
   * outcomes as accounting them one after the other, in a fixed number of statements: one read
   * of reference data not yet in `scope`, one lock of every (meter, interval) standing posting,
   * one basis upsert, one append of every message's PostingsRecorded (each with its message's
   * cause and source), one insert of their ledger lines. A message's readings are weighed
   * against what stood before that message, which includes what the group's earlier messages
   * booked. A message that books one interval twice is refused, as the basis upsert refused it
   * when messages were booked one by one.
   */
  async accountReadingsGroup(
    tx: PoolClient,
    bookings: readonly ReadingsBooking[],
    scope: Map<string, unknown> = new Map(),
  ): Promise<AccountingOutcome[]> {
    if (bookings.length === 0) return [];
    // Reference data read once per transaction (a consumer's group of messages shares one).
    const once = async <T>(key: string, read: () => Promise<T>): Promise<T> => {
      if (!scope.has(key)) scope.set(key, await read());
      return scope.get(key) as T;
    };
    type EnterprisePark = { enterprise: EnterpriseFacts; park: ParkFacts };
    const enterpriseIds = [...new Set(bookings.map(({ values }) => values.meter.enterpriseId))];
    const unknownEnterprises = enterpriseIds.filter((id) => !scope.has(`park:${id}`));
    if (unknownEnterprises.length > 0) {
      const found = await requireEnterpriseParks(tx, unknownEnterprises);
      for (const [id, facts] of found) scope.set(`park:${id}`, facts);
    }
    const parkOf = (enterpriseId: string) =>
      (scope.get(`park:${enterpriseId}`) as EnterprisePark).park;

    const steamEnthalpy = new Map<string, string | undefined>();
    for (const { values } of bookings) {
      const { meterId, commodity } = values.meter;
      if (commodity === 'steam' && !steamEnthalpy.has(meterId)) {
        steamEnthalpy.set(meterId, (await meterById(tx, meterId))?.steamEnthalpyGjPerTonne);
      }
    }
    const meters = bookings.map(({ values }): MeterFacts => {
      const meter: MeterFacts = { ...values.meter };
      if (meter.commodity === 'steam') {
        meter.steamEnthalpyGjPerTonne = steamEnthalpy.get(meter.meterId);
      }
      return meter;
    });
    const sets = await once('catalog', () => this.catalog.current(tx));
    const factor = rememberedFactors(sets);
    const unknownGenerators = [
      ...new Set(meters.flatMap((meter) => meter.sourceGeneratorId ?? [])),
    ].filter((id) => !scope.has(`generator:${id}`));
    if (unknownGenerators.length > 0) {
      const statuses = await generatorStatuses(tx, unknownGenerators);
      for (const id of unknownGenerators) {
        const status = statuses.get(id);
        scope.set(`generator:${id}`, new Map(status === undefined ? [] : [[id, status]]));
      }
    }
    const noStatuses = new Map<string, AttributeStatus>();
    const statusesOf = (meter: MeterFacts) =>
      meter.sourceGeneratorId
        ? (scope.get(`generator:${meter.sourceGeneratorId}`) as Map<string, AttributeStatus>)
        : noStatuses;
    const allocations = await allocationsFor(
      tx,
      bookings.map(({ values }, index) => ({
        meter: meters[index]!,
        intervalStarts: values.readings.map((reading) => reading.intervalStart),
      })),
    );
    const keys = new Map<string, { meterId: string; intervalStart: string }>();
    for (const { values } of bookings) {
      for (const { intervalStart } of values.readings) {
        keys.set(basisKey(values.meter.meterId, intervalStart), {
          meterId: values.meter.meterId,
          intervalStart,
        });
      }
    }
    const basis = await lockBasisMany(tx, [...keys.values()]);
    const closedByPark = new Map<string, Set<string>>();
    for (const enterpriseId of enterpriseIds) {
      const { parkId } = parkOf(enterpriseId);
      if (!closedByPark.has(parkId)) {
        closedByPark.set(parkId, await once(`closed:${parkId}`, () => closedMonths(tx, parkId)));
      }
    }

    // What the group's earlier messages booked, by basis key; undefined: no longer accounted.
    const booked = new Map<string, Posting | undefined>();
    const standingOf = (key: string): Posting | undefined => {
      if (!booked.has(key)) return basis.get(key)?.posting;
      const posting = booked.get(key);
      // As a later transaction would read it back from ledger_basis (JSON, no undefined fields).
      return posting && (JSON.parse(JSON.stringify(posting)) as Posting);
    };
    /** A reading's new standing posting: in the line at `line` of the `booking`-th booking. */
    interface Change {
      meterId: string;
      intervalStart: string;
      enterpriseId: string;
      reading: StoredReading;
      posting: Posting | undefined;
      booking: number;
      line: number;
    }
    const changed = new Map<string, Change>();
    const ledgerBookings: LedgerBooking[] = [];
    const outcomes: AccountingOutcome[] = [];
    bookings.forEach(({ values, source }, index) => {
      const meter = meters[index]!;
      const park = parkOf(meter.enterpriseId);
      const closed = closedByPark.get(park.parkId)!;
      const statuses = statusesOf(meter);
      const lines: LedgerLine[] = [];
      const changes = new Map<string, Change>();
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
          contextFor(
            sets,
            park,
            statuses,
            allocations.get(allocationKey(meter, reading.intervalStart)),
            factor,
          ),
        );
        const key = basisKey(meter.meterId, reading.intervalStart);
        const lineSet = rebook(
          standingOf(key),
          next,
          postingsEqual,
          reversal,
          closed.has(monthOf(reading.intervalStart, park.timeZone)),
        );
        if (lineSet.length === 0) {
          unchanged++;
          continue;
        }
        // One basis row per reading: a message that rebooks an interval twice cannot be saved
        // (the basis upsert would touch its row twice), as when messages were booked one by one.
        if (changes.has(key)) {
          throw new Error(
            `meter ${meter.meterId} books interval ${reading.intervalStart} twice in one message`,
          );
        }
        lines.push(...lineSet);
        changes.set(key, {
          meterId: meter.meterId,
          intervalStart: reading.intervalStart,
          enterpriseId: meter.enterpriseId,
          reading: stored,
          posting: next,
          // rebook puts the new posting, if any, last.
          booking: ledgerBookings.length,
          line: lines.length - 1,
        });
      }
      // The next message weighs its readings against what this one booked.
      for (const [key, change] of changes) {
        booked.set(key, change.posting);
        changed.delete(key);
        changed.set(key, change);
      }
      if (lines.length > 0) {
        ledgerBookings.push({
          enterpriseId: meter.enterpriseId,
          parkId: park.parkId,
          timeZone: park.timeZone,
          cause: values.cause,
          source,
          lines,
        });
      }
      outcomes.push({ lines: lines.length, unchanged });
    });
    if (ledgerBookings.length > 0) {
      // The basis takes each new posting from the line that booked it.
      await bookLinesMany(this.store, tx, ledgerBookings, {
        basis: (stored) =>
          [...changed.values()].map((change) => ({
            meterId: change.meterId,
            intervalStart: change.intervalStart,
            enterpriseId: change.enterpriseId,
            reading: change.reading,
            booked: change.posting && stored[change.booking]![change.line],
            usesFallback: change.posting?.factors.some((factor) => factor.fallback) ?? false,
          })),
      });
    }
    return outcomes;
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
