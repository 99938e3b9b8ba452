import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { backoffDelayMs } from '@park/testing';

export interface GatewayOptions {
  /** An integrator's (or operator's) bearer token. */
  token: string;
  /** An attempt that gets no answer within this time is abandoned and retried. */
  attemptTimeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A batch still failing after this long fails the run. */
  giveUpAfterMs: number;
}

export interface DeliveryOutcome {
  result: park.metering.v1.BatchResult;
  attempts: number;
  /** The errors of the failed attempts, in order ("UNAVAILABLE: ..."). */
  failures: string[];
  /** When the answer came (epoch ms). */
  answeredAt: number;
}

/** Errors a resend cannot cure: the batch itself (or the caller) is at fault. */
const FINAL = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.PERMISSION_DENIED,
  grpc.status.UNAUTHENTICATED,
  grpc.status.UNIMPLEMENTED,
]);

/**
 * A meter gateway: one IngestReadings stream per batch, resent with exponential backoff while
 * metering does not answer (resending is safe: a reading is identified by meter and interval).
 * Emits 'sent' when a batch is written and awaits its answer (a batch in flight).
 */
export class Gateway extends EventEmitter {
  private readonly client: park.metering.v1.MeteringServiceClient;
  private readonly metadata = new grpc.Metadata();

  constructor(
    address: string,
    private readonly options: GatewayOptions,
  ) {
    super();
    this.metadata.set('authorization', `Bearer ${options.token}`);
    // Reconnect quickly to a restarted service: grpc-js would wait up to two minutes otherwise.
    this.client = new park.metering.v1.MeteringServiceClient(
      address,
      grpc.credentials.createInsecure(),
      {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
      },
    );
  }

  async deliver(batch: park.metering.v1.IngestReadingsRequest): Promise<DeliveryOutcome> {
    const failures: string[] = [];
    const began = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.attempt(batch);
        const result = response.batches.find((b) => b.batchId === batch.batchId);
        if (!result) throw new Error(`the answer has no result for batch ${batch.batchId}`);
        return { result, attempts: attempt, failures, answeredAt: Date.now() };
      } catch (error) {
        const serviceError = error as Partial<grpc.ServiceError>;
        if (serviceError.code !== undefined && FINAL.has(serviceError.code)) throw error;
        failures.push(String((error as Error).message ?? error));
        if (Date.now() - began > this.options.giveUpAfterMs) {
          throw new Error(
            `batch ${batch.batchId} failed for ${this.options.giveUpAfterMs} ms: ${failures.at(-1)}`,
            { cause: error },
          );
        }
        await sleep(
          backoffDelayMs(attempt, this.options.initialBackoffMs, this.options.maxBackoffMs),
        );
      }
    }
  }

  close(): void {
    this.client.close();
  }

  private attempt(
    batch: park.metering.v1.IngestReadingsRequest,
  ): Promise<park.metering.v1.IngestReadingsResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.ingestReadings(
        this.metadata,
        { deadline: Date.now() + this.options.attemptTimeoutMs },
        (error, response) => (error ? reject(error) : resolve(response!)),
      );
      call.write(batch);
      call.end();
      this.emit('sent', batch.batchId);
    });
  }
}
