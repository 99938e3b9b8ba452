import { randomUUID } from 'node:crypto';
import { localDateTime, startOfLocalHour } from '@park/domain-primitives';
import {
  toJson,
  type EventMetadata,
  type EventStore,
  type JsonObject,
  type Queryable,
} from '@park/eventstore';
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
  const key = `${timeZone}|${instant}`;
  let month = months.get(key);
  if (month === undefined) {
    const local = localDateTime(
      typeof instant === 'number' ? instant : Date.parse(instant),
      timeZone,
    );
    month = `${local.year}-${String(local.month).padStart(2, '0')}`;
    if (months.size >= 50_000) months.clear();
    months.set(key, month);
  }
  return month;
}

/** monthOf's answers: every reading and line asks for its interval's month, twice. */
const months = new Map<string, string>();

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
  return (await bookLinesMany(store, tx, [booking], { metadata })).events;
}

/** Where a booked line is stored: its event's id and its index in the event's lines. */
export interface BookedLine {
  eventId: string;
  index: number;
}

/**
 * bookLines for several bookings in a fixed number of statements: the streams' locks, one
 * append of every PostingsRecorded (a booking's per month, as bookLines makes them, each with
 * the booking's cause and source), one insert of all their ledger lines. A stream's events keep
 * the order of the bookings; the streams are appended in id order. Answers the number of events
 * appended and where each booking's lines (in its order) are stored: the events' ids are
 * chosen here.
 */
export async function bookLinesMany(
  store: EventStore,
  tx: PoolClient,
  bookings: readonly LedgerBooking[],
  options: {
    metadata?: EventMetadata;
    /**
     * Basis rows whose new postings are among the lines (given where each booking's lines are
     * stored), saved in the statement that projects the lines (saveBasis's effect).
     */
    basis?: (lines: BookedLine[][]) => readonly BookedBasisRow[];
  } = {},
): Promise<{ events: number; lines: BookedLine[][] }> {
  const metadata = options.metadata ?? {};
  // Each event with its id, and for each booking line the event it goes to and its index there.
  const byStream = new Map<string, { eventId: string; event: PostingsRecorded }[]>();
  const lines = bookings.map(() => [] as BookedLine[]);
  bookings.forEach((booking, b) => {
    const byMonth = new Map<string, LedgerLine[]>();
    const months = booking.lines.map((line) => {
      const month = monthOf(line.posting.intervalStart, booking.timeZone);
      const lines = byMonth.get(month);
      if (lines) lines.push(line);
      else byMonth.set(month, [line]);
      return month;
    });
    const eventIds = new Map<string, string>();
    for (const [month, monthLines] of [...byMonth].sort(([a], [b]) => a.localeCompare(b))) {
      const event: PostingsRecorded = {
        type: 'PostingsRecorded',
        enterpriseId: booking.enterpriseId,
        parkId: booking.parkId,
        month,
        timeZone: booking.timeZone,
        cause: booking.cause,
        source: booking.source,
        ...(booking.factorSet ? { factorSet: booking.factorSet } : {}),
        lines: monthLines,
      };
      const eventId = randomUUID();
      eventIds.set(month, eventId);
      const streamId = ledgerStreamId(booking.enterpriseId, month);
      const events = byStream.get(streamId);
      if (events) events.push({ eventId, event });
      else byStream.set(streamId, [{ eventId, event }]);
    }
    const taken = new Map<string, number>();
    for (const month of months) {
      const index = taken.get(month) ?? 0;
      taken.set(month, index + 1);
      lines[b]!.push({ eventId: eventIds.get(month)!, index });
    }
  });
  if (byStream.size === 0) return { events: 0, lines };
  const streams = [...byStream].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const recorded = streams.flatMap(([, events]) => events);
  await lockLedgerStreams(
    tx,
    streams.map(([streamId]) => streamId),
  );
  await store.appendMany(
    streams.map(([streamId, events]) => ({
      streamId,
      // PostingsRecorded is plain JSON data, which appendMany serialises as it is: toJson's
      // copy (JSON's round trip) would only be serialised in its turn.
      events: events.map(({ eventId, event: { type, ...data } }) => ({
        eventId,
        type,
        data: data as unknown as JsonObject,
        metadata,
      })),
      expected: 'any' as const,
    })),
    { client: tx },
  );
  await projectLines(tx, recorded, options.basis?.(lines) ?? []);
  return { events: recorded.length, lines };
}

