import { type EventMetadata, type Decision } from '@park/eventstore';
import { AdmissionLimiter, type AdmissionLimits } from '@park/service-kit/admission';
import { NotFoundError, PreconditionError, ValidationError } from '@park/service-kit/errors';
import type { MeterDirectory } from '../registry/meter-directory';
import { instantText, parseInstant } from '@park/domain-primitives';
import type { MeterHotStateCache } from './hot-state';
import { decideIngest } from './ingest';
import type { MeterStreams } from './meter-streams';
import type {
  IncomingReading,
  IngestReadings,
  MeterEvent,
  MeterState,
  ReadingResult,
} from './model';

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
  /** Transactions (groups of meters) processed at the same time. */
  concurrency?: number;
  /** Meters decided, appended and projected in one transaction (they commit together). */
  metersPerTransaction?: number;
  /**
   * Batches ingested at once, and batches waiting for their turn; one more is refused with
   * UNAVAILABLE (retry with backoff). Default: 32 in progress, 128 waiting.
   */
  batches?: AdmissionLimits;
}

export const DEFAULT_BATCH_LIMITS: AdmissionLimits = { inProgress: 32, waiting: 128 };

/**
 * Ingestion of reading batches for many meters: grouped by meter, each meter's readings decided
 * and appended with their read-model rows (see MeterStreams), up to metersPerTransaction meters
 * in one transaction, the per-reading results returned in the batch's order. An unknown meter
 * rejects its readings only.
 */
export class IngestService {
  private readonly concurrency: number;
  private readonly metersPerTransaction: number;
  private readonly admission: AdmissionLimiter;

  constructor(
    private readonly streams: MeterStreams,
    private readonly directory: MeterDirectory,
    private readonly hot?: MeterHotStateCache,
    options: IngestServiceOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.metersPerTransaction = Math.max(1, options.metersPerTransaction ?? 50);
    this.admission = new AdmissionLimiter('batches', options.batches ?? DEFAULT_BATCH_LIMITS);
  }

  /** Batches being ingested and waiting for their turn now. */
  get load(): { inProgress: number; waiting: number } {
    return { inProgress: this.admission.inProgress, waiting: this.admission.waiting };
  }

  ingest(batch: IngestBatch): Promise<BatchReadingResult[]> {
    return this.admission.run(() => this.ingestAdmitted(batch));
  }

  private async ingestAdmitted(batch: IngestBatch): Promise<BatchReadingResult[]> {
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

    const meters = [...groups.entries()];
    const work: [string, number[]][][] = [];
    // Spread over the workers when there are few meters; at most metersPerTransaction each.
    const size = Math.min(
      this.metersPerTransaction,
      Math.max(1, Math.ceil(meters.length / this.concurrency)),
    );
    for (let at = 0; at < meters.length; at += size) work.push(meters.slice(at, at + size));
    const worker = async () => {
      for (let next = work.shift(); next; next = work.shift()) {
        for (const result of await this.ingestMeters(next, batch, now)) {
          results[result.index] = result;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, work.length) }, worker));
    return results;
  }

  /** Several meters' readings in one transaction. */
  private async ingestMeters(
    meters: [string, number[]][],
    batch: IngestBatch,
    now: string,
  ): Promise<BatchReadingResult[]> {
    const commands: IngestReadings[] = meters.map(([meterId, indexes]) => ({
      type: 'IngestReadings',
      meterId,
      now,
      readings: indexes.map((i) => {
        const reading = batch.readings[i]!;
        // Named fields rather than an object rest, which V8 copies on its slow path per reading.
        const incoming: IncomingReading = {
          intervalStart: reading.intervalStart,
          unit: reading.unit,
          source: reading.source ?? batch.source,
        };
        if (reading.value !== undefined) incoming.value = reading.value;
        if (reading.register !== undefined) incoming.register = reading.register;
        if (reading.reason !== undefined) incoming.reason = reading.reason;
        return incoming;
      }),
    }));
    const outcomes = await this.streams.decideMany(
      commands,
      (cmd, state): Decision<MeterEvent, ReadingResult[] | NotFoundError | PreconditionError> => {
        try {
          const decision = decideIngest(cmd, state, this.streams.options);
          return { events: decision.events, result: decision.results };
        } catch (error) {
          // The registry said yes but the stream says no (not registered, another meter's
          // stream): this meter's readings are rejected, the others go on.
          if (error instanceof NotFoundError || error instanceof PreconditionError) {
            return { events: [], result: error };
          }
          throw error;
        }
      },
      batch.metadata,
    );
    const results: BatchReadingResult[] = [];
    const recorded: { meterId: string; state: MeterState; version: number }[] = [];
    for (const [meterId, indexes] of meters) {
      const outcome = outcomes.get(meterId)!;
      if (outcome.result instanceof Error) {
        const message = outcome.result.message;
        for (const index of indexes) {
          results.push(rejected(index, batch.readings[index]!, meterId, 'meter_id', message));
        }
        continue;
      }
      if (outcome.events.length > 0 && this.hot) {
        recorded.push({ meterId, state: outcome.state, version: outcome.version });
      }
      for (const result of outcome.result) results.push(toBatchResult(result, indexes, meterId));
    }
    await this.hot?.recordMany(recorded);
    return results;
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
