// A consuming service in a process of its own, for the cross-process trace test. It starts
// telemetry the way a service's main does (before pg and kafkajs are loaded), consumes the
// topic until it has processed the expected messages, and sends its finished spans to the
// parent over IPC.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InMemorySpanExporter,
  startTelemetry,
  type ReadableSpan,
} from '@park/service-kit/telemetry';

export interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: string[];
}

export interface ChildReport {
  /** Instrumented modules already loaded when telemetry started: must be none. */
  preloaded: string[];
  spans: ChildSpan[];
}

const INSTRUMENTED = /[\\/]node_modules[\\/](pg|@grpc[\\/]grpc-js|express|ioredis|kafkajs)[\\/]/;

function toChildSpan(span: ReadableSpan): ChildSpan {
  return {
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    attributes: { ...span.attributes },
    status: { ...span.status },
    events: span.events.map((event) => event.name),
  };
}

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const preloaded = Object.keys(require.cache).filter((file) => INSTRUMENTED.test(file));
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({
    serviceName: 'tracing-child',
    serviceVersion: '0.0.0',
    spanExporter: exporter,
    env: {},
  });

  // Loaded only now, as a service's main loads its server after startTelemetry.
  const { createPool } = await import('@park/eventstore');
  const { ConsumerRunner, MessageProducer, PermanentMessageError, createKafka } =
    await import('@park/messaging');
  const pool = createPool({ connectionString: env.CHILD_DATABASE_URL! });
  const kafka = createKafka({
    clientId: 'tracing-child',
    brokers: env.CHILD_BROKERS!.split(','),
    logLevel: 'error',
  });
  const producer = new MessageProducer(kafka);
  const runner = new ConsumerRunner(kafka, producer, {
    groupId: env.CHILD_GROUP!,
    topics: [env.CHILD_TOPIC!],
    pool,
    handler: async (message, tx) => {
      const body = JSON.parse(message.value.toString()) as { kwh: number };
      if (body.kwh < 0) throw new PermanentMessageError('a negative reading');
      await tx.query('SELECT $1::numeric AS kwh', [body.kwh]);
    },
  });
  await runner.start();
  const expected = Number(env.CHILD_EXPECTED);
  const processed = () => exporter.getFinishedSpans().filter((s) => s.name.endsWith(' process'));
  const deadline = Date.now() + 45_000;
  while (processed().length < expected && Date.now() < deadline) await sleep(50);
  await runner.stop();
  await producer.disconnect();
  await pool.end();
  const report: ChildReport = {
    preloaded,
    spans: exporter.getFinishedSpans().map(toChildSpan),
  };
  await telemetry.shutdown();
  process.send!(report, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
