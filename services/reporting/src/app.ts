// Persistence and application layer of the reporting service (adapters: gRPC, HTTP, Kafka).
import * as path from 'node:path';

/** The service's SQL migrations, applied after the event store's and the inbox's. */
export const reportingMigrationsDir = path.resolve(__dirname, '..', 'migrations');

/** The dashboard's bundle, as the build writes it (src/dashboard/bundle.ts). */
export const dashboardAssetsDir = path.resolve(__dirname, '..', 'dist', 'web');

export * from './projections/projection';
export * from './projections/manager';
export * from './kpis/reporting-queries';
export * from './kpis/periods';
export { reportingGrpcService, type ReportingGrpcDeps } from './api/grpc-service';
export { REPORTING_ACCESS } from './api/access';
export * from './api/reports';
