import type { RecordedEvent } from '@park/eventstore';
import {
  ConsumerRunner,
  createKafka,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  OutboxRelay,
  PermanentMessageError,
} from '@park/messaging';
import {
  createTestDatabase,
  eventually,
  readTopic,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { Kafka, logLevel } from 'kafkajs';
import { register as globalRegistry } from 'prom-client';
import { createMetrics, inProcessLag } from './index';

let db: TestDatabase;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  db = await createTestDatabase('telemetry_metrics', { migrations: [messagingMigrationsDir] });
});
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});
afterAll(() => db.drop());

const kafka = () =>
  createKafka({
    clientId: 'metrics-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });

/** The value of one series in Prometheus text format, or undefined when it is absent. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }
  return undefined;
}

it('reports applied, duplicate, retried and dead-lettered messages, published events, and the lag per partition from the broker', async () => {
  const client = kafka();
  const topic = uniqueTopic('metered');
  const group = `g-${topic}`;
  const admin = client.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();

  const metrics = createMetrics({ serviceName: 'metrics-test' });
  const producer = new MessageProducer(client);
  cleanup.push(
    () => metrics.close(),
    () => producer.disconnect(),
  );
  const relay = new OutboxRelay(db.store, producer, {
    name: 'metrics-relay',
    source: '//park/test',
    connectionString: db.url,
    map: (event: RecordedEvent) => ({
      topic,
      key: event.streamId,
      type: 'park.test.v1.Reading',
      payload: Buffer.from(JSON.stringify(event.data)),
    }),
  });
  metrics.observeRelay(relay);
  // Events become readable once every older transaction on the server ended (the log's gap
  // safety), and other test files share the server: publish until all have gone.
  const publishAll = async (expected: number) => {
    let published = 0;
    await eventually(async () => {
      published += await relay.catchUp();
      expect(published).toBe(expected);
    }, 30_000);
  };
  const append = async (from: number, count: number) => {
    for (let n = from; n < from + count; n++) {
      const kind = n === 3 ? 'flaky' : n === 7 ? 'poison' : 'good';
      await db.store.append(`meter-${n}`, [{ type: 'Reading', data: { n, kind } }], 'no_stream');
    }
  };

  // 10 events through the relay (one fails once, one is poison), then a duplicate of the first
  // on the topic, as a relay crash between Kafka's ack and its checkpoint would leave it.
  await append(0, 10);
  await publishAll(10);
  const first = (await readTopic(client, topic))[0]!;
  await producer.send([{ topic, key: first.key!, value: first.value!, headers: first.headers }]);

  let flakyFailures = 0;
  const runner = new ConsumerRunner(client, producer, {
    groupId: group,
    topics: [topic],
    pool: db.pool,
    maxAttempts: 3,
    retryDelayMs: 10,
    handler: async (message) => {
      const { kind } = JSON.parse(message.value.toString()) as { kind: string };
      if (kind === 'poison') throw new PermanentMessageError('cannot decode');
      if (kind === 'flaky' && flakyFailures++ === 0) throw new Error('database hiccup');
    },
  });
  metrics.observeConsumer(runner, { kafka: client });
  try {
    await runner.start();
    // All 11 records processed and their offsets committed: the next offset to read is 11.
    await eventually(() => expect(runner.committed.get(`${topic}:0`)).toBe('11'), 30_000);
  } finally {
    await runner.stop();
  }

  const { contentType, body } = await metrics.render();
  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  const consumer = { service: 'metrics-test', group };
  expect(sample(body, 'park_consumer_messages_applied_total', consumer)).toBe(9);
  expect(sample(body, 'park_consumer_messages_duplicate_total', consumer)).toBe(1);
  expect(sample(body, 'park_consumer_retries_total', consumer)).toBe(1);
  expect(sample(body, 'park_consumer_dead_letters_total', consumer)).toBe(1);
  const lagSeries = { ...consumer, topic, partition: '0' };
  expect(sample(body, 'park_consumer_lag', lagSeries)).toBe(0);
  expect(sample(body, 'park_relay_events_published_total', { relay: 'metrics-relay' })).toBe(10);
  expect(sample(body, 'process_cpu_user_seconds_total', { service: 'metrics-test' })).toBeDefined();
  expect(sample(body, 'nodejs_heap_size_used_bytes', { service: 'metrics-test' })).toBeDefined();
  expect(inProcessLag(runner)).toEqual([{ topic, partition: 0, lag: 0 }]);

  // The consumer is stopped; 5 more events reach the topic: 10 + 1 duplicate + 5 = 16 records,
  // the group committed 11, so 5 wait.
  await append(10, 5);
  await publishAll(5);
  const later = (await metrics.render()).body;
  expect(sample(later, 'park_consumer_lag', lagSeries)).toBe(5);
  expect(sample(later, 'park_relay_events_published_total', { relay: 'metrics-relay' })).toBe(15);
  expect(sample(later, 'park_consumer_lag_refresh_failures_total', consumer)).toBeUndefined();
  // The runner's own view stops at its last batch, which is why the broker is asked.
  expect(inProcessLag(runner)).toEqual([{ topic, partition: 0, lag: 0 }]);

  // The registry is the service's: prom-client's global one stays empty.
  expect(await globalRegistry.getMetricsAsJSON()).toEqual([]);
}, 90_000);

it('still answers a scrape when the broker does not, with the in-process lag and a failure counted', async () => {
  const unreachable = new Kafka({
    clientId: 'metrics-unreachable',
    brokers: ['127.0.0.1:1'],
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  // Never started: only its in-process positions and the unreachable broker are asked.
  const runner = new ConsumerRunner(kafka(), new MessageProducer(kafka()), {
    groupId: 'g-unreachable',
    topics: ['test.unreachable'],
    pool: db.pool,
    handler: async () => undefined,
  });
  runner.highWatermarks.set('test.unreachable:2', '42');
  runner.committed.set('test.unreachable:2', '40');
  const metrics = createMetrics({
    serviceName: 'metrics-test',
    defaultMetrics: false,
    lagTimeoutMs: 1_000,
  });
  cleanup.push(() => metrics.close());
  metrics.observeConsumer(runner, { kafka: unreachable });
  const started = Date.now();
  const { body } = await metrics.render();
  expect(Date.now() - started).toBeLessThan(5_000);
  const labels = { service: 'metrics-test', group: 'g-unreachable' };
  expect(sample(body, 'park_consumer_lag_refresh_failures_total', labels)).toBe(1);
  expect(
    sample(body, 'park_consumer_lag', { ...labels, topic: 'test.unreachable', partition: '2' }),
  ).toBe(2);
  expect(sample(body, 'park_consumer_dead_letters_total', labels)).toBe(0);
  expect(sample(body, 'process_cpu_user_seconds_total', {})).toBeUndefined();
});
