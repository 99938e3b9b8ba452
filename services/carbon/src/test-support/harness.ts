import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import {
  CE,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  PROTOBUF_CONTENT_TYPE,
} from '@park/messaging';
import { loadConfig, type AuthSettings, type Role } from '@park/service-kit';
import {
  bearerMetadata,
  createTestDatabase,
  testInfrastructure,
  testKafka,
  type TestDatabase,
} from '@park/testing';
import type { Kafka } from 'kafkajs';
import { carbonMigrationsDir } from '../app';
import {
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '../integration/inbound';
import { CARBON_EMISSIONS_TOPIC } from '../integration/emissions';
import { carbonConfigSchema, startCarbonService, type CarbonServer } from '../server';

export const AUTH: AuthSettings = {
  issuer: 'park-test',
  audience: 'park',
  secret: 'carbon-grpc-test-secret-of-32-chars!!',
};

const metering = park.metering.v1;
const Unit = park.common.v1.Unit;

export type CarbonClient = park.carbon.v1.CarbonServiceClient;

export interface MeterSpec {
  meterId: string;
  enterpriseId: string;
  commodity: park.metering.v1.Commodity;
  role: park.metering.v1.MeterRole;
  unit: park.common.v1.Unit;
  sourceGeneratorId?: string;
  sourceEntityId?: string;
  steamEnthalpyGjPerTonne?: string;
}

export interface CarbonHarness {
  db: TestDatabase;
  server: CarbonServer;
  client: CarbonClient;
  kafka: Kafka;
  /** The prefixed topic names this instance reads and writes. */
  topics: { registry: string; readings: string; allocations: string; emissions: string };
  bearer(role: Role, enterpriseId?: string): Promise<grpc.Metadata>;
  /** Publishes a metering or dispatch integration event as the producing service's relay would. */
  publish(
    topic: string,
    key: string,
    type: string,
    payload: Uint8Array,
    id?: string,
  ): Promise<string>;
  publishPark(parkId: string, options?: { timeZone?: string; gridRegion?: string }): Promise<void>;
  publishEnterprise(enterpriseId: string, parkId: string, name?: string): Promise<void>;
  publishMeter(meter: MeterSpec): Promise<void>;
  /** ReadingsRecorded of one meter: [interval start ISO, value] pairs. Returns the event id. */
  publishReadings(
    meter: MeterSpec,
    readings: [string, string][],
    quality?: park.metering.v1.Quality,
  ): Promise<string>;
  publishCorrection(
    meter: MeterSpec,
    intervalStart: string,
    oldValue: string,
    newValue: string,
  ): Promise<string>;
  stop(): Promise<void>;
}

function descriptor(meter: MeterSpec): park.metering.v1.MeterDescriptor {
  return {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    commodity: meter.commodity,
    role: meter.role,
    unit: meter.unit,
    intervalMinutes: 15,
    sourceGeneratorId: meter.sourceGeneratorId ?? '',
    sourceEntityId: meter.sourceEntityId ?? '',
  };
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
  const infra = testInfrastructure();
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
    { name: topics.registry, partitions: 3, compacted: true },
    { name: topics.readings, partitions: 3 },
    { name: topics.allocations, partitions: 3 },
  ]);
  await admin.disconnect();
  const producer = new MessageProducer(kafka);
  await producer.connect();

  const config = loadConfig(carbonConfigSchema, {
    SERVICE_NAME: `carbon-${name}`,
    DATABASE_URL: db.url,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    JWT_SECRET: AUTH.secret,
    JWT_ISSUER: AUTH.issuer,
    JWT_AUDIENCE: AUTH.audience,
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'error',
    CARBON_TOPIC_PREFIX: prefix,
    CARBON_PERIOD_CLOSE_INTERVAL_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  });
  const server = await startCarbonService(config, { relayPollIntervalMs: 50 });
  const client = new park.carbon.v1.CarbonServiceClient(
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createInsecure(),
  );

  const publish = async (
    topic: string,
    key: string,
    type: string,
    payload: Uint8Array,
    id: string = randomUUID(),
  ): Promise<string> => {
    await producer.send([
      {
        topic,
        key,
        value: payload,
        headers: {
          [CE.id]: id,
          [CE.type]: type,
          [CE.source]: '//park/test',
          [CE.specversion]: '1.0',
          [CE.contentType]: PROTOBUF_CONTENT_TYPE,
        },
      },
    ]);
    return id;
  };

  return {
    db,
    server,
    client,
    kafka,
    topics,
    bearer: (role, enterpriseId) => bearerMetadata(AUTH, role, enterpriseId),
    publish,
    async publishPark(parkId, options = {}) {
      await publish(
        topics.registry,
        parkId,
        'park.metering.v1.ParkConfigured',
        metering.ParkConfigured.encode({
          park: {
            parkId,
            name: parkId,
            timeZone: options.timeZone ?? 'Asia/Shanghai',
            latitude: { value: '41.8' },
            longitude: { value: '123.4' },
            gridRegion: options.gridRegion ?? 'northeast_china',
            sizeBand: metering.SizeBand.SIZE_BAND_BELOW_200K_TCE,
          },
        }).finish(),
      );
    },
    async publishEnterprise(enterpriseId, parkId, name = enterpriseId) {
      await publish(
        topics.registry,
        enterpriseId,
        'park.metering.v1.EnterpriseRegistered',
        metering.EnterpriseRegistered.encode({
          enterprise: {
            enterpriseId,
            parkId,
            name,
            creditCode: '91210106MA0Y5K7R5J',
            industryCode: 'C3120',
            exporter: true,
            energyUsing: true,
            keyEnergyConsumingUnit: false,
          },
        }).finish(),
      );
    },
    async publishMeter(meter) {
      await publish(
        topics.registry,
        meter.meterId,
        'park.metering.v1.MeterRegistered',
        metering.MeterRegistered.encode({
          meter: {
            ...descriptor(meter),
            registerType: metering.RegisterType.REGISTER_TYPE_INTERVAL,
            registerMaximum: undefined,
            multiplier: { value: '1' },
            ratedPowerKw: undefined,
            steamEnthalpyGjPerTonne: meter.steamEnthalpyGjPerTonne
              ? { value: meter.steamEnthalpyGjPerTonne }
              : undefined,
            status: metering.MeterStatus.METER_STATUS_ACTIVE,
            registeredAt: new Date(),
            serialNumber: '',
          },
        }).finish(),
      );
    },
    publishReadings(meter, readings, quality = metering.Quality.QUALITY_MEASURED) {
      return publish(
        topics.readings,
        meter.meterId,
        'park.metering.v1.ReadingsRecorded',
        metering.ReadingsRecorded.encode({
          meter: descriptor(meter),
          readings: readings.map(([start, value]) => ({
            intervalStart: new Date(start),
            value: { value },
            quality,
            source: 'gateway:test',
          })),
        }).finish(),
      );
    },
    publishCorrection(meter, intervalStart, oldValue, newValue) {
      return publish(
        topics.readings,
        meter.meterId,
        'park.metering.v1.ReadingCorrected',
        metering.ReadingCorrected.encode({
          meter: descriptor(meter),
          intervalStart: new Date(intervalStart),
          oldValue: { value: oldValue },
          oldQuality: metering.Quality.QUALITY_MEASURED,
          newValue: {
            intervalStart: new Date(intervalStart),
            value: { value: newValue },
            quality: metering.Quality.QUALITY_EDITED,
            source: 'operator:test',
          },
          reason: 'test correction',
        }).finish(),
      );
    },
    async stop() {
      client.close();
      server.stopScheduler();
      await server.runtime.shutdown('test done').catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      const cleanup = kafka.admin();
      await cleanup.connect();
      await cleanup
        .deleteTopics({
          topics: [
            ...Object.values(topics),
            `${topics.emissions}.dlq`,
            `${topics.readings}.dlq`,
            `${topics.registry}.dlq`,
            `${topics.allocations}.dlq`,
          ],
        })
        .catch(() => undefined);
      await cleanup.disconnect();
      await db.drop();
    },
  };
}

