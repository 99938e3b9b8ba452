import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { messagingMigrationsDir } from '@park/messaging';
import {
  createGrpcServer,
  createLogger,
  Readiness,
  TokenVerifier,
  type AuthSettings,
  type GrpcServer,
  type Role,
} from '@park/service-kit';
import {
  bearerMetadata,
  createTestDatabase,
  failure,
  statusOf,
  testInfrastructure,
  unary,
  type TestDatabase,
} from '@park/testing';
import { Redis } from 'ioredis';
import { meteringMigrationsDir } from '../../app';
import { MeterHotStateCache } from '../../readings/hot-state';
import { IngestService } from '../../readings/ingest-service';
import { MeterStreams } from '../../readings/meter-streams';
import { MeterDirectory } from '../../registry/meter-directory';
import { RegistryService } from '../../registry/registry-service';
import { meteringGrpcService } from '../grpc-service';

export const AUTH: AuthSettings = {
  issuer: 'park-test',
  audience: 'park',
  secret: 'metering-grpc-test-secret-of-32-chars!',
};

export type Client = park.metering.v1.MeteringServiceClient;

export interface Harness {
  db: TestDatabase;
  redis: Redis;
  registry: RegistryService;
  streams: MeterStreams;
  ingest: IngestService;
  client: Client;
  server: GrpcServer;
  stop(): Promise<void>;
}

/**
 * The metering gRPC service on a real server (127.0.0.1, port 0), over a fresh test database with
 * the metering migrations and the test Redis, with the clock fixed at `now`.
 */
export async function startHarness(name: string, now: string): Promise<Harness> {
  const db = await createTestDatabase(name, {
    migrations: [messagingMigrationsDir, meteringMigrationsDir],
    poolSize: 12,
  });
  const redis = new Redis(testInfrastructure().redisUrl, { db: 11 });
  const streams = new MeterStreams(db.store);
  const directory = new MeterDirectory(db.pool);
  const registry = new RegistryService(db.store, streams, directory);
  const hot = new MeterHotStateCache(redis, streams, { prefix: db.name });
  const ingest = new IngestService(streams, directory, hot);
  const readiness = new Readiness([]);
  await readiness.start();
  const server = createGrpcServer({
    config: {
      SERVICE_NAME: 'metering-test',
      SERVICE_VERSION: '0.0.0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: 0,
      SHUTDOWN_TIMEOUT_MS: 5_000,
    },
    verifier: new TokenVerifier(AUTH),
    logger: createLogger({
      service: 'metering-test',
      level: 'error',
      destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    }),
    readiness,
    services: [
      meteringGrpcService({
        registry,
        streams,
        directory,
        ingest,
        pool: db.pool,
        clock: () => new Date(now),
        watchPollMs: 100,
      }),
    ],
  });
  const port = await server.start();
  const client = new park.metering.v1.MeteringServiceClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  return {
    db,
    redis,
    registry,
    streams,
    ingest,
    client,
    server,
    async stop() {
      client.close();
      await server.shutdown({ timeoutMs: 2_000 });
      readiness.stop();
      redis.disconnect();
      await db.drop();
    },
  };
}

export function bearer(role: Role, enterpriseId?: string): Promise<grpc.Metadata> {
  return bearerMetadata(AUTH, role, enterpriseId);
}

export { failure, statusOf, unary };

/** IngestReadings: writes the batches in order, then ends the stream. */
export function ingestStream(
  client: Client,
  metadata: grpc.Metadata,
  batches: park.metering.v1.IngestReadingsRequest[],
): Promise<park.metering.v1.IngestReadingsResponse> {
  return new Promise((resolve, reject) => {
    const call = client.ingestReadings(metadata, (error, response) =>
      error ? reject(error) : resolve(response!),
    );
    for (const batch of batches) call.write(batch);
    call.end();
  });
}

/** Reads `count` messages of a WatchReadings stream, then cancels it. */
export function watchFirst(
  client: Client,
  metadata: grpc.Metadata,
  request: park.metering.v1.WatchReadingsRequest,
  count: number,
  onMessage?: (index: number) => void,
): Promise<park.metering.v1.WatchReadingsResponse[]> {
  return new Promise((resolve, reject) => {
    const received: park.metering.v1.WatchReadingsResponse[] = [];
    const call = client.watchReadings(request, metadata);
    let done = false;
    call.on('data', (message: park.metering.v1.WatchReadingsResponse) => {
      if (done) return;
      received.push(message);
      onMessage?.(received.length);
      if (received.length >= count) {
        done = true;
        call.cancel();
        resolve(received);
      }
    });
    call.on('error', (error: grpc.ServiceError) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
    call.on('end', () => {
      if (!done) {
        done = true;
        resolve(received);
      }
    });
  });
}

export const decimal = (value: string): park.common.v1.Decimal => ({ value });

/** The tests' clock: 2025-03-10 00:00 UTC (08:00 in Shanghai), interval k = T0 + k x 15 min. */
export const T0 = Date.parse('2025-03-10T00:00:00Z');
export const q = (k: number) => new Date(T0 + k * 15 * 60_000);
export const NOW = '2025-03-21T00:00:00.000Z';
