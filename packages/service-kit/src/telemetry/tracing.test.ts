import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { SpanKind, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import type { RecordedEvent } from '@park/eventstore';
import {
  CE,
  createKafka,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  OutboxRelay,
} from '@park/messaging';
import {
  createTestDatabase,
  eventually,
  readTopic,
  spawnTsChild,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { InMemorySpanExporter, startTelemetry, type Telemetry } from './index';
import type { ChildReport, ChildSpan } from './tracing.child';

let db: TestDatabase;
let telemetry: Telemetry;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  db = await createTestDatabase('telemetry_tracing', { migrations: [messagingMigrationsDir] });
  // jest loads modules through its own registry, which the instrumentations cannot patch.
  telemetry = startTelemetry({
    serviceName: 'tracing-test',
    serviceVersion: '0.0.0',
    spanExporter: exporter,
    instrumentations: [],
    env: {},
  });
});
afterAll(async () => {
  await telemetry.shutdown();
  await db.drop();
});

const kafka = () =>
  createKafka({
    clientId: 'tracing-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });

function spawnConsumer(env: Record<string, string>): ChildProcess {
  return spawnTsChild(path.join(__dirname, 'tracing.child.ts'), env);
}

function reportOf(child: ChildProcess): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as ChildReport));
    child.once('exit', (code, signal) =>
      reject(new Error(`consumer process exited (${code ?? signal}) without a report`)),
    );
  });
}

/** Appends one reading inside a span of its own, as a command handler would. */
async function appendInSpan(name: string, stream: string, kwh: number): Promise<SpanContext> {
  return trace.getTracer('test').startActiveSpan(name, async (span) => {
    await db.store.append(stream, [{ type: 'ReadingRecorded', data: { kwh } }], 'no_stream');
    span.end();
    return span.spanContext();
  });
}

it('a consumer in another process continues the trace of the span that appended the event', async () => {
  const topic = uniqueTopic('traced');
  const admin = kafka().admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();

  const reading = await appendInSpan('append reading', 'meter-1', 5);
  const poison = await appendInSpan('append poison', 'meter-2', -1);
  const stored = await db.store.readStream('meter-1');
  expect(stored[0]!.metadata.traceparent).toBe(`00-${reading.traceId}-${reading.spanId}-01`);
  // Outside a span nothing is invented.
  await db.store.append('meter-3', [{ type: 'ReadingRecorded', data: { kwh: 1 } }], 'no_stream');
  expect((await db.store.readStream('meter-3'))[0]!.metadata).toEqual({});

  const producer = new MessageProducer(kafka());
  const relay = new OutboxRelay(db.store, producer, {
    name: 'relay',
    source: '//park/test',
    connectionString: db.url,
    map: (event: RecordedEvent) =>
      event.streamId === 'meter-3'
        ? null
        : {
            topic,
            key: event.streamId,
            type: 'park.test.v1.ReadingRecorded',
            payload: Buffer.from(JSON.stringify(event.data)),
          },
  });
  // Events become readable once every older transaction on the server ended (the log's gap
  // safety), and other test files share the server: publish until all have gone.
  let published = 0;
  await eventually(async () => {
    published += await relay.catchUp();
    expect(published).toBe(3);
  }, 30_000);
  await producer.disconnect();
  const records = await readTopic(kafka(), topic);
  expect(records.map((r) => r.headers[CE.traceparent])).toEqual([
    `00-${reading.traceId}-${reading.spanId}-01`,
    `00-${poison.traceId}-${poison.spanId}-01`,
  ]);

  // The relay's batch is a PRODUCER span of its own trace, linked to both appending spans.
  const publish = exporter.getFinishedSpans().find((s) => s.name === `${topic} publish`)!;
  expect(publish.kind).toBe(SpanKind.PRODUCER);
  expect(publish.parentSpanContext).toBeUndefined();
  expect(publish.links.map((link) => link.context.spanId)).toEqual([reading.spanId, poison.spanId]);
  expect(publish.attributes).toMatchObject({
    'messaging.system': 'kafka',
    'messaging.destination.name': topic,
    'messaging.batch.message_count': 2,
  });

  const child = spawnConsumer({
    CHILD_DATABASE_URL: db.url,
    CHILD_BROKERS: testInfrastructure().kafkaBrokers.join(','),
    CHILD_TOPIC: topic,
    CHILD_GROUP: `g-${topic}`,
    CHILD_EXPECTED: '2',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const report = await reportOf(child);
  await exited;
  expect(report.preloaded).toEqual([]);
  const consumed = (context: SpanContext): ChildSpan =>
    report.spans.find((s) => s.name === `${topic} process` && s.traceId === context.traceId)!;

  const applied = consumed(reading);
  expect(applied).toMatchObject({
    kind: SpanKind.CONSUMER,
    traceId: reading.traceId,
    parentSpanId: reading.spanId,
    status: { code: SpanStatusCode.UNSET },
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 0,
      'messaging.message.id': stored[0]!.eventId,
      'messaging.consumer.group.name': `g-${topic}`,
      'messaging.kafka.message.key': 'meter-1',
      'park.consumer.outcome': 'applied',
    },
  });
  // The handler's queries, traced by the pg instrumentation, are children of the consumer span.
  const queries = report.spans.filter(
    (s) => s.parentSpanId === applied.spanId && s.kind === SpanKind.CLIENT,
  );
  expect(queries.length).toBeGreaterThan(0);
  expect(queries.every((s) => s.traceId === reading.traceId)).toBe(true);

  const failed = consumed(poison);
  expect(failed).toMatchObject({
    kind: SpanKind.CONSUMER,
    parentSpanId: poison.spanId,
    status: { code: SpanStatusCode.ERROR, message: 'a negative reading' },
    attributes: { 'messaging.kafka.offset': 1, 'park.consumer.outcome': 'dead_lettered' },
  });
  expect(failed.events).toContain('exception');
}, 120_000);
