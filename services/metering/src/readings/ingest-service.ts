import type { EventMetadata } from '@park/eventstore';
import { NotFoundError, PreconditionError, ValidationError } from '@park/service-kit/errors';
import type { MeterDirectory } from '../registry/meter-directory';
import { instantText, parseInstant } from '../shared/park-time';
import type { MeterHotStateCache } from './hot-state';
import { decideIngest } from './ingest';
import type { MeterStreams } from './meter-streams';
import type { IncomingReading, IngestReadings, ReadingResult } from './model';

export interface BatchReading extends Omit<IncomingReading, 'source'> {
  meterId: string;
  /** Defaults to the batch's source. */
  source?: string;
}

export interface IngestBatch {
  readings: BatchReading[];
  /** Who delivered the batch: "gateway:gw-17", "csv:upload-42", "parkctl". */
  source: string;
  /** The clock the future and late-data checks use. */
  now: string | Date;
  metadata?: EventMetadata;
}

/** A reading's outcome; `index` is its position in the batch, `field` names it in the batch. */
export type BatchReadingResult = ReadingResult & { meterId: string };

export interface IngestServiceOptions {
  /** Meters processed at the same time (each one transaction). */
  concurrency?: number;
}

/**
 * Ingestion of reading batches for many meters: grouped by meter, each meter's readings decided
 * and appended in one transaction with their read-model rows (see MeterStreams), the per-reading
 * results returned in the batch's order. An unknown meter rejects its readings only.
 */
export class IngestService {
  private readonly concurrency: number;

  constructor(
    private readonly streams: MeterStreams,
    private readonly directory: MeterDirectory,
    private readonly hot?: MeterHotStateCache,
    options: IngestServiceOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
  }

  async ingest(batch: IngestBatch): Promise<BatchReadingResult[]> {
    const now = typeof batch.now === 'string' ? batch.now : instantText(batch.now.getTime());
    if (parseInstant(now) === undefined) {
      throw ValidationError.field('now', 'must be an ISO 8601 instant with an offset');
    }
    if (!Array.isArray(batch.readings)) {
      throw ValidationError.field('readings', 'must be a list of readings');
    }
    const results: BatchReadingResult[] = new Array(batch.readings.length);
    const groups = new Map<string, number[]>();
    batch.readings.forEach((reading, index) => {
      const meterId = typeof reading?.meterId === 'string' ? reading.meterId.trim() : '';
      if (meterId === '') {
        results[index] = rejected(index, reading, '', 'meter_id', 'is required');
        return;
      }
      const group = groups.get(meterId) ?? [];
      group.push(index);
      groups.set(meterId, group);
    });

    const known = await this.directory.getMany(groups.keys());
    for (const [meterId, indexes] of groups) {
      if (known.has(meterId)) continue;
      for (const index of indexes) {
        results[index] = rejected(
          index,
          batch.readings[index]!,
          meterId,
          'meter_id',
          `meter ${meterId} is not registered`,
        );
      }
      groups.delete(meterId);
    }

    await this.streams.partitions.ensure(
      [...groups.values()].flatMap((indexes) =>
        indexes.map((i) => batch.readings[i]!.intervalStart),
      ),
    );

    const work = [...groups.entries()];
    const worker = async () => {
      for (let next = work.shift(); next; next = work.shift()) {
        const [meterId, indexes] = next;
        for (const result of await this.ingestMeter(meterId, indexes, batch, now)) {
          results[result.index] = result;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, work.length) }, worker));
    return results;
  }

  private async ingestMeter(
    meterId: string,
    indexes: number[],
    batch: IngestBatch,
    now: string,
  ): Promise<BatchReadingResult[]> {
    const readings: IncomingReading[] = indexes.map((i) => {
      const { meterId: _meterId, source, ...reading } = batch.readings[i]!;
      return { ...reading, source: source ?? batch.source };
    });
    const command: IngestReadings = { type: 'IngestReadings', meterId, now, readings };
    try {
      const outcome = await this.streams.decide(
        meterId,
        command,
        (cmd, state) => {
          const decision = decideIngest(cmd, state, this.streams.options);
          return { events: decision.events, result: decision.results };
        },
        batch.metadata,
      );
      if (outcome.events.length > 0)
        await this.hot?.record(meterId, outcome.state, outcome.version);
      return outcome.result.map((result) => toBatchResult(result, indexes, meterId));
    } catch (error) {
      // The registry said yes but the stream says no (not registered, another meter's stream).
      if (!(error instanceof NotFoundError || error instanceof PreconditionError)) throw error;
      return indexes.map((index) =>
        rejected(index, batch.readings[index]!, meterId, 'meter_id', error.message),
      );
    }
  }
}

function toBatchResult(
  result: ReadingResult,
  indexes: number[],
  meterId: string,
): BatchReadingResult {
  const index = indexes[result.index]!;
  if (result.status !== 'rejected') return { ...result, index, meterId };
  return {
    ...result,
    index,
    meterId,
    field: result.field.replace(/^readings\[\d+\]/, `readings[${index}]`),
  };
}

function rejected(
  index: number,
  reading: Partial<BatchReading> | undefined,
  meterId: string,
  field: string,
  reason: string,
): BatchReadingResult {
  return {
    index,
    meterId,
    intervalStart: String(reading?.intervalStart ?? ''),
    status: 'rejected',
    field: `readings[${index}].${field}`,
    reason,
  };
}
