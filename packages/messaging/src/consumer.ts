import { setTimeout as sleep } from 'node:timers/promises';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { inTransaction, isDatabaseUnavailable } from '@park/eventstore';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { CE, DLQ, headersToRecord } from './headers';
import type { MessageProducer } from './producer';
import { deadLetterTopic } from './topics';
import { extractContext, MESSAGING, recordFailure, tracer } from './tracing';

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

/**
 * Decodes a record's protobuf payload. A payload that does not decode never will: protobufjs's
 * RangeError ("premature EOF", "invalid wire type") becomes a PermanentMessageError, so the
 * record is dead-lettered at once instead of being retried as if the failure were transient.
 */
export function decodePayload<T>(
  codec: { decode(input: Uint8Array): T },
  type: string,
  value: Uint8Array,
): T {
  try {
    return codec.decode(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PermanentMessageError(`undecodable ${type} payload: ${reason}`);
  }
}

/**
 * Applies one message on the transaction that also records it in the inbox. `scope` lives as
 * long as that transaction (one message, or a group of them): a handler may keep what it read
 * there (reference data, say) instead of reading it again for the next message of the group.
 */
export type MessageHandler = (
  message: ConsumedMessage,
  tx: PoolClient,
  scope: Map<string, unknown>,
) => Promise<void>;

/**
 * Applies the fresh messages of a group (in offset order, redeliveries already left out) at
 * once, on the transaction that records them in the inbox: the same effect as the handler
 * applied to each in turn, in fewer round trips. A throw rolls the whole group back; the runner
 * then applies its messages one by one with the per-message handler (retries, dead letters).
 */
export type GroupHandler = (
  messages: readonly ConsumedMessage[],
  tx: PoolClient,
  scope: Map<string, unknown>,
) => Promise<void>;

export interface ConsumerRunnerOptions {
  groupId: string;
  topics: string[];
  /** The database the handler writes to; its inbox table records applied message ids. */
  pool: Pool;
  handler: MessageHandler;
  /**
   * Attempts per message before it is dead-lettered. Attempts that fail because the database
   * is unreachable do not count: they are retried (backoff up to maxRetryDelayMs) until it is
   * back, since dead-lettering good messages during an outage would lose them until a replay.
   */
  maxAttempts?: number;
  /**
   * Messages of one fetched batch applied in ONE transaction (inbox rows and handler writes
   * together), which saves a commit and the inbox round trip per message. A group that fails
   * is applied again message by message, so retries and dead letters still concern one
   * message, up to the message that failed it (the first that fails on its own, once retried
   * to success or dead-lettered); the messages after that one are a group again. Default 1: a
   * transaction per message.
   */
  groupSize?: number;
  /**
   * Applies a group's fresh messages in one call instead of `handler` per message (see
   * GroupHandler); `handler` still applies a single message, a failed group's messages one by
   * one, and their retries. Only used when groupSize > 1.
   */
  groupHandler?: GroupHandler;
  /**
   * Fetched batches of different partitions applied at once (kafkajs'
   * partitionsConsumedConcurrently); a partition's own records stay in order. Default 1. The
   * handlers must then tolerate each other's transactions: lock rows in one order, and append
   * to a stream two of them may share under a lock rather than by expected version alone.
   */
  partitionsConsumedConcurrently?: number;
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Offsets are committed at the end of each batch and at least this often within one. */
  commitIntervalMs?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  onError?: (error: unknown, message: ConsumedMessage, attempt: number) => void;
  onDeadLetter?: (message: ConsumedMessage, error: unknown) => void;
}

/** Where this runner stands on one topic-partition it was assigned, from its own batches. */
export interface PartitionPosition {
  topic: string;
  partition: number;
  /** Next offset to read, as last committed by this runner; undefined before its first commit. */
  committed?: string;
  /** The partition's high watermark (its end offset) when the last batch was fetched. */
  highWatermark?: string;
}

/** How a message ended, also the consumer span's `park.consumer.outcome` attribute. */
export type ConsumerOutcome = 'applied' | 'duplicate' | 'dead_lettered';

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
/** A fetched Kafka record as handlers see it: its CloudEvents id and type, headers decoded. */
export function toConsumedMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
): ConsumedMessage {
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
  /** High watermark per topic-partition at the last batch fetched, for an in-process lag. */
  readonly highWatermarks = new Map<string, string>();

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

  get groupId(): string {
    return this.options.groupId;
  }

  get topics(): readonly string[] {
    return this.options.topics;
  }

  /** Committed offset and high watermark per topic-partition seen so far. */
  positions(): PartitionPosition[] {
    const keys = new Set([...this.highWatermarks.keys(), ...this.committed.keys()]);
    return [...keys].sort().map((key) => {
      const at = key.lastIndexOf(':');
      return {
        topic: key.slice(0, at),
        partition: Number(key.slice(at + 1)),
        committed: this.committed.get(key),
        highWatermark: this.highWatermarks.get(key),
      };
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
      partitionsConsumedConcurrently: Math.max(1, this.options.partitionsConsumedConcurrently ?? 1),
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
        this.highWatermarks.set(`${topic}:${partition}`, batch.highWatermark);
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
        const groupSize = Math.max(1, this.options.groupSize ?? 1);
        for (let at = 0; at < batch.messages.length; at += groupSize) {
          if (!isRunning() || isStale()) break;
          let pending = batch.messages
            .slice(at, at + groupSize)
            .map((message) => toConsumedMessage(topic, partition, message));
          while (pending.length > 0 && isRunning() && !isStale()) {
            if (pending.length > 1 && (await this.processGroup(pending))) {
              const last = pending[pending.length - 1]!.offset;
              resolveOffset(last);
              uncommitted = (BigInt(last) + 1n).toString();
              break;
            }
            // One by one up to the record that failed the group (the first one that fails on
            // its own, retried or dead-lettered); the records after it are a group again.
            let done = 0;
            while (done < pending.length && isRunning() && !isStale()) {
              const message = pending[done]!;
              const atFirstTry = await this.process(message, heartbeat);
              resolveOffset(message.offset);
              uncommitted = (BigInt(message.offset) + 1n).toString();
              done++;
              if (!atFirstTry) break;
            }
            pending = pending.slice(done);
          }
          if (uncommitted !== undefined && Date.now() - lastCommit >= this.commitIntervalMs) {
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

  /**
   * One CONSUMER span per delivery, retries included, child of the context the record carries
   * (the span that appended the event), so a trace runs from the command to every consumer.
   */
  private async process(
    message: ConsumedMessage,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    const parent = extractContext(message.headers);
    const span = tracer().startSpan(
      `${message.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [MESSAGING.system]: 'kafka',
          [MESSAGING.operationType]: 'process',
          [MESSAGING.operationName]: 'process',
          [MESSAGING.destinationName]: message.topic,
          [MESSAGING.partitionId]: String(message.partition),
          [MESSAGING.offset]: Number(message.offset),
          [MESSAGING.messageId]: message.id,
          [MESSAGING.consumerGroup]: this.options.groupId,
          ...(message.key === null ? {} : { [MESSAGING.key]: message.key }),
        },
      },
      parent,
    );
    try {
      const { outcome, tries } = await context.with(trace.setSpan(parent, span), () =>
        this.attempts(message, heartbeat, span),
      );
      span.setAttribute('park.consumer.outcome', outcome);
      return outcome !== 'dead_lettered' && tries === 1;
    } catch (error) {
      // Only a failure to write the dead letter, or a stop while the database is unreachable,
      // gets here; kafkajs then redelivers the batch.
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Applies a group in one transaction; false (nothing written) when any message of it failed,
   * for the caller to apply them one by one. One span for the group, linked to each record's.
   */
  private async processGroup(messages: ConsumedMessage[]): Promise<boolean> {
    const first = messages[0]!;
    const span = tracer().startSpan(`${first.topic} process`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        [MESSAGING.system]: 'kafka',
        [MESSAGING.operationType]: 'process',
        [MESSAGING.operationName]: 'process',
        [MESSAGING.destinationName]: first.topic,
        [MESSAGING.partitionId]: String(first.partition),
        [MESSAGING.consumerGroup]: this.options.groupId,
        [MESSAGING.batchCount]: messages.length,
      },
      links: messages.flatMap((message) => {
        const linked = trace.getSpanContext(extractContext(message.headers));
        return linked ? [{ context: linked }] : [];
      }),
    });
    try {
      const applied = await context.with(trace.setSpan(context.active(), span), () =>
        inTransaction(this.options.pool, async (tx) => {
          const { rows } = await tx.query<{ message_id: string }>(
            `INSERT INTO inbox (consumer, message_id, topic, kafka_partition, kafka_offset)
             SELECT $1, m.id, $2, $3, m.kafka_offset
             FROM unnest($4::text[], $5::bigint[]) AS m(id, kafka_offset)
             ON CONFLICT DO NOTHING RETURNING message_id`,
            [
              this.options.groupId,
              first.topic,
              first.partition,
              messages.map((message) => message.id),
              messages.map((message) => message.offset),
            ],
          );
          const fresh = new Set(rows.map((row) => row.message_id));
          // A record delivered twice within the group is applied once.
          const toApply = messages.filter((message) => fresh.delete(message.id));
          const scope = new Map<string, unknown>();
          const { groupHandler, handler } = this.options;
          if (groupHandler) {
            if (toApply.length > 0) await groupHandler(toApply, tx, scope);
          } else {
            for (const message of toApply) await handler(message, tx, scope);
          }
          return toApply.length;
        }),
      );
      this.counters.applied += applied;
      this.counters.duplicates += messages.length - applied;
      span.setAttribute('park.consumer.outcome', 'applied');
      return true;
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setAttribute('park.consumer.outcome', 'split');
      return false;
    } finally {
      span.end();
    }
  }

  /** How the message ended, and after how many tries (1: applied at once). */
  private async attempts(
    message: ConsumedMessage,
    heartbeat: () => Promise<void>,
    span: Span,
  ): Promise<{ outcome: ConsumerOutcome; tries: number }> {
    // `attempt` counts the failures of the message itself, `tries` every try (for the backoff).
    for (let attempt = 1, tries = 1; ; tries++) {
      try {
        const applied = await inTransaction(this.options.pool, async (tx) => {
          const { rowCount } = await tx.query(
            `INSERT INTO inbox (consumer, message_id, topic, kafka_partition, kafka_offset)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [this.options.groupId, message.id, message.topic, message.partition, message.offset],
          );
          if (rowCount === 0) return false;
          await this.options.handler(message, tx, new Map());
          return true;
        });
        if (applied) this.counters.applied += 1;
        else this.counters.duplicates += 1;
        span.setAttribute('park.consumer.attempts', attempt);
        return { outcome: applied ? 'applied' : 'duplicate', tries };
      } catch (error) {
        this.options.onError?.(error, message, attempt);
        const unavailable = isDatabaseUnavailable(error);
        // Stopping while the database is away: leave the message to the next consumer.
        if (unavailable && !this.running) throw error;
        if (
          !unavailable &&
          (error instanceof PermanentMessageError || attempt >= this.maxAttempts)
        ) {
          span.setAttribute('park.consumer.attempts', attempt);
          await this.deadLetter(message, error, attempt);
          recordFailure(span, error);
          return { outcome: 'dead_lettered', tries };
        }
        // A retried failure stays visible on the span, which ends well if a retry succeeds.
        span.recordException(error instanceof Error ? error : String(error));
        this.counters.retries += 1;
        await this.backoff(tries, heartbeat);
        if (!unavailable) attempt++;
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
