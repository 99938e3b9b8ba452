import { performance } from 'node:perf_hooks';
import { kafkaAnswers, startLocalKafka, stopLocalKafka } from './kafka';
import { databaseUrl, ensureDatabases, ensurePostgres, postgresAnswers, redact } from './postgres';
import { ensureRedis, redisAnswers } from './redis';
import { waitFor } from './wait';

export const SERVICES = ['metering', 'carbon', 'dispatch', 'reporting'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface Infrastructure {
  kafkaBrokers: string[];
  /** Connection string of the server's maintenance database, used to create others. */
  postgresAdminUrl: string;
  serviceDatabaseUrls: Record<ServiceName, string>;
  redisUrl: string;
}

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Brings up what the park needs: services named in the environment (KAFKA_BROKERS,
 * DATABASE_URL, REDIS_URL) are only waited for; otherwise the machine's PostgreSQL and Redis
 * are started if they do not answer, and a local Kafka broker is assembled and started.
 */
export async function infraUp(
  log: (line: string) => void = console.log,
  env = process.env,
): Promise<Infrastructure> {
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await step();
    log(`${what} ready in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return result;
  };

  const postgresAdminUrl = env.DATABASE_URL ?? DEFAULT_POSTGRES_URL;
  const redisUrl = env.REDIS_URL ?? DEFAULT_REDIS_URL;

  await timed(`PostgreSQL ${redact(postgresAdminUrl)}`, () =>
    env.DATABASE_URL
      ? waitFor('PostgreSQL', () => postgresAnswers(postgresAdminUrl), 30_000)
      : ensurePostgres(postgresAdminUrl, log),
  );
  const serviceDatabaseUrls = Object.fromEntries(
    SERVICES.map((service) => [
      service,
      env[`${service.toUpperCase()}_DATABASE_URL`] ??
        databaseUrl(postgresAdminUrl, `park_${service}`),
    ]),
  ) as Record<ServiceName, string>;
  await ensureDatabases(
    postgresAdminUrl,
    SERVICES.filter((s) => !env[`${s.toUpperCase()}_DATABASE_URL`]).map((s) => `park_${s}`),
  );

  await timed(`Redis ${redisUrl}`, () =>
    env.REDIS_URL
      ? waitFor('Redis', () => redisAnswers(redisUrl), 30_000)
      : ensureRedis(redisUrl, log),
  );

  const kafkaBrokers = env.KAFKA_BROKERS
    ? env.KAFKA_BROKERS.split(',').map((b) => b.trim())
    : [await timed('Kafka', () => startLocalKafka(log))];
  if (env.KAFKA_BROKERS) {
    await timed(`Kafka ${env.KAFKA_BROKERS}`, () =>
      waitFor('Kafka', () => kafkaAnswers(kafkaBrokers), 60_000),
    );
  }
  return { kafkaBrokers, postgresAdminUrl, serviceDatabaseUrls, redisUrl };
}

/** Stops what infraUp started itself (the local broker); system services keep running. */
export async function infraDown(log: (line: string) => void = console.log): Promise<void> {
  await stopLocalKafka(log);
}
