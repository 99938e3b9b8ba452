import { setTimeout as sleep } from 'node:timers/promises';
import { inTransaction } from '@park/eventstore';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { CE, DLQ, headersToRecord } from './headers';
import type { MessageProducer } from './producer';
import { deadLetterTopic } from './topics';

export interface ConsumedMessage {
  /** ce_id when the producer set one (every relay does), else topic:partition:offset. */
  id: string;
  /** ce_type, the payload's protobuf message name; empty when absent. */
  type: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: string;
}

/** A handler error that retrying cannot cure (an undecodable payload): dead-lettered at once. */
export class PermanentMessageError extends Error {
  override readonly name = 'PermanentMessageError';
}

export type MessageHandler = (message: ConsumedMessage, tx: PoolClient) => Promise<void>;

export interface ConsumerRunnerOptions {
  groupId: string;
  topics: string[];
  /** The database the handler writes to; its inbox table records applied message ids. */
  pool: Pool;
  handler: MessageHandler;
  /** Attempts per message before it is dead-lettered. */
  maxAttempts?: number;
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Offsets are committed at the end of each batch and at least this often within one. */
  commitIntervalMs?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  onError?: (error: unknown, message: ConsumedMessage, attempt: number) => void;
  onDeadLetter?: (message: ConsumedMessage, error: unknown) => void;
}

export interface ConsumerCounters {
  applied: number;
  duplicates: number;
  deadLettered: number;
  retries: number;
}

/**
 * Runs a handler over Kafka messages with effect-once semantics: the handler's writes and the
 * inbox row commit in one PostgreSQL transaction; a failing message is retried with backoff and
 * then written to `<topic>.dlq` (original key, value and headers, plus the error) before its
 * offset is committed; heartbeats keep the group membership during long batches.
 */
export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly commitIntervalMs: number;
  private running = false;
  readonly counters: ConsumerCounters = { applied: 0, duplicates: 0, deadLettered: 0, retries: 0 };
  /** Next offset to read per topic-partition, as last committed by this runner. */
  readonly committed = new Map<string, string>();

  constructor(
    kafka: Kafka,
    private readonly deadLetterProducer: MessageProducer,
    private readonly options: ConsumerRunnerOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    this.commitIntervalMs = options.commitIntervalMs ?? 1_000;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.deadLetterProducer.connect();
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        isRunning,
        isStale,
        commitOffsetsIfNecessary,
      }) => {
        const { topic, partition } = batch;
        // The batch's own commit, given offsets, commits them even while the consumer is
        // stopping; consumer.commitOffsets would silently skip the shutdown commit then.
        const commit = async (offset: string) => {
          await commitOffsetsIfNecessary({
            topics: [{ topic, partitions: [{ partition, offset }] }],
          });
          this.committed.set(`${topic}:${partition}`, offset);
        };
        let uncommitted: string | undefined;
        let lastCommit = Date.now();
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          await this.process(this.toConsumed(topic, partition, message), heartbeat);
          resolveOffset(message.offset);
          uncommitted = (BigInt(message.offset) + 1n).toString();
          if (Date.now() - lastCommit >= this.commitIntervalMs) {
            await commit(uncommitted);
            uncommitted = undefined;
            lastCommit = Date.now();
          }
          await heartbeat();
        }
        if (uncommitted !== undefined) await commit(uncommitted);
      },
    });
  }

  /** Finishes the message in hand, commits what was processed, and leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
  }

  /** Stops cleanly on SIGTERM/SIGINT, then calls done (for example process.exit). */
  stopOnSignals(
    done: (error?: unknown) => void,
    signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
  ): void {
    const handler = () => {
      for (const signal of signals) process.off(signal, handler);
      this.stop().then(() => done(), done);
    };
    for (const signal of signals) process.on(signal, handler);
  }

  private toConsumed(topic: string, partition: number, message: KafkaMessage): ConsumedMessage {
    const headers = headersToRecord(message.headers);
    return {
      id: headers[CE.id] ?? `${topic}:${partition}:${message.offset}`,
      type: headers[CE.type] ?? '',
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString() ?? null,
      value: message.value ?? Buffer.alloc(0),
      headers,
      timestamp: message.timestamp,
    };
  }

  private async process(message: ConsumedMessage, heartbeat: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const applied = await inTransaction(this.options.pool, async (tx) => {
          const { rowCount } = await tx.query(
            `INSERT INTO inbox (consumer, message_id, topic, kafka_partition, kafka_offset)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [this.options.groupId, message.id, message.topic, message.partition, message.offset],
          );
          if (rowCount === 0) return false;
          await this.options.handler(message, tx);
          return true;
        });
        if (applied) this.counters.applied += 1;
        else this.counters.duplicates += 1;
        return;
      } catch (error) {
        this.options.onError?.(error, message, attempt);
        if (error instanceof PermanentMessageError || attempt >= this.maxAttempts) {
          await this.deadLetter(message, error, attempt);
          return;
        }
        this.counters.retries += 1;
        await this.backoff(attempt, heartbeat);
      }
    }
  }

  private async backoff(attempt: number, heartbeat: () => Promise<void>): Promise<void> {
    let remaining = Math.min(this.retryDelayMs * 2 ** (attempt - 1), this.maxRetryDelayMs);
    while (remaining > 0) {
      const slice = Math.min(remaining, 1_000);
      await sleep(slice);
      remaining -= slice;
      await heartbeat();
    }
  }

  private async deadLetter(
    message: ConsumedMessage,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const failure = error instanceof Error ? error : new Error(String(error));
    await this.deadLetterProducer.send([
      {
        topic: deadLetterTopic(message.topic),
        key: message.key ?? '',
        value: message.value,
        headers: {
          ...message.headers,
          // The id travels with the dead letter so a replay is deduplicated like the original.
          [CE.id]: message.id,
          [DLQ.originalTopic]: message.topic,
          [DLQ.originalPartition]: String(message.partition),
          [DLQ.originalOffset]: message.offset,
          [DLQ.consumerGroup]: this.options.groupId,
          [DLQ.error]: failure.message.slice(0, 2_000),
          [DLQ.errorType]: failure.name,
          [DLQ.attempts]: String(attempts),
          [DLQ.failedAt]: new Date().toISOString(),
        },
      },
    ]);
    this.counters.deadLettered += 1;
    this.options.onDeadLetter?.(message, error);
  }
}
