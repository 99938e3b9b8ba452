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
import { carbonCbamSource, carbonClient, ReportExporter } from './api/reports';
import { dashboardAssetsDir, reportingMigrationsDir } from './app';
import { ProjectionChanges } from './dashboard/live';
import { DashboardQueries } from './dashboard/queries';
import { mountDashboardApi, mountDashboardPages } from './dashboard/routes';
import { carbonCertificateSource, dispatchTopologySource } from './dashboard/upstream';
import { DEFAULT_KPI_SETTINGS, ReportingQueries, type Schemas } from './kpis/reporting-queries';
import { activityProjection } from './projections/activity';
import {
  allocationsProjection,
  DISPATCH_PLANS_TOPIC,
  DISPATCH_SETPOINT_ACKS_TOPIC,
  DISPATCH_SETPOINTS_TOPIC,
  plansProjection,
  setpointsProjection,
} from './projections/dispatch';
import { CARBON_EMISSIONS_TOPIC, emissionsProjection } from './projections/emissions';
import { ProjectionManager } from './projections/manager';
import { registryProjection } from './projections/registry';

const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true');

export const reportingConfigSchema = serviceConfigSchema
  .safeExtend({
    /** The Scope 2 method in the numerator of CO2 per tce (the national indicator). */
    REPORTING_SCOPE2_METHOD: z.enum(['market', 'location']).default('market'),
    /** tCO2/tce for parks below 200,000 tce a year (no published threshold). */
    REPORTING_SMALL_PARK_THRESHOLD: z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .default('0.2'),
    /** The carbon service's gRPC address, for CBAM exports and the dashboard's certificates; empty turns them off. */
    REPORTING_CARBON_GRPC_ADDRESS: z.string().default(''),
    /** The dispatch service's gRPC address, for the dashboard's battery topology; empty turns it off. */
    REPORTING_DISPATCH_GRPC_ADDRESS: z.string().default(''),
    /** Prepended to every topic name and consumer group (tests on a shared broker). */
    REPORTING_TOPIC_PREFIX: z.string().default(''),
    /**
     * The dashboard's development sign-in: the page offers buttons that mint operator or enterprise
     * tokens, signed with JWT_SECRET, for anyone who can reach it. `npm start` turns it on; never
     * in production.
     */
    REPORTING_DASHBOARD_DEV_SIGN_IN: flag,
  })
  .superRefine((config, context) => {
    if (!config.REPORTING_DASHBOARD_DEV_SIGN_IN) return;
    if (config.NODE_ENV === 'production') {
      context.addIssue({
        code: 'custom',
        path: ['REPORTING_DASHBOARD_DEV_SIGN_IN'],
        message: 'development sign-in hands out tokens to anyone: never with NODE_ENV=production',
      });
    }
    if (!config.JWT_SECRET) {
      context.addIssue({
        code: 'custom',
        path: ['REPORTING_DASHBOARD_DEV_SIGN_IN'],
        message: 'development sign-in signs tokens with JWT_SECRET: set it',
      });
    }
  });

export type ReportingConfig = z.infer<typeof reportingConfigSchema>;

export const reportingProjections = [
  registryProjection,
  activityProjection,
  emissionsProjection,
  plansProjection,
  allocationsProjection,
  setpointsProjection,
];

/** Topics reporting reads, as their producers define them (created here if absent, for a fresh park). */
const INPUT_TOPICS = [
  { name: METERING_REGISTRY_TOPIC, partitions: 6, compacted: true, retentionMs: -1 },
  { name: METERING_READINGS_TOPIC, partitions: 24, retentionMs: -1 },
  { name: CARBON_EMISSIONS_TOPIC, partitions: 12, retentionMs: -1 },
  { name: DISPATCH_PLANS_TOPIC, partitions: 3, retentionMs: -1 },
  { name: GREEN_ALLOCATIONS_TOPIC, partitions: 12, retentionMs: -1 },
  { name: DISPATCH_SETPOINTS_TOPIC, partitions: 12, retentionMs: -1 },
  { name: DISPATCH_SETPOINT_ACKS_TOPIC, partitions: 12, retentionMs: -1 },
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
  options: {
    telemetry?: Telemetry;
    /** Where the dashboard's bundle is (the build's output by default). */
    dashboardDir?: string;
    clock?: () => Date;
  } = {},
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
      setpoints: active.setpoints!,
    };
  };
  const queries = new ReportingQueries(runtime.pool, schemas, {
    ...DEFAULT_KPI_SETTINGS,
    scope2Method: config.REPORTING_SCOPE2_METHOD,
    smallParkThreshold: config.REPORTING_SMALL_PARK_THRESHOLD,
  });
  const carbon = config.REPORTING_CARBON_GRPC_ADDRESS
    ? carbonClient(config.REPORTING_CARBON_GRPC_ADDRESS)
    : undefined;
  const cbam = carbon ? carbonCbamSource(carbon) : undefined;
  const exporter = new ReportExporter(queries, cbam);
  const changes = new ProjectionChanges(runtime.pool, () => projections.activeSchemas());
  runtime.closeOnShutdown(() => changes.close());
  const dashboard = new DashboardQueries(runtime.pool, schemas, queries);
  const auth = {
    secret: config.JWT_SECRET,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  };
  try {
    const { grpcPort, httpPort } = await runtime.serve({
      grpcServices: [reportingGrpcService({ queries, exporter, projections })],
      httpRoutes: (router) => {
        mountReportDownloads(router, exporter);
        mountDashboardApi(router, {
          queries: dashboard,
          reporting: queries,
          changes,
          ...(carbon ? { certificates: carbonCertificateSource(carbon), cbam } : {}),
          ...(config.REPORTING_DISPATCH_GRPC_ADDRESS
            ? { topology: dispatchTopologySource(config.REPORTING_DISPATCH_GRPC_ADDRESS) }
            : {}),
          ...(options.clock ? { clock: options.clock } : {}),
        });
      },
      publicRoutes: (router) =>
        mountDashboardPages(router, {
          dir: options.dashboardDir ?? dashboardAssetsDir,
          ...(config.REPORTING_DASHBOARD_DEV_SIGN_IN
            ? {
                devSignIn: {
                  auth,
                  enterprises: async () =>
                    (await dashboard.enterprises()).map(({ enterpriseId, name, parkId }) => ({
                      enterpriseId,
                      name,
                      parkId,
                    })),
                },
              }
            : {}),
        }),
    });
    return { runtime, projections, queries, grpcPort, httpPort };
  } catch (error) {
    await projections.stop();
    throw error;
  }
}
