import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { ensureTopics, MessageProducer, messagingMigrationsDir } from '@park/messaging';
import { loadConfig, type AuthSettings, type Role } from '@park/service-kit';
import {
  bearerMetadata,
  createTestDatabase,
  meterSpec,
  meteringStandIn,
  recordPublisher,
  type MeteringStandIn,
  type MeterSpec,
  type Publish,
  testKafka,
  type TestDatabase,
  serviceTestSettings,
  deleteTopicsWithPrefix,
} from '@park/testing';
import type { Kafka } from 'kafkajs';
import { carbonMigrationsDir } from '../app';
import {
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/metering-events';
import { CARBON_EMISSIONS_TOPIC } from '../integration/emissions';
import { carbonConfigSchema, startCarbonService, type CarbonServer } from '../server';

export const AUTH: AuthSettings = {
  issuer: 'park-test',
  audience: 'park',
  secret: 'carbon-grpc-test-secret-of-32-chars!!',
};

export type CarbonClient = park.carbon.v1.CarbonServiceClient;

export interface CarbonHarness extends MeteringStandIn {
  db: TestDatabase;
  server: CarbonServer;
  client: CarbonClient;
  kafka: Kafka;
  /** The prefixed topic names this instance reads and writes. */
  topics: { registry: string; readings: string; allocations: string; emissions: string };
  bearer(role: Role, enterpriseId?: string): Promise<grpc.Metadata>;
  /** Publishes a metering or dispatch integration event as the producing service's relay would. */
  publish: Publish;
  stop(): Promise<void>;
}

/**
 * The carbon service as main starts it (its runtime, consumers, relay and gRPC on port 0), on a
 * fresh database and a unique topic prefix of the shared broker, with a producer standing in
 * for metering and dispatch.
 */
export async function startCarbonHarness(
  name: string,
  overrides: Record<string, string> = {},
): Promise<CarbonHarness> {
  const db = await createTestDatabase(name, {
    migrations: [messagingMigrationsDir, carbonMigrationsDir],
  });
  const prefix = `test.${name}.${randomBytes(4).toString('hex')}.`;
  const topics = {
    registry: `${prefix}${METERING_REGISTRY_TOPIC}`,
    readings: `${prefix}${METERING_READINGS_TOPIC}`,
    allocations: `${prefix}${GREEN_ALLOCATIONS_TOPIC}`,
    emissions: `${prefix}${CARBON_EMISSIONS_TOPIC}`,
  };
  const kafka = testKafka(`carbon-harness-${name}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { name: topics.registry, partitions: 3, compacted: true, withDeadLetterTopic: true },
    { name: topics.readings, partitions: 3, withDeadLetterTopic: true },
    { name: topics.allocations, partitions: 3, withDeadLetterTopic: true },
  ]);
  await admin.disconnect();
  const producer = new MessageProducer(kafka);
  await producer.connect();

  const config = loadConfig(carbonConfigSchema, {
    ...serviceTestSettings({ serviceName: `carbon-${name}`, databaseUrl: db.url, auth: AUTH }),
    CARBON_TOPIC_PREFIX: prefix,
    CARBON_PERIOD_CLOSE_INTERVAL_MS: '0',
    ...overrides,
  });
  const server = await startCarbonService(config, { relayPollIntervalMs: 50 });
  const client = new park.carbon.v1.CarbonServiceClient(
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createInsecure(),
  );

  const publish = recordPublisher(producer);

  return {
    db,
    server,
    client,
    kafka,
    topics,
    bearer: (role, enterpriseId) => bearerMetadata(AUTH, role, enterpriseId),
    publish,
    ...meteringStandIn(publish, topics),
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

export { meterSpec, type MeterSpec };
