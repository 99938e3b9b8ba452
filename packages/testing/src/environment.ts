/**
 * Connection settings that jest's global setup hands to every test file through the
 * environment: whichever infrastructure it chose (given settings, containers or the local stack).
 */
export interface TestInfrastructure {
  source: 'environment' | 'containers' | 'local';
  postgresUrl: string;
  kafkaBrokers: string[];
  redisUrl: string;
}

const KEYS = {
  source: 'PARK_TEST_INFRA_SOURCE',
  postgresUrl: 'PARK_TEST_POSTGRES_URL',
  kafkaBrokers: 'PARK_TEST_KAFKA_BROKERS',
  redisUrl: 'PARK_TEST_REDIS_URL',
} as const;

export function publishTestInfrastructure(infra: TestInfrastructure): void {
  process.env[KEYS.source] = infra.source;
  process.env[KEYS.postgresUrl] = infra.postgresUrl;
  process.env[KEYS.kafkaBrokers] = infra.kafkaBrokers.join(',');
  process.env[KEYS.redisUrl] = infra.redisUrl;
}

export function testInfrastructure(): TestInfrastructure {
  const postgresUrl = process.env[KEYS.postgresUrl];
  const brokers = process.env[KEYS.kafkaBrokers];
  const redisUrl = process.env[KEYS.redisUrl];
  if (!postgresUrl || !brokers || !redisUrl) {
    throw new Error(
      'test infrastructure is not set up: run the tests with `npm test` (jest global setup)',
    );
  }
  return {
    source: (process.env[KEYS.source] as TestInfrastructure['source']) ?? 'local',
    postgresUrl,
    kafkaBrokers: brokers.split(','),
    redisUrl,
  };
}
