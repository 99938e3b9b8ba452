import { localDateTime, startOfLocalHour } from '@park/domain-primitives';
import { toJson, type EventMetadata, type EventStore, type Queryable } from '@park/eventstore';
import type { PoolClient } from 'pg';
import type { MeterFacts, Posting } from '../accounting/model';
import {
  ledgerStreamId,
  type LedgerCause,
  type LedgerLine,
  type PeriodClosed,
  type PostingsRecorded,
} from './ledger';

/** YYYY-MM of an instant in the park's time zone. */
export function monthOf(instant: string | number, timeZone: string): string {
  const local = localDateTime(
    typeof instant === 'number' ? instant : Date.parse(instant),
    timeZone,
  );
  return `${local.year}-${String(local.month).padStart(2, '0')}`;
}

/** The months of a park that are closed, as YYYY-MM. */
export async function closedMonths(db: Queryable, parkId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ month: string }>(
    `SELECT to_char(month, 'YYYY-MM') AS month FROM closed_periods WHERE park_id = $1`,
    [parkId],
  );
  return new Set(rows.map((row) => row.month));
}

export interface LedgerBooking {
  enterpriseId: string;
  parkId: string;
  timeZone: string;
  cause: LedgerCause;
  source: string;
  factorSet?: { setId: string; version: number };
  lines: LedgerLine[];
}

/**
 * Appends the lines to their enterprise-month streams (one PostingsRecorded per month touched)
 * and projects them into ledger_lines, on the caller's transaction. Appends use expected
 * version 'any': lines only add up, so two writers on one month need no order between them;
 * what must not interleave (one reading's standing posting) is locked in ledger_basis.
 */
export async function bookLines(
  store: EventStore,
  tx: PoolClient,
  booking: LedgerBooking,
  metadata: EventMetadata = {},
): Promise<number> {
  return bookLinesMany(store, tx, [booking], metadata);
}

/**
 * bookLines for several bookings in three statements whatever their number: one append of every
 * PostingsRecorded (a booking's per month, as bookLines makes them, each with the booking's
 * cause and source), one insert of all their ledger lines. A stream's events keep the order of
 * the bookings; the streams are appended in id order. Returns the number of events appended.
 */
export async function bookLinesMany(
  store: EventStore,
  tx: PoolClient,
  bookings: readonly LedgerBooking[],
  metadata: EventMetadata = {},
): Promise<number> {
  const byStream = new Map<string, PostingsRecorded[]>();
  for (const booking of bookings) {
    const byMonth = new Map<string, LedgerLine[]>();
    for (const line of booking.lines) {
      const month = monthOf(line.posting.intervalStart, booking.timeZone);
      const lines = byMonth.get(month);
      if (lines) lines.push(line);
      else byMonth.set(month, [line]);
    }
    for (const [month, lines] of [...byMonth].sort(([a], [b]) => a.localeCompare(b))) {
      const event: PostingsRecorded = {
        type: 'PostingsRecorded',
        enterpriseId: booking.enterpriseId,
        parkId: booking.parkId,
        month,
        timeZone: booking.timeZone,
        cause: booking.cause,
        source: booking.source,
        ...(booking.factorSet ? { factorSet: booking.factorSet } : {}),
        lines,
      };
      const streamId = ledgerStreamId(booking.enterpriseId, month);
      const events = byStream.get(streamId);
      if (events) events.push(event);
      else byStream.set(streamId, [event]);
    }
  }
  if (byStream.size === 0) return 0;
  const streams = [...byStream].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const appended = await store.appendMany(
    streams.map(([streamId, events]) => ({
      streamId,
      events: events.map((event) => ({ type: event.type, data: toJson(event), metadata })),
      expected: 'any' as const,
    })),
    { client: tx },
  );
  const recorded: { streamId: string; streamVersion: number; event: PostingsRecorded }[] = [];
  streams.forEach(([streamId, events], s) => {
    events.forEach((event, e) =>
      recorded.push({ streamId, streamVersion: appended[s]!.events[e]!.streamVersion, event }),
    );
  });
  await projectLines(tx, recorded);
  return recorded.length;
}

