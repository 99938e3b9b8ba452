import type { PoolClient } from 'pg';
import {
  createTestDatabase,
  eventually,
  readTopic,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { createKafka, messagingMigrationsDir } from './client';
import { ConsumerRunner, type ConsumedMessage } from './consumer';
import { CE } from './headers';
import { MessageProducer } from './producer';
import { deadLetterTopic, ensureTopics } from './topics';

let db: TestDatabase;
let producer: MessageProducer;
const kafka = () =>
  createKafka({
    clientId: 'groups-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });

beforeAll(async () => {
  db = await createTestDatabase('consumer_groups', { migrations: [messagingMigrationsDir] });
  await db.pool.query('CREATE TABLE applied (message_id text NOT NULL, body text NOT NULL)');
  producer = new MessageProducer(kafka());
});
afterAll(async () => {
  await producer.disconnect();
  await db.drop();
});

it('applies a fetched batch in groups, each record once, and splits a group around a poison record', async () => {
  const topic = uniqueTopic('groups');
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();

  // 50 records; record 7 is sent twice with the same id (a producer retry), record 31 is poison.
  const bodies = Array.from({ length: 50 }, (_, i) => `r${i}`);
  const records = bodies.map((body, i) => ({
    topic,
    key: 'k',
    value: Buffer.from(i === 31 ? 'poison' : body),
    headers: { [CE.id]: `id-${i}`, [CE.type]: 'test.Record' },
  }));
  records.splice(8, 0, { ...records[7]! });
  await producer.send(records);

  const transactions = new Set<number>();
  const handler = async (message: ConsumedMessage, tx: PoolClient) => {
    const { rows } = await tx.query<{ xid: string }>('SELECT txid_current()::text AS xid');
    transactions.add(Number(rows[0]!.xid));
    await tx.query('INSERT INTO applied (message_id, body) VALUES ($1, $2)', [
      message.id,
      message.value.toString(),
    ]);
    if (message.value.toString() === 'poison') throw new Error('cannot apply poison');
  };
  const runner = new ConsumerRunner(client, producer, {
    groupId: `g-${topic}`,
    topics: [topic],
    pool: db.pool,
    handler,
    maxAttempts: 2,
    retryDelayMs: 10,
    groupSize: 20,
  });
  await runner.start();
  try {
    await eventually(() => {
      if (runner.counters.applied + runner.counters.deadLettered < 50) throw new Error('not yet');
    }, 30_000);
  } finally {
    await runner.stop();
  }

  const { rows } = await db.pool.query<{ message_id: string; n: number }>(
    'SELECT message_id, count(*)::int AS n FROM applied GROUP BY message_id',
  );
  // 49 good records applied exactly once (the duplicate of id-7 skipped), the poison not at all.
  expect(rows).toHaveLength(49);
  expect(rows.every((row) => row.n === 1)).toBe(true);
  expect(rows.some((row) => row.message_id === 'id-31')).toBe(false);
  expect(runner.counters).toMatchObject({ applied: 49, deadLettered: 1, duplicates: 1 });
  // 51 records in groups of 20: far fewer transactions than records, even with the split
  // group (its 20 records one by one, the poison twice).
  expect(transactions.size).toBeLessThan(35);
  const dead = await readTopic(client, deadLetterTopic(topic));
  expect(dead.map((record) => record.headers[CE.id])).toEqual(['id-31']);
});

it('hands a group handler the fresh records of each group, and falls back to the per-record handler up to the record that failed it', async () => {
  const topic = uniqueTopic('group-handler');
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();

  // 30 records; record 4 is sent twice with the same id (a redelivery), record 12 is poison.
  const records = Array.from({ length: 30 }, (_, i) => ({
    topic,
    key: 'k',
    value: Buffer.from(i === 12 ? 'poison' : `r${i}`),
    headers: { [CE.id]: `gh-${i}`, [CE.type]: 'test.Record' },
  }));
  records.splice(5, 0, { ...records[4]! });
  await producer.send(records);

  const groupCalls: string[][] = [];
  const insert = (tx: PoolClient, ids: string[], bodies: string[], via: string) =>
    tx.query(
      `INSERT INTO applied (message_id, body)
       SELECT id, body || '@' || $3 FROM unnest($1::text[], $2::text[]) AS m(id, body)`,
      [ids, bodies, via],
    );
  const runner = new ConsumerRunner(client, producer, {
    groupId: `g-${topic}`,
    topics: [topic],
    pool: db.pool,
    maxAttempts: 2,
    retryDelayMs: 10,
    groupSize: 10,
    groupHandler: async (messages, tx) => {
      groupCalls.push(messages.map((message) => message.id));
      const bodies = messages.map((message) => message.value.toString());
      // Written before the failure: the rollback must take it away again.
      await insert(
        tx,
        messages.map((message) => message.id),
        bodies,
        'group',
      );
      if (bodies.includes('poison')) throw new Error('cannot apply poison');
    },
    handler: async (message, tx) => {
      await insert(tx, [message.id], [message.value.toString()], 'single');
      if (message.value.toString() === 'poison') throw new Error('cannot apply poison');
    },
  });
  await runner.start();
  try {
    await eventually(() => {
      if (runner.counters.applied + runner.counters.deadLettered < 30) throw new Error('not yet');
    }, 30_000);
  } finally {
    await runner.stop();
  }

  const { rows } = await db.pool.query<{ message_id: string; body: string }>(
    "SELECT message_id, body FROM applied WHERE message_id LIKE 'gh-%'",
  );
  const applied = new Map(rows.map((row) => [row.message_id, row.body]));
  // 29 good records applied exactly once (the redelivered gh-4 skipped), the poison not at all.
  expect(rows).toHaveLength(29);
  expect(applied.has('gh-12')).toBe(false);
  expect(runner.counters).toMatchObject({ applied: 29, deadLettered: 1, duplicates: 1 });
  // A group handler never sees one record twice, nor a record already in the inbox.
  for (const ids of groupCalls) expect(new Set(ids).size).toBe(ids.length);
  expect(groupCalls.flat().filter((id) => id === 'gh-4').length).toBeLessThanOrEqual(1);
  // The group with the poison in it was rolled back and applied record by record up to the
  // poison; the records after it were a group again (a lone one applied by itself). The groups
  // without the poison were applied by the group handler.
  const poisoned = groupCalls.find((ids) => ids.includes('gh-12'))!;
  const before = poisoned.slice(0, poisoned.indexOf('gh-12'));
  const after = poisoned.slice(poisoned.indexOf('gh-12') + 1);
  expect(poisoned.length).toBeGreaterThan(1);
  for (const id of before) expect(applied.get(id)).toMatch(/@single$/);
  for (const id of after)
    expect(applied.get(id)).toMatch(after.length > 1 ? /@group$/ : /@single$/);
  if (after.length > 1) {
    expect(groupCalls[groupCalls.indexOf(poisoned) + 1]).toEqual(after);
  }
  const byGroup = [...applied].filter(([, body]) => body.endsWith('@group')).map(([id]) => id);
  expect(byGroup.length).toBeGreaterThan(0);
  for (const id of byGroup) expect(before).not.toContain(id);
  expect(byGroup.every((id) => groupCalls.some((ids) => ids.includes(id)))).toBe(true);
  const dead = await readTopic(client, deadLetterTopic(topic));
  expect(dead.map((record) => record.headers[CE.id])).toEqual(['gh-12']);
});
