// The metering service's process, loaded by main.ts after telemetry has started.
import { randomUUID } from 'node:crypto';
import {
  ensureTopics,
  OutboxRelay,
  type IntegrationEventMapper,
  type TopicSpec,
} from '@park/messaging';
import {
  loadConfigOrExit,
  serviceConfigSchema,
  ServiceRuntime,
  type Logger,
  type Telemetry,
} from '@park/service-kit';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DEFAULT_BULK_LIMIT_BYTES, mountBulkReadings } from './api/http-bulk';
import { meteringGrpcService } from './api/grpc-service';
import { meteringMigrationsDir } from './app';
import { meteringEventMapper, meteringTopics } from './integration';
import { fillGaps } from './readings/gap-service';
import { MeterHotStateCache } from './readings/hot-state';
import { DEFAULT_BATCH_LIMITS, IngestService } from './readings/ingest-service';
import { DEFAULT_CACHED_METERS, MeterStreams } from './readings/meter-streams';
import { MeterDirectory } from './registry/meter-directory';
import { RegistryService } from './registry/registry-service';

export const meteringConfigSchema = serviceConfigSchema.safeExtend({
  /** How often the gap filler runs (one replica at a time, under a Redis lock). */
  METERING_GAP_FILL_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** Largest HTTP bulk upload, counted as it streams. */
  METERING_BULK_LIMIT_BYTES: z.coerce.number().int().min(1).default(DEFAULT_BULK_LIMIT_BYTES),
  /** Readings for intervals that ended longer ago are rejected. */
  METERING_LATE_WINDOW_DAYS: z.coerce.number().int().min(1).default(90),
  /** Meters whose state is kept in memory between commands (least recently used out first). */
  METERING_STATE_CACHE_METERS: z.coerce.number().int().min(1).default(DEFAULT_CACHED_METERS),
  /**
   * Reading batches (a gRPC message, a slice of a bulk upload) ingested at once, and waiting for
   * their turn; one more is refused with UNAVAILABLE / 503, so an overload cannot pile up calls
   * until the heap runs out.
   */
  METERING_INGEST_BATCHES_IN_PROGRESS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_BATCH_LIMITS.inProgress),
  METERING_INGEST_BATCHES_WAITING: z.coerce
    .number()
    .int()
    .min(0)
    .default(DEFAULT_BATCH_LIMITS.waiting),
  /**
   * Prepended to the integration topics' names (tests and benchmarks on a shared broker); empty
   * in production, where the names are the contract's.
   */
  METERING_TOPIC_PREFIX: z.string().default(''),
});

export type MeteringConfig = z.infer<typeof meteringConfigSchema>;

/** The contract's topics under a prefix, and the mapper that publishes to them. */
export function prefixedTopics(prefix: string): {
  topics: TopicSpec[];
  map: IntegrationEventMapper;
} {
  const topics = meteringTopics.map((spec) => ({ ...spec, name: `${prefix}${spec.name}` }));
  const map: IntegrationEventMapper = (event) => {
    const message = meteringEventMapper(event);
    return message && (prefix ? { ...message, topic: `${prefix}${message.topic}` } : message);
  };
  return { topics, map };
}

export interface MeteringServer {
  runtime: ServiceRuntime;
  relay: OutboxRelay;
  grpcPort: number;
  httpPort: number;
  stopGapFilling(): void;
}

/** Builds and starts the metering service; on SIGTERM or SIGINT it stops and exits. */
export async function main(telemetry?: Telemetry): Promise<MeteringServer> {
  const config = loadConfigOrExit(meteringConfigSchema, {
    SERVICE_NAME: 'metering',
    ...process.env,
  });
  const server = await startMeteringService(config, { telemetry });
  // Before the runtime's own handlers, so no new gap-filling run starts while the pool closes.
  process.once('SIGTERM', server.stopGapFilling);
  process.once('SIGINT', server.stopGapFilling);
  server.runtime.exitOnSignals();
  // A parent process (tests, supervisors) learns the bound ports, which may have been 0.
  process.send?.({ type: 'serving', grpcPort: server.grpcPort, httpPort: server.httpPort });
  return server;
}

