// The reporting service's process, loaded by main.ts after telemetry has started.
import { prepareTopics } from '@park/messaging';
import {
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
  GREEN_ALLOCATIONS_TOPIC,
} from '@park/metering-events';
import {
  loadConfigOrExit,
  serviceConfigSchema,
  ServiceRuntime,
  type Telemetry,
} from '@park/service-kit';
import { z } from 'zod';
import { reportingGrpcService } from './api/grpc-service';
import { mountReportDownloads } from './api/http-reports';
import { carbonCbamSource, ReportExporter } from './api/reports';
import { reportingMigrationsDir } from './app';
import { DEFAULT_KPI_SETTINGS, ReportingQueries, type Schemas } from './kpis/reporting-queries';
import { activityProjection } from './projections/activity';
import {
  allocationsProjection,
  DISPATCH_PLANS_TOPIC,
  plansProjection,
} from './projections/dispatch';
import { CARBON_EMISSIONS_TOPIC, emissionsProjection } from './projections/emissions';
import { ProjectionManager } from './projections/manager';
import { registryProjection } from './projections/registry';

export const reportingConfigSchema = serviceConfigSchema.safeExtend({
  /** The Scope 2 method in the numerator of CO2 per tce (the national indicator). */
  REPORTING_SCOPE2_METHOD: z.enum(['market', 'location']).default('market'),
  /** tCO2/tce for parks below 200,000 tce a year (no published threshold). */
  REPORTING_SMALL_PARK_THRESHOLD: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .default('0.2'),
  /** The carbon service's gRPC address, for CBAM exports; empty turns them off. */
  REPORTING_CARBON_GRPC_ADDRESS: z.string().default(''),
  /** Prepended to every topic name and consumer group (tests on a shared broker). */
  REPORTING_TOPIC_PREFIX: z.string().default(''),
});

export type ReportingConfig = z.infer<typeof reportingConfigSchema>;

export const reportingProjections = [
  registryProjection,
  activityProjection,
  emissionsProjection,
  plansProjection,
  allocationsProjection,
];

/** Topics reporting reads, as their producers define them (created here if absent, for a fresh park). */
const INPUT_TOPICS = [
  { name: METERING_REGISTRY_TOPIC, partitions: 6, compacted: true, retentionMs: -1 },
  { name: METERING_READINGS_TOPIC, partitions: 24, retentionMs: -1 },
  { name: CARBON_EMISSIONS_TOPIC, partitions: 12, retentionMs: -1 },
  { name: DISPATCH_PLANS_TOPIC, partitions: 3, retentionMs: -1 },
  { name: GREEN_ALLOCATIONS_TOPIC, partitions: 12, retentionMs: -1 },
];

export interface ReportingServer {
  runtime: ServiceRuntime;
  projections: ProjectionManager;
  queries: ReportingQueries;
  grpcPort: number;
  httpPort: number;
}

export async function main(telemetry?: Telemetry): Promise<ReportingServer> {
  const config = loadConfigOrExit(reportingConfigSchema, {
    SERVICE_NAME: 'reporting',
    ...process.env,
  });
  const server = await startReportingService(config, { telemetry });
  server.runtime.exitOnSignals();
  process.send?.({ type: 'serving', grpcPort: server.grpcPort, httpPort: server.httpPort });
  return server;
}

export async function startReportingService(
  config: ReportingConfig,
  options: { telemetry?: Telemetry } = {},
): Promise<ReportingServer> {
  const runtime = new ServiceRuntime(config, {
    migrations: [reportingMigrationsDir],
    telemetry: options.telemetry,
  });
  await runtime.prepare();
  const prefix = config.REPORTING_TOPIC_PREFIX;
  const admin = runtime.kafka.admin();
  await admin.connect();
  try {
    await prepareTopics(admin, { own: [], inputs: INPUT_TOPICS, prefix });
  } finally {
    await admin.disconnect();
  }
  const projections = new ProjectionManager(
    runtime.pool,
    runtime.kafka,
    reportingProjections,
    prefix,
    runtime.logger,
  );
  await projections.start();
  // On shutdown the projections leave their consumer groups before the connections close: a
  // process that exits without leaving them holds a restart up until the group drops it.
  runtime.addStopper(() => projections.stop());
  const schemas = async (): Promise<Schemas> => {
    const active = await projections.activeSchemas();
    return {
      registry: active.registry!,
      activity: active.activity!,
      emissions: active.emissions!,
      plans: active.plans!,
      allocations: active.allocations!,
    };
  };
  const queries = new ReportingQueries(runtime.pool, schemas, {
    ...DEFAULT_KPI_SETTINGS,
    scope2Method: config.REPORTING_SCOPE2_METHOD,
    smallParkThreshold: config.REPORTING_SMALL_PARK_THRESHOLD,
  });
  const exporter = new ReportExporter(
    queries,
    config.REPORTING_CARBON_GRPC_ADDRESS
      ? carbonCbamSource(config.REPORTING_CARBON_GRPC_ADDRESS)
      : undefined,
  );
  try {
    const { grpcPort, httpPort } = await runtime.serve({
      grpcServices: [reportingGrpcService({ queries, exporter, projections })],
      httpRoutes: (router) => mountReportDownloads(router, exporter),
    });
    return { runtime, projections, queries, grpcPort, httpPort };
  } catch (error) {
    await projections.stop();
    throw error;
  }
}
