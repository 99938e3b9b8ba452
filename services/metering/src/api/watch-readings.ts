import type { park } from '@park/contracts';
import type { Pool } from 'pg';
import { meterDescriptorToProto } from '../integration/mapper';
import type { MeterEvent, Quality } from '../readings/model';
import type {
  Commodity,
  MeterDescriptor,
  MeterRole,
  MeterUnit,
} from '../registry/meter-registration';
import { intervalValueToProto } from './proto-mapping';

type WatchResponse = park.metering.v1.WatchReadingsResponse;

export interface WatchOptions {
  enterpriseId: string;
  /** Replay stored readings from this instant first; undefined: only what is recorded from now. */
  from: Date | undefined;
  pollMs: number;
  /** Ends the stream (client gone, server draining). */
  signal: AbortSignal;
}

const PAGE = 500;
/** Replayed keys remembered to drop the same value seen again in the log (the overlap). */
const DEDUPE_KEYS = 20_000;
const READING_EVENTS = ['ReadingsRecorded', 'ReadingCorrected', 'ReadingsEstimated'];

/**
 * An enterprise's readings: the stored ones from `from` (the readings read model, in time order),
 * then the new ones as the event log records them, polled every `pollMs`. The log is read from
 * the oldest transaction still running when the watch began, in (transaction_id, global_position)
 * order below the snapshot's xmin, so a reading committed during the replay is never lost; one
 * seen by both the replay and the log with the same value is sent once.
 */
export async function* watchReadings(
  pool: Pool,
  options: WatchOptions,
): AsyncGenerator<WatchResponse> {
  const { enterpriseId, signal } = options;
  const fromMs = options.from?.getTime();
  const start = await pool.query<{ xmin: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
  );
  let position = { transactionId: start.rows[0]!.xmin, globalPosition: '-1' };
  const sent = new Map<string, string>();
  const remember = (key: string, value: string) => {
    sent.delete(key);
    sent.set(key, value);
    if (sent.size > DEDUPE_KEYS) sent.delete(sent.keys().next().value!);
  };

  if (fromMs !== undefined) {
    let after: { start: Date; meterId: string } | undefined;
    while (!signal.aborted) {
      const { rows } = await pool.query<{
        meter_id: string;
        interval_start: Date;
        value: string;
        quality: Quality;
        source: string;
        park_id: string;
        commodity: Commodity;
        role: MeterRole;
        unit: MeterUnit;
        interval_minutes: number;
        source_generator_id: string | null;
        source_entity_id: string | null;
      }>(
        `SELECT r.meter_id, r.interval_start, r.value::text, r.quality, r.source, m.park_id,
           m.commodity, m.role, m.unit, m.interval_minutes, m.source_generator_id, m.source_entity_id
         FROM readings r JOIN meters m USING (meter_id)
         WHERE r.enterprise_id = $1 AND r.interval_start >= $2 AND r.value IS NOT NULL
           AND ($3::timestamptz IS NULL OR (r.interval_start, r.meter_id) > ($3, $4))
         ORDER BY r.interval_start, r.meter_id LIMIT $5`,
        [enterpriseId, new Date(fromMs), after?.start ?? null, after?.meterId ?? '', PAGE],
      );
      for (const row of rows) {
        const descriptor: MeterDescriptor = {
          meterId: row.meter_id,
          parkId: row.park_id,
          enterpriseId,
          commodity: row.commodity,
          role: row.role,
          unit: row.unit,
          intervalMinutes: row.interval_minutes,
          ...(row.source_generator_id !== null && { sourceGeneratorId: row.source_generator_id }),
          ...(row.source_entity_id !== null && { sourceEntityId: row.source_entity_id }),
        };
        remember(`${row.meter_id}|${row.interval_start.toISOString()}`, row.value);
        yield {
          meter: meterDescriptorToProto(descriptor),
          reading: intervalValueToProto({
            intervalStart: row.interval_start,
            value: row.value,
            quality: row.quality,
            source: row.source,
          }),
          correction: false,
        };
      }
      if (rows.length < PAGE) break;
      const last = rows[rows.length - 1]!;
      after = { start: last.interval_start, meterId: last.meter_id };
    }
  }

  while (!signal.aborted) {
    const { rows } = await pool.query<{
      transaction_id: string;
      global_position: string;
      event_type: MeterEvent['type'];
      data: Record<string, unknown>;
    }>(
      `SELECT transaction_id::text, global_position::text, event_type, data FROM events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         AND event_type = ANY($3::text[])
         AND data->'meter'->>'enterpriseId' = $4
       ORDER BY transaction_id, global_position LIMIT $5`,
      [position.transactionId, position.globalPosition, READING_EVENTS, enterpriseId, PAGE],
    );
    for (const row of rows) {
      position = { transactionId: row.transaction_id, globalPosition: row.global_position };
      const event = { type: row.event_type, ...row.data } as MeterEvent;
      for (const response of responsesOf(event)) {
        const start = response.reading!.intervalStart!;
        if (fromMs !== undefined && start.getTime() < fromMs) continue;
        const key = `${response.meter!.meterId}|${start.toISOString()}`;
        const value = response.reading!.value!.value;
        if (!response.correction && sent.get(key) === value) continue;
        remember(key, value);
        yield response;
      }
    }
    if (rows.length < PAGE) await sleep(options.pollMs, signal);
  }
}

function responsesOf(event: MeterEvent): WatchResponse[] {
  switch (event.type) {
    case 'ReadingsRecorded':
      return event.readings.flatMap((reading) =>
        reading.value === undefined
          ? []
          : [
              {
                meter: meterDescriptorToProto(event.meter),
                reading: intervalValueToProto({ ...reading, value: reading.value }),
                correction: false,
              },
            ],
      );
    case 'ReadingCorrected':
      return [
        {
          meter: meterDescriptorToProto(event.meter),
          reading: intervalValueToProto({
            intervalStart: event.intervalStart,
            value: event.newValue,
            quality: event.newQuality,
            source: event.source,
          }),
          correction: true,
        },
      ];
    case 'ReadingsEstimated':
      return event.readings.map((reading) => ({
        meter: meterDescriptorToProto(event.meter),
        reading: intervalValueToProto({
          intervalStart: reading.intervalStart,
          value: reading.value,
          quality: 'estimated',
          source: 'estimation',
        }),
        correction: false,
      }));
    default:
      return [];
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
