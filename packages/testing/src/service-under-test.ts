import type { AuthSettings } from '@park/service-kit';
import type { Kafka } from 'kafkajs';
import { testInfrastructure } from './environment';

/**
 * The settings every service under test gets: the test infrastructure, loopback on ports the
 * system picks, the test's token settings, quiet logs and time enough to leave consumer groups
 * cleanly at shutdown. A harness adds its service's own settings on top.
 */
export function serviceTestSettings(options: {
  serviceName: string;
  databaseUrl: string;
  auth: AuthSettings;
}): Record<string, string> {
  const infra = testInfrastructure();
  return {
    SERVICE_NAME: options.serviceName,
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    JWT_SECRET: options.auth.secret ?? '',
    JWT_ISSUER: options.auth.issuer,
    JWT_AUDIENCE: options.auth.audience,
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'error',
    SHUTDOWN_TIMEOUT_MS: '30000',
  };
}

/** Deletes every topic whose name starts with the test's prefix (dead-letter topics included). */
export async function deleteTopicsWithPrefix(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const doomed = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
