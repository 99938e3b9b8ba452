import { inTransaction, type Queryable } from '@park/eventstore';
import { PermanentMessageError, toConsumedMessage, type ConsumedMessage } from '@park/messaging';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Pool } from 'pg';
import { schemaOf, type Projection } from './projection';

export interface RunnerOptions {
  kafka: Kafka;
  pool: Pool;
  projection: Projection;
  version: number;
  /** Prepended to topic names and consumer groups (tests on a shared broker). */
  prefix: string;
  onError?: (error: unknown, message?: ConsumedMessage) => void;
}

/**
 * Feeds one version of a projection. Each group of records is applied in ONE transaction with
 * the version's checkpoint (next offset per topic partition) and the ids it applied: a record
 * at an offset below the checkpoint is skipped, and so is an event id seen before (a producer
 * that published an event twice), so redelivery changes nothing. Kafka's own commit follows the
 * transaction and only saves re-reading.
 */
export class ProjectionRunner {
  private consumer?: Consumer;
  readonly schema: string;
  readonly version: number;
  applied = 0;
  skipped = 0;
  /** High watermark per "topic:partition" at the last fetch. */
  readonly highWatermarks = new Map<string, bigint>();

  constructor(private readonly options: RunnerOptions) {
    this.schema = schemaOf(options.projection.name, options.version);
    this.version = options.version;
  }

  get groupId(): string {
    return `${this.options.prefix}reporting-${this.options.projection.name}-v${this.options.version}`;
  }

  topics(): string[] {
    return this.options.projection.topics.map((topic) => `${this.options.prefix}${topic}`);
  }

  /** The version's checkpoints, "topic:partition" -> next offset. */
  async checkpoints(db: Queryable = this.options.pool): Promise<Map<string, bigint>> {
    const { rows } = await db.query<{
      topic: string;
      kafka_partition: number;
      next_offset: string;
    }>(`SELECT topic, kafka_partition, next_offset FROM ${this.schema}.checkpoints`);
    return new Map(
      rows.map((row) => [`${row.topic}:${row.kafka_partition}`, BigInt(row.next_offset)]),
    );
  }

  async start(): Promise<void> {
    const consumer = this.options.kafka.consumer({ groupId: this.groupId, sessionTimeout: 30_000 });
    this.consumer = consumer;
    await consumer.connect();
    for (const topic of this.topics()) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
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
        this.highWatermarks.set(`${topic}:${partition}`, BigInt(batch.highWatermark));
        for (let at = 0; at < batch.messages.length; at += 200) {
          if (!isRunning() || isStale()) break;
          const group = batch.messages.slice(at, at + 200);
          await this.applyGroup(topic, partition, group);
          const last = group[group.length - 1]!.offset;
          resolveOffset(last);
          await commitOffsetsIfNecessary({
            topics: [
              { topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] },
            ],
          });
          await heartbeat();
        }
      },
    });
  }

  private async applyGroup(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const counts = await inTransaction(this.options.pool, async (tx) => {
          const { rows } = await tx.query<{ next_offset: string }>(
            `SELECT next_offset FROM ${this.schema}.checkpoints WHERE topic = $1 AND kafka_partition = $2 FOR UPDATE`,
            [topic, partition],
          );
          const next = rows[0] ? BigInt(rows[0].next_offset) : 0n;
          const unread = messages
            .filter((raw) => BigInt(raw.offset) >= next)
            .map((raw) => toConsumedMessage(topic, partition, raw));
          let fresh: ConsumedMessage[] = [];
          if (unread.length > 0) {
            // One statement records the group's ids; an id seen before (or twice in the group,
            // whose first record is applied) is not returned.
            const inserted = await tx.query<{ message_id: string }>(
              `INSERT INTO ${this.schema}.applied_events (message_id)
               SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING message_id`,
              [unread.map((message) => message.id)],
            );
            const ids = new Set(inserted.rows.map((row) => row.message_id));
            fresh = unread.filter((message) => ids.delete(message.id));
          }
          if (fresh.length > 0) await this.applyFresh(tx, fresh);
          const last = BigInt(messages[messages.length - 1]!.offset) + 1n;
          await tx.query(
            `INSERT INTO ${this.schema}.checkpoints (topic, kafka_partition, next_offset) VALUES ($1, $2, $3)
             ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(${this.schema}.checkpoints.next_offset, EXCLUDED.next_offset)`,
            [topic, partition, last.toString()],
          );
          return { applied: fresh.length, skipped: messages.length - fresh.length };
        });
        // Counted once the transaction committed (a retried attempt counts nothing twice).
        this.applied += counts.applied;
        this.skipped += counts.skipped;
        return;
      } catch (error) {
        this.options.onError?.(error);
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }

  /**
   * Applies a group's fresh records: in one call to the projection's applyMany when it has one
   * (a few statements for the whole group), else, or when applyMany met a record it cannot read,
   * record by record.
   */
  private async applyFresh(tx: Queryable, messages: ConsumedMessage[]): Promise<void> {
    const { projection } = this.options;
    if (projection.applyMany) {
      await tx.query('SAVEPOINT apply_many');
      try {
        await projection.applyMany(tx, this.schema, messages);
        await tx.query('RELEASE SAVEPOINT apply_many');
        return;
      } catch (error) {
        if (!(error instanceof PermanentMessageError)) throw error;
        // Undo what the group wrote, then find the bad record(s) one by one below.
        await tx.query('ROLLBACK TO SAVEPOINT apply_many');
      }
    }
    for (const message of messages) {
      try {
        await projection.apply(tx, this.schema, message);
      } catch (error) {
        // A record this projection cannot read is recorded as rejected, never retried forever.
        if (!(error instanceof PermanentMessageError)) throw error;
        this.options.onError?.(error, message);
        await tx.query(
          `INSERT INTO ${this.schema}.rejected_events (message_id, topic, kafka_partition, kafka_offset, reason)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [
            message.id,
            message.topic,
            message.partition,
            message.offset,
            error.message.slice(0, 2_000),
          ],
        );
      }
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}

/** The base tables every projection version has. */
export async function createBaseTables(db: Queryable, schema: string): Promise<void> {
  await db.query(`
    CREATE TABLE ${schema}.checkpoints (
      topic text NOT NULL, kafka_partition integer NOT NULL, next_offset bigint NOT NULL,
      PRIMARY KEY (topic, kafka_partition));
    CREATE TABLE ${schema}.applied_events (message_id text PRIMARY KEY);
    CREATE TABLE ${schema}.rejected_events (
      message_id text PRIMARY KEY, topic text NOT NULL, kafka_partition integer NOT NULL,
      kafka_offset bigint NOT NULL, reason text NOT NULL);
  `);
}
