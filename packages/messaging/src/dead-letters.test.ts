import {
  createTestDatabase,
  eventually,
  readTopic,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { createKafka, messagingMigrationsDir } from './client';
import { ConsumerRunner, PermanentMessageError, type ConsumedMessage } from './consumer';
import { listDeadLetters, replayDeadLetters } from './dead-letters';
import { CE, DLQ } from './headers';
import { MessageProducer } from './producer';
import { deadLetterTopic, ensureTopics } from './topics';

let db: TestDatabase;
let producer: MessageProducer;

function kafkaClient() {
  return createKafka({
    clientId: 'dlq-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });
}

beforeAll(async () => {
  db = await createTestDatabase('dead_letters', { migrations: [messagingMigrationsDir] });
  await db.pool.query('CREATE TABLE applied (message_id text NOT NULL, body text NOT NULL)');
  producer = new MessageProducer(kafkaClient());
});
afterAll(async () => {
  await producer.disconnect();
  await db.drop();
});

async function appliedBodies(): Promise<string[]> {
  const { rows } = await db.pool.query<{ body: string }>('SELECT body FROM applied ORDER BY body');
  return rows.map((r) => r.body);
}

it('a poison message reaches the DLQ after the configured retries, the consumer goes on, and a replay after the fix applies it once', async () => {
  const topic = uniqueTopic('poison');
  const client = kafkaClient();
  const admin = client.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();

  let fixed = false;
  const attemptsSeen = new Map<string, number>();
  const handler = async (message: ConsumedMessage, tx: import('pg').PoolClient) => {
    attemptsSeen.set(message.id, (attemptsSeen.get(message.id) ?? 0) + 1);
    const body = message.value.toString();
    // Written before the failure: the rollback must take it away again.
    await tx.query('INSERT INTO applied (message_id, body) VALUES ($1, $2)', [message.id, body]);
    if (body === 'poison' && !fixed) throw new Error('cannot apply a poison reading');
  };
  const runner = new ConsumerRunner(client, producer, {
    groupId: `g-${topic}`,
    topics: [topic],
    pool: db.pool,
    handler,
    maxAttempts: 3,
    retryDelayMs: 20,
  });
  await runner.start();
  await producer.send([
    { topic, key: 'meter-1', value: Buffer.from('good-1'), headers: { [CE.id]: 'm-1' } },
    {
      topic,
      key: 'meter-2',
      value: Buffer.from('poison'),
      headers: { [CE.id]: 'm-2', [CE.type]: 'park.test.v1.Poison' },
    },
    { topic, key: 'meter-1', value: Buffer.from('good-2'), headers: { [CE.id]: 'm-3' } },
  ]);
  await eventually(async () => expect(await appliedBodies()).toEqual(['good-1', 'good-2']));
  await eventually(() => expect(runner.counters.deadLettered).toBe(1));
  // 3 attempts per delivery: 2 retries, then the dead letter. (A group rebalance under load may
  // redeliver uncommitted messages; the DLQ header below counts the attempts of the one delivery.)
  expect(attemptsSeen.get('m-2')! % 3).toBe(0);
  expect(runner.counters.retries).toBeGreaterThanOrEqual(2);

  const letters = await listDeadLetters(client, topic);
  expect(letters).toHaveLength(1);
  const letter = letters[0]!;
  expect(letter.key).toBe('meter-2');
  expect(letter.value.toString()).toBe('poison');
  expect(letter.headers).toMatchObject({
    [CE.id]: 'm-2',
    [CE.type]: 'park.test.v1.Poison',
    [DLQ.originalTopic]: topic,
    [DLQ.originalPartition]: '0',
    [DLQ.originalOffset]: '1',
    [DLQ.error]: 'cannot apply a poison reading',
    [DLQ.attempts]: '3',
    [DLQ.consumerGroup]: `g-${topic}`,
  });

  // Fix the handler, replay: applied once; a second replay has nothing left to send.
  fixed = true;
  expect(await replayDeadLetters(client, producer, { topic })).toBe(1);
  await eventually(async () =>
    expect(await appliedBodies()).toEqual(['good-1', 'good-2', 'poison']),
  );
  expect(await replayDeadLetters(client, producer, { topic })).toBe(0);

  // Even a dead letter sent again by hand (a replay group reset) has no second effect.
  await producer.send([
    { topic, key: 'meter-2', value: Buffer.from('poison'), headers: { [CE.id]: 'm-2' } },
  ]);
  await eventually(() => expect(runner.counters.duplicates).toBeGreaterThanOrEqual(1));
  expect(await appliedBodies()).toEqual(['good-1', 'good-2', 'poison']);
  await runner.stop();
});

it('a permanent error is dead-lettered at once, without retries', async () => {
  const topic = uniqueTopic('permanent');
  const client = kafkaClient();
  const admin = client.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();
  let calls = 0;
  const runner = new ConsumerRunner(client, producer, {
    groupId: `g-${topic}`,
    topics: [topic],
    pool: db.pool,
    maxAttempts: 5,
    handler: async () => {
      calls += 1;
      throw new PermanentMessageError('payload is not a park.metering.v1.ReadingsRecorded');
    },
  });
  await runner.start();
  await producer.send([{ topic, key: 'k', value: Buffer.from([0xff, 0x01]) }]);
  await eventually(async () =>
    expect(await readTopic(client, deadLetterTopic(topic))).toHaveLength(1),
  );
  await runner.stop();
  expect(calls).toBe(1);
  const [letter] = await readTopic(client, deadLetterTopic(topic));
  expect(letter!.headers[DLQ.errorType]).toBe('PermanentMessageError');
  // Without a ce_id the message id is topic:partition:offset, kept on the dead letter.
  expect(letter!.headers[CE.id]).toBe(`${topic}:0:0`);
});
