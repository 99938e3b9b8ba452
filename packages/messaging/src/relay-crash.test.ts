import { LOG_START } from '@park/eventstore';
import {
  createTestDatabase,
  exitOf,
  nextMessage,
  readTopic,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { createKafka } from './client';
import { ConsumerRunner } from './consumer';
import { CE } from './headers';
import { MessageProducer } from './producer';
import { OutboxRelay } from './relay';
import { decodeVersion, quantityMapper, spawnChild } from './test-support/fixtures';
import { ensureTopics } from './topics';
import { messagingMigrationsDir } from './client';
import { eventually } from '@park/testing';

const STREAMS = 6;
const EVENTS_PER_STREAM = 20;
const TOTAL = STREAMS * EVENTS_PER_STREAM; // 6 x 20 = 120 events
const FIRST_BATCH = 25;

let db: TestDatabase;
const kafka = () =>
  createKafka({
    clientId: 'relay-crash-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });

beforeAll(async () => {
  db = await createTestDatabase('relay_crash', { migrations: [messagingMigrationsDir] });
  await db.pool.query(
    'CREATE TABLE effects (message_id text NOT NULL, stream text NOT NULL, version int NOT NULL)',
  );
});
afterAll(() => db.drop());

it('a relay killed after Kafka acknowledged and before its checkpoint loses nothing, and consumers apply each event once', async () => {
  const topic = uniqueTopic('relay-crash');
  const admin = kafka().admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 3, withDeadLetterTopic: true }]);
  await admin.disconnect();

  // Interleave the streams so that each batch holds events of several keys.
  for (let version = 1; version <= EVENTS_PER_STREAM; version++) {
    for (let s = 0; s < STREAMS; s++) {
      await db.store.append(
        `meter-${s}`,
        [{ type: 'Counted', data: { n: version } }],
        version - 1 === 0 ? 'no_stream' : version - 1,
      );
    }
  }

  const child = spawnChild('relay-crash.child.ts', {
    RELAY_DATABASE_URL: db.url,
    RELAY_BROKERS: testInfrastructure().kafkaBrokers.join(','),
    RELAY_TOPIC: topic,
    RELAY_BATCH_SIZE: String(FIRST_BATCH),
  });
  const { acked } = await nextMessage<{ acked: number }>(child);
  expect(acked).toBe(FIRST_BATCH);
  child.kill('SIGKILL');
  expect((await exitOf(child)).signal).toBe('SIGKILL');

  // The batch is on Kafka but the checkpoint never moved.
  const { rows } = await db.pool.query(
    "SELECT global_position FROM processor_checkpoints WHERE processor = 'relay'",
  );
  expect(BigInt(rows[0]?.global_position ?? 0)).toBe(LOG_START.globalPosition);
  expect((await readTopic(kafka(), topic)).length).toBe(FIRST_BATCH);

  // Restart: the relay publishes from its stored checkpoint, the first batch again included.
  const producer = new MessageProducer(kafka());
  const relay = new OutboxRelay(db.store, producer, {
    name: 'relay',
    source: '//park/test',
    connectionString: db.url,
    map: quantityMapper(topic),
    batchSize: FIRST_BATCH,
  });
  expect(await relay.catchUp()).toBe(TOTAL);

  const records = await readTopic(kafka(), topic);
  // 120 events + the 25 of the first batch published twice.
  expect(records.length).toBe(TOTAL + FIRST_BATCH);
  const ids = new Set(records.map((r) => r.headers[CE.id]));
  expect(ids.size).toBe(TOTAL);
  for (let s = 0; s < STREAMS; s++) {
    const versions = records
      .filter((r) => r.key === `meter-${s}`)
      .map((r) => decodeVersion(r.value));
    const partitions = new Set(
      records.filter((r) => r.key === `meter-${s}`).map((r) => r.partition),
    );
    expect(partitions.size).toBe(1);
    // Per key, the topic holds the versions in order, a prefix of them possibly twice:
    // dropping repeats of an already-seen version leaves exactly 1..20.
    const firstSeen = versions.filter((v, i) => versions.indexOf(v) === i);
    expect(firstSeen).toEqual(Array.from({ length: EVENTS_PER_STREAM }, (_, i) => i + 1));
    const restart = versions.findIndex((v, i) => i > 0 && v <= versions[i - 1]!);
    if (restart >= 0)
      expect(versions.slice(restart)).toEqual(
        Array.from({ length: versions.length - restart }, (_, i) => versions[restart]! + i),
      );
  }
  const first = records[0]!;
  expect(first.headers).toMatchObject({
    [CE.type]: 'park.common.v1.Quantity',
    [CE.source]: '//park/test',
    [CE.specversion]: '1.0',
    'content-type': 'application/protobuf',
  });

  // A consumer applies each event once, duplicates on the topic notwithstanding.
  const consumer = new ConsumerRunner(kafka(), producer, {
    groupId: `effects-${topic}`,
    topics: [topic],
    pool: db.pool,
    handler: async (message, tx) => {
      await tx.query('INSERT INTO effects (message_id, stream, version) VALUES ($1, $2, $3)', [
        message.id,
        message.key,
        decodeVersion(message.value),
      ]);
    },
  });
  await consumer.start();
  try {
    await eventually(async () => {
      expect(consumer.counters.applied + consumer.counters.duplicates).toBe(TOTAL + FIRST_BATCH);
    }, 30_000);
  } finally {
    await consumer.stop();
    await producer.disconnect();
  }
  const effects = await db.pool.query(
    'SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS distinct_ids FROM effects',
  );
  expect(effects.rows[0]).toEqual({ n: TOTAL, distinct_ids: TOTAL });
  expect(consumer.counters.duplicates).toBe(FIRST_BATCH);
});
