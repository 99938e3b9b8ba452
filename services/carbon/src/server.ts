// The carbon service's process, loaded by main.ts after telemetry has started.
import {
  prepareTopics,
  OutboxRelay,
  type ConsumerRunner,
  type IntegrationEventMapper,
  type TopicSpec,
} from '@park/messaging';
import {
  deadLetterBadInput,
  loadConfigOrExit,
  serviceConfigSchema,
  ServiceRuntime,
  type Telemetry,
} from '@park/service-kit';
import { z } from 'zod';
import { carbonGrpcService } from './api/grpc-service';
import { carbonMigrationsDir } from './app';
import { CbamService } from './cbam/cbam-service';
import { DEFAULT_VINTAGE_RULES } from './certificates';
import { CertificateService } from './certificates/certificate-service';
import { applyRegistryFact } from './directory/directory';
import { FactorCatalogCache, FactorCatalogService } from './factors/catalog-store';
import { GeneratorService } from './generators/generator-service';
import {
  carbonEventMapper,
  carbonTopics,
  decodeAllocationRecord,
  decodeReadingsRecord,
  decodeRegistryRecord,
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from './integration';
import { AccountingService } from './ledger/accounting-service';
import { Restatements } from './ledger/restatement';
import { PeriodCloser } from './periods/period-close';

export const carbonConfigSchema = serviceConfigSchema.safeExtend({
  /** A month closes this many days after its end (late readings and corrections first). */
  CARBON_LATE_WINDOW_DAYS: z.coerce.number().int().min(0).default(90),
  /** How often months past their window are closed; 0 turns automatic closing off. */
  CARBON_PERIOD_CLOSE_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** How many months a certificate's vintage may lie before the month it covers. */
  CARBON_GEC_MAX_VINTAGE_AGE_MONTHS: z.coerce
    .number()
    .int()
    .min(0)
    .default(DEFAULT_VINTAGE_RULES.maxVintageAgeMonths),
  /** Prepended to every topic name this service reads and writes (tests on a shared broker). */
  CARBON_TOPIC_PREFIX: z.string().default(''),
});

export type CarbonConfig = z.infer<typeof carbonConfigSchema>;

/** Topics carbon reads, as metering and dispatch define them (created here if absent). */
const INPUT_TOPICS: TopicSpec[] = [
  {
    name: METERING_REGISTRY_TOPIC,
    partitions: 6,
    compacted: true,
    retentionMs: -1,
    withDeadLetterTopic: true,
  },
  { name: METERING_READINGS_TOPIC, partitions: 24, retentionMs: -1, withDeadLetterTopic: true },
  { name: GREEN_ALLOCATIONS_TOPIC, partitions: 12, retentionMs: -1, withDeadLetterTopic: true },
];

export interface CarbonServer {
  runtime: ServiceRuntime;
  relay: OutboxRelay;
  restatements: Restatements;
  periods: PeriodCloser;
  /** The consumers of metering's registry and readings and of dispatch's allocations. */
  consumers: { registry: ConsumerRunner; readings: ConsumerRunner; allocations: ConsumerRunner };
  grpcPort: number;
  httpPort: number;
  stopScheduler(): void;
}

export async function main(telemetry?: Telemetry): Promise<CarbonServer> {
  const config = loadConfigOrExit(carbonConfigSchema, { SERVICE_NAME: 'carbon', ...process.env });
  const server = await startCarbonService(config, { telemetry });
  process.once('SIGTERM', server.stopScheduler);
  process.once('SIGINT', server.stopScheduler);
  server.runtime.exitOnSignals();
  process.send?.({ type: 'serving', grpcPort: server.grpcPort, httpPort: server.httpPort });
  return server;
}

/**
 * The carbon service on a ServiceRuntime: migrated, factor catalog seeded, topics ensured,
 * consumers of metering's registry and readings and dispatch's allocations, the relay onto the
 * emissions topic, restatements resumed, the period-close scheduler, and gRPC served.
 */
export async function startCarbonService(
  config: CarbonConfig,
  options: { telemetry?: Telemetry; relayPollIntervalMs?: number } = {},
): Promise<CarbonServer> {
  const runtime = new ServiceRuntime(config, {
    migrations: [carbonMigrationsDir],
    telemetry: options.telemetry,
  });
  await runtime.prepare();
  const prefix = config.CARBON_TOPIC_PREFIX;
  const admin = runtime.kafka.admin();
  await admin.connect();
  try {
    await prepareTopics(admin, { own: carbonTopics, inputs: INPUT_TOPICS, prefix });
  } finally {
    await admin.disconnect();
  }
  const map: IntegrationEventMapper = (event) => {
    const message = carbonEventMapper(event);
    return message && (prefix ? { ...message, topic: `${prefix}${message.topic}` } : message);
  };
  const relay = runtime.addRelay(
    new OutboxRelay(runtime.store, runtime.producer, {
      name: 'carbon-relay',
      source: '//park/carbon',
      connectionString: config.DATABASE_URL,
      map,
      pollIntervalMs: options.relayPollIntervalMs,
      onError: (error) => runtime.logger.warn({ err: error }, 'carbon relay failed'),
    }),
  );

  const catalogCache = new FactorCatalogCache();
  const catalog = new FactorCatalogService(runtime.store);
  const seeded = await catalog.seedIfEmpty();
  if (seeded > 0) runtime.logger.info({ sets: seeded }, 'factor catalog seeded');
  const restatements = new Restatements(runtime.store, runtime.pool, catalogCache, runtime.logger);
  const accounting = new AccountingService(runtime.store, catalogCache);
  const periods = new PeriodCloser(runtime.store, runtime.pool, config.CARBON_LATE_WINDOW_DAYS);

  const registryConsumer = runtime.addConsumer({
    groupId: `${prefix}carbon-registry`,
    topics: [`${prefix}${METERING_REGISTRY_TOPIC}`],
    fromBeginning: true,
    handler: (message, tx) =>
      deadLetterBadInput(() =>
        applyRegistryFact(tx, decodeRegistryRecord(message.type, message.value)),
      ),
  });
  const readingsConsumer = runtime.addConsumer({
    groupId: `${prefix}carbon-readings`,
    topics: [`${prefix}${METERING_READINGS_TOPIC}`],
    fromBeginning: true,
    // A reading can overtake its meter's registry record; give the registry time to catch up.
    maxAttempts: 10,
    groupSize: 100,
    // Two partitions' groups at once: one computes its postings while the other writes. The
    // ledger streams they share are appended under lockLedgerStreams' locks; more than two
    // gained nothing on two cores.
    partitionsConsumedConcurrently: 2,
    handler: (message, tx, scope) =>
      deadLetterBadInput(async () => {
        const values = decodeReadingsRecord(message.type, message.value);
        if (values) await accounting.accountReadings(tx, values, message.id, scope);
      }),
    // A group's messages booked together (one basis lock, one append, one insert of lines); a
    // group that fails is applied again message by message through the handler above.
    groupHandler: async (messages, tx, scope) => {
      const bookings = messages.flatMap((message) => {
        const values = decodeReadingsRecord(message.type, message.value);
        return values ? [{ values, source: message.id }] : [];
      });
      await accounting.accountReadingsGroup(tx, bookings, scope);
    },
  });
  const allocationsConsumer = runtime.addConsumer({
    groupId: `${prefix}carbon-allocations`,
    topics: [`${prefix}${GREEN_ALLOCATIONS_TOPIC}`],
    fromBeginning: true,
    maxAttempts: 10,
    handler: (message, tx) =>
      deadLetterBadInput(() =>
        accounting
          .accountAllocation(tx, decodeAllocationRecord(message.type, message.value), message.id)
          .then(() => undefined),
      ),
  });

  const stopScheduler = schedulePeriodClose(
    runtime,
    periods,
    config.CARBON_PERIOD_CLOSE_INTERVAL_MS,
  );
  void restatements
    .resumePending()
    .catch((error: unknown) => runtime.logger.warn({ err: error }, 'restatement failed'));

  try {
    const { grpcPort, httpPort } = await runtime.serve({
      grpcServices: [
        carbonGrpcService({
          pool: runtime.pool,
          catalog,
          restatements,
          generators: new GeneratorService(runtime.store),
          certificates: new CertificateService(runtime.store, runtime.pool, catalogCache, {
            ...DEFAULT_VINTAGE_RULES,
            maxVintageAgeMonths: config.CARBON_GEC_MAX_VINTAGE_AGE_MONTHS,
          }),
          cbam: new CbamService(runtime.store, runtime.pool),
          periods,
        }),
      ],
    });
    return {
      runtime,
      relay,
      restatements,
      periods,
      consumers: {
        registry: registryConsumer,
        readings: readingsConsumer,
        allocations: allocationsConsumer,
      },
      grpcPort,
      httpPort,
      stopScheduler,
    };
  } catch (error) {
    stopScheduler();
    throw error;
  }
}

/** Closes due months on a timer; closing is idempotent, so replicas racing each other is harmless. */
function schedulePeriodClose(
  runtime: ServiceRuntime,
  periods: PeriodCloser,
  intervalMs: number,
): () => void {
  if (intervalMs === 0) return () => undefined;
  const timer = setInterval(() => {
    periods
      .closeDue()
      .then((closed) => {
        if (closed.length > 0) runtime.logger.info({ closed }, 'periods closed');
      })
      .catch((error: unknown) => runtime.logger.warn({ err: error }, 'period close failed'));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