/** Advisory lock class of ledger streams (pg_advisory_xact_lock's first key): "LEDG". */
const LEDGER_STREAM_LOCK = 0x4c454447;

/**
 * Takes the ledger streams' transaction locks, in stream id order, before appending to them.
 * An append with expected version 'any' inside a transaction fails when another transaction
 * appends to the same stream before it commits (both take the same next version); with the
 * lock the second waits for the first to end and appends after its events instead. Every
 * ledger writer takes them (bookLines, period close), ids sorted, so two never wait on each
 * other in a cycle over streams.
 */
export async function lockLedgerStreams(
  tx: Queryable,
  streamIds: readonly string[],
): Promise<void> {
  const sorted = [...new Set(streamIds)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return;
  // unnest yields the ids in array order, so the locks are taken in that order.
  await tx.query(
    'SELECT pg_advisory_xact_lock($1::int, hashtext(id)) FROM unnest($2::text[]) AS id',
    [LEDGER_STREAM_LOCK, sorted],
  );
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

/**
 * A reading's standing posting saved from the line that booked it (its event's id and index)
 * instead of being sent again; without a line the reading is no longer accounted and loses its
 * row.
 */
export interface BookedBasisRow {
  meterId: string;
  intervalStart: string;
  enterpriseId: string;
  reading: StoredReading;
  booked: BookedLine | undefined;
  usesFallback: boolean;
}

/**
 * Projects the lines of the PostingsRecorded just appended (by event id) into ledger_lines,
 * read back from the stored events rather than sent a second time, and in the same statement
 * saves the basis rows whose postings they hold (each (meter, interval) at most once). Only the
 * park hour of each line is computed here (startOfLocalHour, by Intl's zone rules) and sent,
 * once per time zone and interval start, for the SQL to look up.
 */
async function projectLines(
  tx: Queryable,
  recorded: readonly { eventId: string; event: PostingsRecorded }[],
  basis: readonly BookedBasisRow[],
): Promise<void> {
  // Park hours by time zone and interval start, as the SQL looks them up.
  const hours: Record<string, string> = {};
  for (const { event } of recorded) {
    for (const { posting } of event.lines) {
      const key = `${event.timeZone}|${posting.intervalStart}`;
      hours[key] ??= new Date(
        startOfLocalHour(Date.parse(posting.intervalStart), event.timeZone),
      ).toISOString();
    }
  }
  const kept = basis.filter((row) => row.booked);
  const dropped = basis.filter((row) => !row.booked);
  const params: unknown[] = [recorded.map(({ eventId }) => eventId), JSON.stringify(hours)];
  if (kept.length > 0) {
    params.push(
      JSON.stringify(
        kept.map((row) => ({
          meter_id: row.meterId,
          interval_start: row.intervalStart,
          enterprise_id: row.enterpriseId,
          reading: row.reading,
          uses_fallback: row.usesFallback,
          event_id: row.booked!.eventId,
          line: row.booked!.index,
        })),
      ),
    );
  }
  await tx.query(
    `WITH recorded AS MATERIALIZED (
       -- An event's fields read once (each read of data would decompress it again).
       SELECT event_id, stream_id, stream_version, data->>'enterpriseId' AS enterprise_id,
         data->>'parkId' AS park_id, data->>'timeZone' AS time_zone, data->>'cause' AS cause,
         data->>'source' AS source, data->'lines' AS lines
       FROM events WHERE event_id = ANY($1::uuid[])
     ), projected AS (
       INSERT INTO ledger_lines (stream_id, stream_version, line_index, enterprise_id, park_id,
         kind, cause, prior_period, meter_id, interval_start, hour_start, category, commodity,
         quantity, unit, quality, internal_supplier_id, energy_kgce, electricity_kwh, grid_kwh,
         renewable_kwh, carbon_free_kwh, scope1_kgco2e, scope2_location_kgco2e,
         scope2_market_kgco2e, factors, source, certificate_serials, recorded_at)
       SELECT e.stream_id, e.stream_version, l.ord - 1, e.enterprise_id, e.park_id,
         l.line->>'kind', e.cause, (l.line->>'priorPeriod')::boolean,
         CASE WHEN l.line->>'kind' = 'certificate_coverage' THEN NULL
           ELSE p.posting->>'meterId' END,
         (p.posting->>'intervalStart')::timestamptz,
         ($2::jsonb->>(e.time_zone || '|' || (p.posting->>'intervalStart')))::timestamptz,
         p.posting->>'category', p.posting->>'commodity', (p.posting->>'quantity')::numeric,
         p.posting->>'unit', p.posting->>'quality', p.posting->>'internalSupplierId',
         (p.figures->>'energyKgce')::numeric, (p.figures->>'electricityKwh')::numeric,
         (p.figures->>'gridKwh')::numeric, (p.figures->>'renewableKwh')::numeric,
         (p.figures->>'carbonFreeKwh')::numeric, (p.figures->>'scope1KgCo2e')::numeric,
         (p.figures->>'scope2LocationKgCo2e')::numeric,
         (p.figures->>'scope2MarketKgCo2e')::numeric, p.posting->'factors', e.source,
         CASE WHEN jsonb_typeof(l.line->'certificateSerials') = 'array'
           THEN ARRAY(SELECT jsonb_array_elements_text(l.line->'certificateSerials')) END,
         now()
       FROM recorded e
         CROSS JOIN LATERAL jsonb_array_elements(e.lines) WITH ORDINALITY AS l(line, ord)
         CROSS JOIN LATERAL (SELECT l.line->'posting' AS posting,
           l.line->'posting'->'figures' AS figures) AS p
     )
     ${
       kept.length === 0
         ? 'SELECT'
         : `INSERT INTO ledger_basis (meter_id, interval_start, enterprise_id, reading, posting,
              uses_fallback)
            SELECT r.meter_id, r.interval_start, r.enterprise_id, r.reading,
              e.lines->r.line->'posting', r.uses_fallback
            FROM jsonb_to_recordset($3::jsonb) AS r(meter_id text, interval_start timestamptz,
              enterprise_id text, reading jsonb, uses_fallback boolean, event_id uuid, line int)
              JOIN recorded e ON e.event_id = r.event_id
            ON CONFLICT (meter_id, interval_start) DO UPDATE SET
              enterprise_id = EXCLUDED.enterprise_id, reading = EXCLUDED.reading,
              posting = EXCLUDED.posting, uses_fallback = EXCLUDED.uses_fallback`
     }`,
    params,
  );
  if (dropped.length > 0) {
    await tx.query(
      `DELETE FROM ledger_basis WHERE (meter_id, interval_start) IN (
         SELECT * FROM unnest($1::text[], $2::timestamptz[]))`,
      [dropped.map((row) => row.meterId), dropped.map((row) => row.intervalStart)],
    );
  }
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
  let iso = isoStarts.get(intervalStart);
  if (iso === undefined) {
    iso = new Date(intervalStart).toISOString();
    if (isoStarts.size >= 50_000) isoStarts.clear();
    isoStarts.set(intervalStart, iso);
  }
  return `${meterId}|${iso}`;
}

/** Interval starts as basis keys spell them: the same starts come by again and again. */
const isoStarts = new Map<string, string>();

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
