import { infraUp } from '@park/infra';
import { containerEngineAnswers } from './docker';
import { publishTestInfrastructure, type TestInfrastructure } from './environment';

import './containers-global';

/**
 * Chooses the infrastructure for the whole test run, in this order: connection settings in the
 * environment (KAFKA_BROKERS, DATABASE_URL, REDIS_URL, all three); a Docker engine through
 * testcontainers; the local stack (system PostgreSQL and Redis, Kafka assembled from Maven).
 */
export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stdout.write(`[test infrastructure] ${line}\n`);
  const infra = await chooseInfrastructure(log);
  log(
    `using ${infra.source}: Kafka ${infra.kafkaBrokers.join(',')}, PostgreSQL ${new URL(infra.postgresUrl).host}, Redis ${new URL(infra.redisUrl).host}`,
  );
  publishTestInfrastructure(infra);
}

async function chooseInfrastructure(log: (line: string) => void): Promise<TestInfrastructure> {
  const { KAFKA_BROKERS, DATABASE_URL, REDIS_URL } = process.env;
  if (KAFKA_BROKERS && DATABASE_URL && REDIS_URL) {
    const infra = await infraUp(log);
    return {
      source: 'environment',
      postgresUrl: infra.postgresAdminUrl,
      kafkaBrokers: infra.kafkaBrokers,
      redisUrl: infra.redisUrl,
    };
  }
  if (await containerEngineAnswers()) {
    log('a Docker engine answers: starting Kafka, PostgreSQL and Redis containers');
    return startContainers();
  }
  const infra = await infraUp(log);
  return {
    source: 'local',
    postgresUrl: infra.postgresAdminUrl,
    kafkaBrokers: infra.kafkaBrokers,
    redisUrl: infra.redisUrl,
  };
}

async function startContainers(): Promise<TestInfrastructure> {
  const [{ KafkaContainer }, { PostgreSqlContainer }, { RedisContainer }] = await Promise.all([
    import('@testcontainers/kafka'),
    import('@testcontainers/postgresql'),
    import('@testcontainers/redis'),
  ]);
  const [kafka, postgres, redis] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new PostgreSqlContainer('postgres:15-alpine').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  globalThis.__PARK_TEST_CONTAINERS__ = [kafka, postgres, redis];
  return {
    source: 'containers',
    postgresUrl: postgres.getConnectionUri(),
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    redisUrl: redis.getConnectionUrl(),
  };
}