export { Unit };

/** The meters of the reference enterprise, by role. */
export function meterSpec(
  meterId: string,
  enterpriseId: string,
  kind: 'grid' | 'direct_line' | 'pv' | 'gas' | 'heat' | 'internal_heat' | 'steam',
  extra: Partial<MeterSpec> = {},
): MeterSpec {
  const C = metering.Commodity;
  const R = metering.MeterRole;
  const table: Record<typeof kind, Omit<MeterSpec, 'meterId' | 'enterpriseId'>> = {
    grid: {
      commodity: C.COMMODITY_ELECTRICITY,
      role: R.METER_ROLE_GRID_IMPORT,
      unit: Unit.UNIT_KWH,
    },
    direct_line: {
      commodity: C.COMMODITY_ELECTRICITY,
      role: R.METER_ROLE_GREEN_DIRECT_LINE,
      unit: Unit.UNIT_KWH,
    },
    pv: { commodity: C.COMMODITY_ELECTRICITY, role: R.METER_ROLE_ONSITE_PV, unit: Unit.UNIT_KWH },
    gas: {
      commodity: C.COMMODITY_NATURAL_GAS,
      role: R.METER_ROLE_GRID_IMPORT,
      unit: Unit.UNIT_NM3,
    },
    heat: { commodity: C.COMMODITY_HEAT, role: R.METER_ROLE_GRID_IMPORT, unit: Unit.UNIT_GJ },
    internal_heat: {
      commodity: C.COMMODITY_HEAT,
      role: R.METER_ROLE_INTERNAL_TRANSFER,
      unit: Unit.UNIT_GJ,
    },
    steam: { commodity: C.COMMODITY_STEAM, role: R.METER_ROLE_GRID_IMPORT, unit: Unit.UNIT_TONNE },
  };
  return { meterId, enterpriseId, ...table[kind], ...extra };
}
