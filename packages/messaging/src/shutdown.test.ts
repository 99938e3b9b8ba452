import {
  createTestDatabase,
  eventually,
  exitOf,
  nextMessage,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { createKafka, messagingMigrationsDir } from './client';
import { MessageProducer, type OutgoingRecord } from './producer';
import { spawnChild } from './test-support/fixtures';
import { ensureTopics } from './topics';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('shutdown', { migrations: [messagingMigrationsDir] });
  await db.pool.query(
    'CREATE TABLE processed (kafka_partition int NOT NULL, kafka_offset bigint NOT NULL)',
  );
});
afterAll(() => db.drop());

it('after SIGTERM mid-stream the committed offsets equal the last processed offsets and the process exits 0', async () => {
  const kafka = createKafka({
    clientId: 'shutdown-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });
  const topic = uniqueTopic('shutdown');
  const groupId = `g-${topic}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 3, withDeadLetterTopic: true }]);

  const producer = new MessageProducer(kafka);
  const records: OutgoingRecord[] = Array.from({ length: 3_000 }, (_, i) => ({
    topic,
    key: `meter-${i % 30}`,
    value: Buffer.from(String(i)),
  }));
  await producer.send(records);
  await producer.disconnect();

  const child = spawnChild('shutdown.child.ts', {
    CONSUMER_DATABASE_URL: db.url,
    CONSUMER_BROKERS: testInfrastructure().kafkaBrokers.join(','),
    CONSUMER_TOPIC: topic,
    CONSUMER_GROUP: groupId,
  });
  await nextMessage(child);
  const count = async () =>
    (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM processed')).rows[0]!.n;
  await eventually(async () => expect(await count()).toBeGreaterThanOrEqual(100), 30_000);
  child.kill('SIGTERM');
  expect(await exitOf(child)).toEqual({ code: 0, signal: null });

  const processedCount = await count();
  // Stopped mid-stream: 3,000 messages at 5 ms each take far longer than the wait above.
  expect(processedCount).toBeLessThan(records.length);
  const { rows } = await db.pool.query<{ kafka_partition: number; next: string; n: number }>(
    `SELECT kafka_partition, (max(kafka_offset) + 1)::text AS next, count(*)::int AS n
     FROM processed GROUP BY kafka_partition`,
  );
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  for (const partition of committed!.partitions) {
    const row = rows.find((r) => r.kafka_partition === partition.partition);
    // Committed offset = next offset to read = last processed + 1 (-1 where nothing was read).
    expect(partition.offset).toBe(row ? row.next : '-1');
    // Each partition was processed from offset 0 without a hole: n rows end at offset n - 1.
    if (row) expect(row.n).toBe(Number(row.next));
  }
});
