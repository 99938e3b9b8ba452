import * as path from 'node:path';
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';

/** The inbox table; services list this folder after the event store's in their migrations. */
export const messagingMigrationsDir = path.resolve(__dirname, '..', 'migrations');

export type LogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** TLS and SASL are configuration: set them and nothing else changes. */
  ssl?: boolean;
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username: string;
    password: string;
  };
  logLevel?: LogLevel;
}

const LEVELS: Record<LogLevel, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/**
 * The one place that builds a kafkajs client. Everything else in the project goes through this
 * package's own interfaces (relay, producer, consumer runner, topics), so the client library can
 * be swapped without touching the services.
 */
export function createKafka(settings: KafkaSettings): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    sasl: settings.sasl as SASLOptions | undefined,
    logLevel: LEVELS[settings.logLevel ?? 'warn'],
    retry: { initialRetryTime: 200, retries: 10 },
  };
  return new Kafka(config);
}

/** Kafka settings from the environment: KAFKA_BROKERS, KAFKA_SSL, KAFKA_SASL_*, KAFKA_LOG_LEVEL. */
export function kafkaSettingsFromEnv(clientId: string, env = process.env): KafkaSettings {
  const mechanism = env.KAFKA_SASL_MECHANISM as
    NonNullable<KafkaSettings['sasl']>['mechanism'] | undefined;
  return {
    clientId,
    brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim()),
    ssl: env.KAFKA_SSL === 'true',
    sasl: mechanism
      ? {
          mechanism,
          username: env.KAFKA_SASL_USERNAME ?? '',
          password: env.KAFKA_SASL_PASSWORD ?? '',
        }
      : undefined,
    logLevel: (env.KAFKA_LOG_LEVEL as LogLevel | undefined) ?? 'warn',
  };
}
