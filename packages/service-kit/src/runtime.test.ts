import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { ensureTopics } from '@park/messaging';
import {
  createTestDatabase,
  eventually,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import { signDevelopmentToken } from './auth';
import { loadConfig, serviceConfigSchema } from './config';
import { ServiceRuntime } from './runtime';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('runtime');
});
afterAll(() => db.drop());

it('starts a service on the kit: migrated, ready, serving gRPC and HTTP, consuming; and stops cleanly', async () => {
  const infra = testInfrastructure();
  const config = loadConfig(serviceConfigSchema, {
    SERVICE_NAME: 'runtime-test',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    JWT_SECRET: 'runtime-test-secret-that-is-32-chars',
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
  });
  const runtime = new ServiceRuntime(config);
  await runtime.prepare();
  // The inbox migration ran with the event store's.
  const tables = await db.pool.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('events', 'inbox') ORDER BY 1",
  );
  expect(tables.rows.map((r) => r.tablename)).toEqual(['events', 'inbox']);

  const topic = uniqueTopic('runtime');
  const admin = runtime.kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: topic, partitions: 1, withDeadLetterTopic: true }]);
  await admin.disconnect();
  const seen: string[] = [];
  runtime.addConsumer({
    groupId: `runtime-${topic}`,
    topics: [topic],
    handler: async (message) => {
      seen.push(message.value.toString());
    },
  });

  const { grpcPort, httpPort } = await runtime.serve();
  try {
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(await ready.json()).toMatchObject({
      ready: true,
      dependencies: { postgres: { ok: true }, kafka: { ok: true }, redis: { ok: true } },
    });

    await runtime.producer.send([{ topic, key: 'k', value: Buffer.from('hello') }]);
    await eventually(() => expect(seen).toEqual(['hello']));
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/applied/);

    const token = await signDevelopmentToken(
      { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
      { role: 'operator', subject: 'ops' },
    );
    const client = new park.diagnostics.v1.DiagnosticsServiceClient(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const pong = await new Promise<park.diagnostics.v1.PingResponse>((resolve, reject) =>
      client.ping({}, metadata, (error, response) => (error ? reject(error) : resolve(response))),
    );
    expect(pong.service).toBe('runtime-test');
    client.close();
  } finally {
    expect(await runtime.shutdown('test')).toBe(true);
  }
  // After shutdown nothing answers.
  await expect(fetch(`http://127.0.0.1:${httpPort}/healthz`)).rejects.toThrow();
});
