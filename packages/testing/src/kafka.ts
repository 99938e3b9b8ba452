import { randomBytes } from 'node:crypto';
import { headersToRecord } from '@park/messaging';
import { Kafka, logLevel } from 'kafkajs';
import { testInfrastructure } from './environment';

/** A topic name no other test file or earlier run uses. */
export function uniqueTopic(name: string): string {
  return `test.${name}.${randomBytes(4).toString('hex')}`;
}

export function testKafka(clientId = 'park-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
}

export interface TopicRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic's records from the beginning up to each partition's current end, without a
 * consumer group, so assertions see exactly what is on the topic.
 */
export async function readTopic(kafka: Kafka, topic: string): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Awaited<ReturnType<typeof admin.fetchTopicOffsets>>;
  try {
    ends = await retryWhileRetriable(() => admin.fetchTopicOffsets(topic));
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map(
    ends.filter((p) => p.high !== p.low).map((p) => [p.partition, BigInt(p.high)]),
  );
  const records: TopicRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(6).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 30_000);
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: headersToRecord(message.headers),
          });
          if (BigInt(message.offset) + 1n >= (remaining.get(partition) ?? 0n))
            remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return records.sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}

/**
 * A topic created moments ago can answer "not the leader for that topic-partition" until its
 * leaders are known everywhere: kafkajs marks such errors retriable, so they are retried for a while.
 */
async function retryWhileRetriable<T>(work: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