/**
 * The metering service on a ServiceRuntime: migrated, topics ensured, relay, gap filler, gRPC
 * and the HTTP bulk upload served. For main, and for benchmarks that run it in-process; the
 * caller stops it with stopGapFilling() and runtime.shutdown().
 */
export async function startMeteringService(
  config: MeteringConfig,
  options: { telemetry?: Telemetry; relayPollIntervalMs?: number } = {},
): Promise<MeteringServer> {
  const runtime = new ServiceRuntime(config, {
    migrations: [meteringMigrationsDir],
    telemetry: options.telemetry,
  });
  await runtime.prepare();

  const { topics, map } = prefixedTopics(config.METERING_TOPIC_PREFIX);
  const admin = runtime.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  const relay = runtime.addRelay(
    new OutboxRelay(runtime.store, runtime.producer, {
      name: 'metering-relay',
      source: '//park/metering',
      connectionString: config.DATABASE_URL,
      map,
      pollIntervalMs: options.relayPollIntervalMs,
      onError: (error) => runtime.logger.warn({ err: error }, 'metering relay failed'),
    }),
  );

  const streams = new MeterStreams(runtime.store, {
    lateDataWindowDays: config.METERING_LATE_WINDOW_DAYS,
    cachedMeters: config.METERING_STATE_CACHE_METERS,
  });
  const directory = new MeterDirectory(runtime.pool);
  const registry = new RegistryService(runtime.store, streams, directory);
  const hot = new MeterHotStateCache(runtime.redis, streams, {
    onError: (error) => runtime.logger.warn({ err: error }, 'meter hot state not written'),
  });
  const ingest = new IngestService(streams, directory, hot, {
    batches: {
      inProgress: config.METERING_INGEST_BATCHES_IN_PROGRESS,
      waiting: config.METERING_INGEST_BATCHES_WAITING,
    },
  });

  const stopGapFilling = scheduleGapFilling({
    redis: runtime.redis,
    logger: runtime.logger,
    intervalMs: config.METERING_GAP_FILL_INTERVAL_MS,
    run: () => fillGaps({ pool: runtime.pool, streams, hot }, new Date()),
  });

  try {
    const { grpcPort, httpPort } = await runtime.serve({
      grpcServices: [
        meteringGrpcService({ registry, streams, directory, ingest, pool: runtime.pool }),
      ],
      httpRoutes: (router) =>
        mountBulkReadings(router, { ingest, limitBytes: config.METERING_BULK_LIMIT_BYTES }),
    });
    return { runtime, relay, grpcPort, httpPort, stopGapFilling };
  } catch (error) {
    stopGapFilling();
    throw error;
  }
}

export interface GapFillingSchedule {
  redis: Redis;
  logger: Logger;
  intervalMs: number;
  run: () => Promise<{ meters: number; changed: number; events: number; failed: unknown[] }>;
  lockKey?: string;
}

/**
 * Runs the gap filler every interval on ONE replica: each tick takes a Redis lock (SET NX PX)
 * that outlives the run's start by most of an interval, so the replicas' ticks that fall within
 * it skip. Overlapping runs would be harmless (each meter's stream decides under optimistic
 * concurrency), only wasted. Returns the function that stops it.
 */
export function scheduleGapFilling(schedule: GapFillingSchedule): () => void {
  const key = schedule.lockKey ?? 'metering:fill-gaps:lock';
  const token = randomUUID();
  const lockMs = Math.max(500, Math.floor(schedule.intervalMs * 0.9));
  let running = false;
  let stopped = false;
  const tick = async () => {
    if (running || stopped) return;
    running = true;
    try {
      const taken = await schedule.redis.set(key, token, 'PX', lockMs, 'NX');
      if (taken !== 'OK' || stopped) return;
      const summary = await schedule.run();
      const level = summary.failed.length > 0 ? 'warn' : summary.changed > 0 ? 'info' : 'debug';
      schedule.logger[level](
        {
          meters: summary.meters,
          changed: summary.changed,
          events: summary.events,
          failed: summary.failed,
        },
        'gap filling done',
      );
    } catch (error) {
      if (!stopped) schedule.logger.warn({ err: error }, 'gap filling failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), schedule.intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