export async function appendPeriodClosed(
  store: EventStore,
  tx: PoolClient,
  event: PeriodClosed,
): Promise<void> {
  await store.append(
    ledgerStreamId(event.enterpriseId, event.month),
    [{ type: event.type, data: toJson(event), metadata: {} }],
    'any',
    { client: tx },
  );
}

async function projectLines(
  tx: Queryable,
  recorded: readonly { streamId: string; streamVersion: number; event: PostingsRecorded }[],
): Promise<void> {
  const rows = recorded.flatMap(({ streamId, streamVersion, event }) =>
    event.lines.map((line, index) => {
      const p: Posting = line.posting;
      return {
        stream_id: streamId,
        stream_version: streamVersion,
        line_index: index,
        enterprise_id: event.enterpriseId,
        park_id: event.parkId,
        kind: line.kind,
        cause: event.cause,
        prior_period: line.priorPeriod,
        meter_id: line.kind === 'certificate_coverage' ? null : p.meterId,
        interval_start: p.intervalStart,
        hour_start: new Date(
          startOfLocalHour(Date.parse(p.intervalStart), event.timeZone),
        ).toISOString(),
        category: p.category,
        commodity: p.commodity,
        quantity: p.quantity,
        unit: p.unit,
        quality: p.quality,
        internal_supplier_id: p.internalSupplierId ?? null,
        energy_kgce: p.figures.energyKgce,
        electricity_kwh: p.figures.electricityKwh,
        grid_kwh: p.figures.gridKwh,
        renewable_kwh: p.figures.renewableKwh,
        carbon_free_kwh: p.figures.carbonFreeKwh,
        scope1_kgco2e: p.figures.scope1KgCo2e,
        scope2_location_kgco2e: p.figures.scope2LocationKgCo2e,
        scope2_market_kgco2e: p.figures.scope2MarketKgCo2e,
        factors: p.factors,
        source: event.source,
        certificate_serials: line.certificateSerials ?? null,
      };
    }),
  );
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO ledger_lines (stream_id, stream_version, line_index, enterprise_id, park_id, kind,
       cause, prior_period, meter_id, interval_start, hour_start, category, commodity, quantity,
       unit, quality, internal_supplier_id, energy_kgce, electricity_kwh, grid_kwh, renewable_kwh,
       carbon_free_kwh, scope1_kgco2e, scope2_location_kgco2e, scope2_market_kgco2e, factors,
       source, certificate_serials, recorded_at)
     SELECT r.stream_id, r.stream_version, r.line_index, r.enterprise_id, r.park_id, r.kind,
       r.cause, r.prior_period, r.meter_id, r.interval_start, r.hour_start, r.category,
       r.commodity, r.quantity, r.unit, r.quality, r.internal_supplier_id, r.energy_kgce,
       r.electricity_kwh, r.grid_kwh, r.renewable_kwh, r.carbon_free_kwh, r.scope1_kgco2e,
       r.scope2_location_kgco2e, r.scope2_market_kgco2e, r.factors, r.source,
       r.certificate_serials, now()
     FROM jsonb_to_recordset($1::jsonb) AS r(stream_id text, stream_version bigint,
       line_index int, enterprise_id text, park_id text, kind text, cause text,
       prior_period boolean, meter_id text, interval_start timestamptz, hour_start timestamptz,
       category text, commodity text, quantity numeric, unit text, quality text,
       internal_supplier_id text, energy_kgce numeric, electricity_kwh numeric, grid_kwh numeric,
       renewable_kwh numeric, carbon_free_kwh numeric, scope1_kgco2e numeric,
       scope2_location_kgco2e numeric, scope2_market_kgco2e numeric, factors jsonb,
       source text, certificate_serials text[])`,
    [JSON.stringify(rows)],
  );
}

/** What stands for a reading, and what it was computed from. */
export interface BasisRow {
  meterId: string;
  intervalStart: string;
  enterpriseId: string;
  reading: StoredReading;
  posting: Posting;
}

/** The reading a standing posting was computed from (recomputed by restatements). */
export interface StoredReading {
  value: string;
  quality: Posting['quality'];
  /** The meter as the readings topic described it when the reading arrived. */
  meter: MeterFacts;
}

export function basisKey(meterId: string, intervalStart: string): string {
  return `${meterId}|${new Date(intervalStart).toISOString()}`;
}

/** The standing postings of one meter's intervals, locked until the transaction ends. */
export async function lockBasis(
  tx: Queryable,
  meterId: string,
  intervalStarts: readonly string[],
): Promise<Map<string, BasisRow>> {
  return lockBasisMany(
    tx,
    intervalStarts.map((intervalStart) => ({ meterId, intervalStart })),
  );
}

/**
 * The standing postings of several meters' intervals in one query, locked until the
 * transaction ends. Rows are locked in (interval, meter) order, the restatement's, so that two
 * transactions wanting some of the same rows take them in the same order.
 */
export async function lockBasisMany(
  tx: Queryable,
  keys: readonly { meterId: string; intervalStart: string }[],
): Promise<Map<string, BasisRow>> {
  if (keys.length === 0) return new Map();
  const { rows } = await tx.query<{
    meter_id: string;
    interval_start: Date;
    enterprise_id: string;
    reading: StoredReading;
    posting: Posting;
  }>(
    `SELECT meter_id, interval_start, enterprise_id, reading, posting FROM ledger_basis
     WHERE (meter_id, interval_start) IN (
       SELECT * FROM unnest($1::text[], $2::timestamptz[]))
     ORDER BY interval_start, meter_id FOR UPDATE`,
    [keys.map((key) => key.meterId), keys.map((key) => key.intervalStart)],
  );
  return new Map(
    rows.map((row) => [
      basisKey(row.meter_id, row.interval_start.toISOString()),
      {
        meterId: row.meter_id,
        intervalStart: row.interval_start.toISOString(),
        enterpriseId: row.enterprise_id,
        reading: row.reading,
        posting: row.posting,
      },
    ]),
  );
}

export function standingFor(
  basis: Map<string, BasisRow>,
  meterId: string,
  intervalStart: string,
): BasisRow | undefined {
  return basis.get(basisKey(meterId, intervalStart));
}

/**
 * Replaces the standing postings (a reading no longer accounted loses its row); each (meter,
 * interval) at most once.
 */
export async function saveBasis(
  tx: Queryable,
  rows: readonly {
    meterId: string;
    intervalStart: string;
    enterpriseId: string;
    reading: StoredReading;
    posting: Posting | undefined;
  }[],
): Promise<void> {
  const kept = rows.filter((row) => row.posting);
  const dropped = rows.filter((row) => !row.posting);
  if (kept.length > 0) {
    await tx.query(
      `INSERT INTO ledger_basis (meter_id, interval_start, enterprise_id, reading, posting, uses_fallback)
       SELECT r.meter_id, r.interval_start, r.enterprise_id, r.reading, r.posting, r.uses_fallback
       FROM jsonb_to_recordset($1::jsonb) AS r(meter_id text, interval_start timestamptz,
         enterprise_id text, reading jsonb, posting jsonb, uses_fallback boolean)
       ON CONFLICT (meter_id, interval_start) DO UPDATE SET enterprise_id = EXCLUDED.enterprise_id,
         reading = EXCLUDED.reading, posting = EXCLUDED.posting, uses_fallback = EXCLUDED.uses_fallback`,
      [
        JSON.stringify(
          kept.map((row) => ({
            meter_id: row.meterId,
            interval_start: row.intervalStart,
            enterprise_id: row.enterpriseId,
            reading: row.reading,
            posting: row.posting,
            uses_fallback: row.posting!.factors.some((factor) => factor.fallback),
          })),
        ),
      ],
    );
  }
  if (dropped.length > 0) {
    await tx.query(
      `DELETE FROM ledger_basis WHERE (meter_id, interval_start) IN (
         SELECT * FROM unnest($1::text[], $2::timestamptz[]))`,
      [dropped.map((row) => row.meterId), dropped.map((row) => row.intervalStart)],
    );
  }
}
