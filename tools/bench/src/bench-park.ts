import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import type { Infrastructure } from '@park/infra';
import type { AuthSettings } from '@park/service-kit';
import {
  bearerMetadata,
  startParkServices,
  type ParkServices,
  type ParkServicesOptions,
  type Service,
} from '@park/testing';
import { meteringTopics } from '@park/metering/integration';
import { deployedNodeOptions } from './deployed-settings';

/**
 * A Redis database of the load benchmarks' own, emptied before and after (tests use 0, 11 and
 * 13), so no cache of an earlier run is seen and nothing is left behind.
 */
const BENCH_REDIS_DB = 14;

/** The services' settings in every load benchmark, beside their defaults. */
function benchServiceEnv(services: readonly Service[]): NonNullable<ParkServicesOptions['env']> {
  const env: NonNullable<ParkServicesOptions['env']> = {
    // The load's readings lie in the past month: a gap-filling pass would estimate every interval
    // from there to now for each load meter, work no gateway traffic causes.
    metering: { METERING_GAP_FILL_INTERVAL_MS: '3600000' },
    // Nor may carbon close that month under the load (its readings would become restatements).
    carbon: { CARBON_PERIOD_CLOSE_INTERVAL_MS: '0' },
  };
  // The heap limits of the cluster: memory and pauses as deployed.
  for (const service of services) {
    env[service] = { ...env[service], NODE_OPTIONS: deployedNodeOptions(service) };
  }
  return env;
}

export interface BenchPark {
  services: ParkServices;
  /** Topic prefix of this run: every topic and consumer group of the services starts with it. */
  prefix: string;
  auth: AuthSettings;
  /** Operator's call metadata: allowed everything, so the benchmark measures work, not refusals. */
  operator: grpc.Metadata;
  metering: park.metering.v1.MeteringServiceClient;
  /** Name of metering's readings topic under the prefix. */
  readingsTopic: string;
  /** Closes the clients, stops the services, drops their databases, deletes their topics. */
  stop(): Promise<void>;
}

/**
 * The services as child processes, as `npm start` runs them, on databases, topics and a Redis
 * database of their own, on loopback ports the system picks.
 */
export async function startBenchPark(
  infra: Infrastructure,
  label: string,
  services: readonly Service[],
): Promise<BenchPark> {
  const id = randomBytes(4).toString('hex');
  const prefix = `bench.${label}.${id}.`;
  const auth: AuthSettings = {
    secret: `bench-${label}-${id}-secret-of-at-least-32-characters`,
    issuer: 'park-dev',
    audience: 'park',
  };
  const running = await startParkServices({
    infrastructure: {
      postgresUrl: infra.postgresAdminUrl,
      kafkaBrokers: infra.kafkaBrokers,
      redisUrl: infra.redisUrl,
    },
    prefix,
    label: `bench_${label}`,
    jwtSecret: auth.secret!,
    redisDb: BENCH_REDIS_DB,
    services,
    env: benchServiceEnv(services),
  });
  const metering = new park.metering.v1.MeteringServiceClient(
    running.grpc('metering'),
    grpc.credentials.createInsecure(),
  );
  const readings = meteringTopics.find((spec) => spec.name.endsWith('.readings.v1'))!;
  return {
    services: running,
    prefix,
    auth,
    operator: await bearerMetadata(auth, 'operator'),
    metering,
    readingsTopic: `${prefix}${readings.name}`,
    async stop() {
      metering.close();
      await running.cleanup();
    },
  };
}
