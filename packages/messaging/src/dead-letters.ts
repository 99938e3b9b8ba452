import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { DLQ, headersToRecord } from './headers';
import type { MessageProducer } from './producer';
import { deadLetterTopic } from './topics';

export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  originalTopic: string;
  error: string;
}

export interface ReplayOptions {
  /** The original topic; its dead letters are read from `<topic>.dlq`. */
  topic: string;
  /** Consumer group that remembers how far replays got; each dead letter is replayed once. */
  replayGroupId?: string;
  timeoutMs?: number;
  onProgress?: (replayed: number, total: number) => void;
}

/**
 * Sends the dead letters not yet replayed back to their original topic (same key, value and
 * headers, ce_id included, so a consumer that already applied one skips it), then commits the
 * replay group's offsets. Reads up to the DLQ's end at the time of the call and stops.
 */
export async function replayDeadLetters(
  kafka: Kafka,
  producer: MessageProducer,
  options: ReplayOptions,
): Promise<number> {
  const dlq = deadLetterTopic(options.topic);
  const groupId = options.replayGroupId ?? `park.dlq-replay.${options.topic}`;
  const pending = await pendingRanges(kafka, dlq, groupId);
  const total = [...pending.values()].reduce(
    (sum, range) => sum + Number(range.end - range.from),
    0,
  );
  if (total === 0) return 0;

  let replayed = 0;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic: dlq, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`replaying ${dlq} timed out after ${replayed} of ${total}`)),
        options.timeoutMs ?? 60_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = pending.get(partition);
            if (!range || BigInt(message.offset) >= range.end) return;
            const headers = headersToRecord(message.headers);
            const target = headers[DLQ.originalTopic] ?? options.topic;
            const replayHeaders = Object.fromEntries(
              Object.entries(headers).filter(([name]) => !name.startsWith('dlq_')),
            );
            replayHeaders[DLQ.replayedFrom] = message.offset;
            await producer.send([
              {
                topic: target,
                key: message.key?.toString() ?? '',
                value: message.value ?? Buffer.alloc(0),
                headers: replayHeaders,
              },
            ]);
            const next = (BigInt(message.offset) + 1n).toString();
            await consumer.commitOffsets([{ topic: dlq, partition, offset: next }]);
            replayed += 1;
            options.onProgress?.(replayed, total);
            if (BigInt(next) >= range.end) pending.delete(partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return replayed;
}

/** Lists the dead letters of a topic (all of them, oldest first) without committing anything. */
export async function listDeadLetters(
  kafka: Kafka,
  topic: string,
  timeoutMs = 30_000,
): Promise<DeadLetter[]> {
  const dlq = deadLetterTopic(topic);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(dlq);
  await admin.disconnect();
  const ends = new Map(
    offsets.filter((o) => o.high !== o.low).map((o) => [o.partition, BigInt(o.high)]),
  );
  const letters: DeadLetter[] = [];
  if (ends.size === 0) return letters;
  const consumer = kafka.consumer({ groupId: `park.dlq-list.${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: dlq, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listing ${dlq} timed out`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const headers = headersToRecord(message.headers);
            letters.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value ?? Buffer.alloc(0),
              headers,
              originalTopic: headers[DLQ.originalTopic] ?? topic,
              error: headers[DLQ.error] ?? '',
            });
            if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) ends.delete(partition);
            if (ends.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

async function pendingRanges(
  kafka: Kafka,
  dlq: string,
  groupId: string,
): Promise<Map<number, { from: bigint; end: bigint }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(dlq);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [dlq] });
    const ranges = new Map<number, { from: bigint; end: bigint }>();
    for (const end of ends) {
      const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const from = BigInt(done) < 0n ? BigInt(end.low) : BigInt(done);
      if (from < BigInt(end.high)) ranges.set(end.partition, { from, end: BigInt(end.high) });
    }
    return ranges;
  } finally {
    await admin.disconnect();
  }
}
