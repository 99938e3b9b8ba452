import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { ensureTopics, MessageProducer, messagingMigrationsDir } from '@park/messaging';
import {
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/metering-events';
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
import { reportingMigrationsDir } from '../app';
import {
  DISPATCH_PLANS_TOPIC,
  DISPATCH_SETPOINT_ACKS_TOPIC,
  DISPATCH_SETPOINTS_TOPIC,
} from '../projections/dispatch';
import { CARBON_EMISSIONS_TOPIC } from '../projections/emissions';
import { hourlyEmissionsPayload } from './emissions-payloads';
import { reportingConfigSchema, startReportingService, type ReportingServer } from '../server';

export const AUTH: AuthSettings = {
  issuer: 'park-test',
  audience: 'park',
  secret: 'reporting-grpc-test-secret-of-32-chars',
};

export type ReportingClient = park.reporting.v1.ReportingServiceClient;

export interface ReportingHarness extends MeteringStandIn {
  db: TestDatabase;
  server: ReportingServer;
  client: ReportingClient;
  kafka: Kafka;
  prefix: string;
  topics: {
    registry: string;
    readings: string;
    emissions: string;
    plans: string;
    allocations: string;
    setpoints: string;
    acks: string;
  };
  publish: Publish;
  /** An HourlyEmissionsAccounted record as carbon's relay publishes it. */
  publishHours(
    enterpriseId: string,
    hours: {
      hourStart: string;
      change: Partial<Record<keyof park.carbon.v1.Figures, string>>;
      internal?: Partial<Record<keyof park.carbon.v1.Figures, string>>;
    }[],
    id?: string,
  ): Promise<string>;
  bearer(role: Role, enterpriseId?: string): Promise<grpc.Metadata>;
  httpUrl: string;
  stop(): Promise<void>;
}

/**
 * The reporting service as main starts it, on a fresh database and a unique topic prefix, with
 * stand-ins for the producers of the topics it reads (metering, carbon, dispatch).
 */
export async function startReportingHarness(
  name: string,
  overrides: Record<string, string> = {},
  options: Parameters<typeof startReportingService>[1] = {},
): Promise<ReportingHarness> {
  const db = await createTestDatabase(name, {
    migrations: [messagingMigrationsDir, reportingMigrationsDir],
  });
  const prefix = `test.${name}.${randomBytes(4).toString('hex')}.`;
  const topics = {
    registry: `${prefix}${METERING_REGISTRY_TOPIC}`,
    readings: `${prefix}${METERING_READINGS_TOPIC}`,
    emissions: `${prefix}${CARBON_EMISSIONS_TOPIC}`,
    plans: `${prefix}${DISPATCH_PLANS_TOPIC}`,
    allocations: `${prefix}${GREEN_ALLOCATIONS_TOPIC}`,
    setpoints: `${prefix}${DISPATCH_SETPOINTS_TOPIC}`,
    acks: `${prefix}${DISPATCH_SETPOINT_ACKS_TOPIC}`,
  };
  const kafka = testKafka(`reporting-harness-${name}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { name: topics.registry, partitions: 3, compacted: true },
    { name: topics.readings, partitions: 3 },
    { name: topics.emissions, partitions: 3 },
    { name: topics.plans, partitions: 1 },
    { name: topics.allocations, partitions: 3 },
    { name: topics.setpoints, partitions: 3 },
    { name: topics.acks, partitions: 3 },
  ]);
  await admin.disconnect();
  const producer = new MessageProducer(kafka);
  await producer.connect();
  const config = loadConfig(reportingConfigSchema, {
    ...serviceTestSettings({ serviceName: `reporting-${name}`, databaseUrl: db.url, auth: AUTH }),
    REPORTING_TOPIC_PREFIX: prefix,
    ...overrides,
  });
  const server = await startReportingService(config, options);
  const client = new park.reporting.v1.ReportingServiceClient(
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
    httpUrl: `http://127.0.0.1:${server.httpPort}`,
    publishHours(enterpriseId, hours, id) {
      return publish(
        topics.emissions,
        enterpriseId,
        'park.carbon.v1.HourlyEmissionsAccounted',
        hourlyEmissionsPayload(enterpriseId, hours),
        id,
      );
    },
    bearer: (role, enterpriseId) => bearerMetadata(AUTH, role, enterpriseId),
    async stop() {
      client.close();
      await server.projections.stop().catch(() => undefined);
      await server.runtime.shutdown('test done').catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await deleteTopicsWithPrefix(kafka, prefix);
      await db.drop();
    },
  };
}
