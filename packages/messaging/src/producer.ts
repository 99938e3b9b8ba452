import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: Buffer | Uint8Array;
  headers?: Record<string, string>;
}

/**
 * The project's producer: idempotent, acknowledged by all in-sync replicas, one request in flight
 * so a retry cannot reorder records, and the Java client's murmur2 partitioner set explicitly so
 * keys land on the same partitions as with any Java or librdkafka producer.
 */
export class MessageProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // An idempotent producer retries until Kafka answers; a send never gives up half way and
      // reorders. A stalled send holds the relay's checkpoint, and shutdown has its deadline.
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
    });
  }

  async connect(): Promise<void> {
    this.connected ??= this.producer.connect();
    await this.connected;
  }

  /** Sends records in order (per partition) and resolves once every one is acknowledged. */
  async send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(record);
      byTopic.set(record.topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((record) => ({
          key: record.key,
          value: Buffer.from(record.value),
          headers: record.headers,
        })),
      })),
    });
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = undefined;
    await this.producer.disconnect();
  }
}
