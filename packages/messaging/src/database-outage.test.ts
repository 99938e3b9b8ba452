import {
  createTestDatabase,
  eventually,
  readTopic,
  startPrivatePostgres,
  testInfrastructure,
  uniqueTopic,
  type PrivatePostgres,
  type TestDatabase,
} from '@park/testing';
import { createKafka, messagingMigrationsDir } from './client';
import { isDatabaseUnavailable } from '@park/eventstore';
import { ConsumerRunner } from './consumer';
import { CE } from './headers';
import { MessageProducer } from './producer';
import { deadLetterTopic, ensureTopics } from './topics';

// The fault test (tools/faults) restarts PostgreSQL under the running services. A restart that
// takes longer than the few seconds a message's retries last must not send good messages to
// the dead letters: the database is unreachable, the message is not at fault.
let server: PrivatePostgres | undefined;
let db: TestDatabase;
let producer: MessageProducer;

const kafkaClient = () =>
  createKafka({
    clientId: 'outage-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'nothing',
  });

beforeAll(async () => {
  server = await startPrivatePostgres();
  if (!server) return;
  db = await createTestDatabase('database_outage', {
    serverUrl: server.url,
    migrations: [messagingMigrationsDir],
    poolSize: 2,
  });
  await db.pool.query('CREATE TABLE applied (message_id text PRIMARY KEY)');
  producer = new MessageProducer(kafkaClient());
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
  await db?.pool.end().catch(() => undefined);
  await server?.stop();
});

it('retries messages while the database is down, however long, instead of dead-lettering them', async () => {
  if (!server) return; // no PostgreSQL binaries here (containers): nothing to stop
  const topic = uniqueTopic('outage');
  const client = kafkaClient();
  const admin = client.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();
  const runner = new ConsumerRunner(client, producer, {
    groupId: `g-${topic}`,
    topics: [topic],
    pool: db.pool,
    handler: async (message, tx) => {
      await tx.query('INSERT INTO applied (message_id) VALUES ($1)', [message.id]);
    },
    // Three attempts 50 and 100 ms apart: far shorter than the outage below.
    maxAttempts: 3,
    retryDelayMs: 50,
    maxRetryDelayMs: 500,
  });
  await runner.start();
  try {
    await producer.send([
      { topic, key: 'k', value: Buffer.from('before'), headers: { [CE.id]: 'm-1' } },
    ]);
    await eventually(() => expect(runner.counters.applied).toBe(1), 30_000);

    await server.pause();
    await producer.send([
      { topic, key: 'k', value: Buffer.from('during'), headers: { [CE.id]: 'm-2' } },
    ]);
    // Long enough for many more failed attempts than maxAttempts.
    await eventually(() => expect(runner.counters.retries).toBeGreaterThanOrEqual(5), 30_000, 50);
    await server.resume();

    await eventually(() => expect(runner.counters.applied).toBe(2), 30_000);
    const { rows } = await db.pool.query<{ message_id: string }>(
      'SELECT message_id FROM applied ORDER BY message_id',
    );
    expect(rows.map((r) => r.message_id)).toEqual(['m-1', 'm-2']);
    expect(runner.counters.deadLettered).toBe(0);
    expect(await readTopic(client, deadLetterTopic(topic))).toEqual([]);
  } finally {
    await runner.stop();
  }
}, 90_000);

it('tells an unreachable database from a failing message', () => {
  const withCode = (code: string) => Object.assign(new Error('x'), { code });
  expect(isDatabaseUnavailable(withCode('ECONNREFUSED'))).toBe(true);
  expect(isDatabaseUnavailable(withCode('57P01'))).toBe(true); // admin_shutdown
  expect(isDatabaseUnavailable(withCode('57P03'))).toBe(true); // cannot_connect_now
  expect(isDatabaseUnavailable(withCode('08006'))).toBe(true); // connection_failure
  expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isDatabaseUnavailable(withCode('23505'))).toBe(false); // unique_violation
  expect(isDatabaseUnavailable(new Error('cannot apply a poison reading'))).toBe(false);
});
