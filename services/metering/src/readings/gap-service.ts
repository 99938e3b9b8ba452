import type { Pool } from 'pg';
import { instantText, parseInstant } from '@park/domain-primitives';
import type { MeterHotStateCache } from './hot-state';
import type { MeterStreams } from './meter-streams';

export interface FillGapsOptions {
  graceDelayMinutes?: number;
  /** Meters read from the registry per page. */
  batchSize?: number;
  /** Meters worked on at the same time. */
  concurrency?: number;
}

export interface FillGapsSummary {
  meters: number;
  /** Meters that got events (estimates, GapDetected, GapClosed). */
  changed: number;
  events: number;
  failed: { meterId: string; error: string }[];
}

/**
 * FillGaps for every active meter, page by page in meter id order (bounded memory and
 * transactions); one meter's failure is reported and does not stop the others. The scheduler
 * that calls it (once, under a lock) comes with the service's main.
 */
export async function fillGaps(
  deps: { pool: Pool; streams: MeterStreams; hot?: MeterHotStateCache },
  now: string | Date,
  options: FillGapsOptions = {},
): Promise<FillGapsSummary> {
  const nowText = typeof now === 'string' ? now : instantText(now.getTime());
  if (parseInstant(nowText) === undefined) throw new RangeError(`bad instant ${nowText}`);
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 4;
  const summary: FillGapsSummary = { meters: 0, changed: 0, events: 0, failed: [] };
  let after = '';
  for (;;) {
    const { rows } = await deps.pool.query<{ meter_id: string }>(
      `SELECT meter_id FROM meters WHERE status = 'active' AND meter_id > $1
       ORDER BY meter_id LIMIT $2`,
      [after, batchSize],
    );
    if (rows.length === 0) return summary;
    after = rows[rows.length - 1]!.meter_id;
    const queue = rows.map((row) => row.meter_id);
    const worker = async () => {
      for (let meterId = queue.shift(); meterId !== undefined; meterId = queue.shift()) {
        summary.meters += 1;
        try {
          const outcome = await deps.streams.execute({
            type: 'FillGaps',
            meterId,
            now: nowText,
            ...(options.graceDelayMinutes !== undefined && {
              graceDelayMinutes: options.graceDelayMinutes,
            }),
          });
          if (outcome.events.length > 0) {
            summary.changed += 1;
            summary.events += outcome.events.length;
            await deps.hot?.record(meterId, outcome.state, outcome.version);
          }
        } catch (error) {
          summary.failed.push({
            meterId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    if (rows.length < batchSize) return summary;
  }
}
