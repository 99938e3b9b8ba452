import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { ensureTopics, MessageProducer, messagingMigrationsDir } from '@park/messaging';
import { METERING_READINGS_TOPIC, METERING_REGISTRY_TOPIC } from '@park/metering-events';
import { loadConfig, type AuthSettings, type Role } from '@park/service-kit';
import {
  bearerMetadata,
  createTestDatabase,
  meteringStandIn,
  recordPublisher,
  testKafka,
  type MeteringStandIn,
  type Publish,
  type TestDatabase,
  serviceTestSettings,
  deleteTopicsWithPrefix,
} from '@park/testing';
import type { Kafka } from 'kafkajs';
import { dispatchMigrationsDir } from '../app';
import { dispatchConfigSchema, startDispatchService, type DispatchServer } from '../server';

export const AUTH: AuthSettings = {
  issuer: 'park-test',
  audience: 'park',
  secret: 'dispatch-grpc-test-secret-of-32-chars',
};

export type DispatchClient = park.dispatch.v1.DispatchServiceClient;

export interface DispatchHarness extends MeteringStandIn {
  db: TestDatabase;
  server: DispatchServer;
  client: DispatchClient;
  kafka: Kafka;
  prefix: string;
  topics: { registry: string; readings: string };
  publish: Publish;
  bearer(role: Role, enterpriseId?: string): Promise<grpc.Metadata>;
  stop(): Promise<void>;
}

/**
 * The dispatch service as main starts it (runtime, consumers, relay, gRPC on port 0, no
 * scheduler timer: tests call server.tick with their clock), on a fresh database and a unique
 * topic prefix, with a stand-in for metering's relay.
 */
export async function startDispatchHarness(
  name: string,
  overrides: Record<string, string> = {},
): Promise<DispatchHarness> {
  const db = await createTestDatabase(name, {
    migrations: [messagingMigrationsDir, dispatchMigrationsDir],
  });
  const prefix = `test.${name}.${randomBytes(4).toString('hex')}.`;
  const topics = {
    registry: `${prefix}${METERING_REGISTRY_TOPIC}`,
    readings: `${prefix}${METERING_READINGS_TOPIC}`,
  };
  const kafka = testKafka(`dispatch-harness-${name}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { name: topics.registry, partitions: 3, compacted: true, withDeadLetterTopic: true },
    { name: topics.readings, partitions: 3, withDeadLetterTopic: true },
  ]);
  await admin.disconnect();
  const producer = new MessageProducer(kafka);
  await producer.connect();
  const config = loadConfig(dispatchConfigSchema, {
    ...serviceTestSettings({ serviceName: `dispatch-${name}`, databaseUrl: db.url, auth: AUTH }),
    DISPATCH_TOPIC_PREFIX: prefix,
    DISPATCH_TICK_MS: '0',
    ...overrides,
  });
  const server = await startDispatchService(config, { relayPollIntervalMs: 50 });
  const client = new park.dispatch.v1.DispatchServiceClient(
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
  const publish = recordPublisher(producer);
  return {
    ...meteringStandIn(publish, topics),
    db,
    server,
    client,
    kafka,
    prefix,
    topics,
    publish,
    bearer: (role, enterpriseId) => bearerMetadata(AUTH, role, enterpriseId),
    async stop() {
      client.close();
      server.stopScheduler();
      await server.runtime.shutdown('test done').catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await deleteTopicsWithPrefix(kafka, prefix);
      await db.drop();
    },
  };
}
