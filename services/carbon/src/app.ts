// Persistence and application layer of the carbon service (adapters: gRPC, Kafka, scheduler).
import * as path from 'node:path';

/** The service's SQL migrations, applied after the event store's and the inbox's. */
export const carbonMigrationsDir = path.resolve(__dirname, '..', 'migrations');

export * from './directory/directory';
export * from './factors/catalog-store';
export * from './ledger/accounting-service';
export * from './ledger/footprint';
export * from './ledger/ledger-store';
export * from './ledger/restatement';
export * from './certificates/certificate-service';
export * from './cbam/cbam-service';
export * from './generators/generator-service';
export * from './periods/period-close';
export { carbonGrpcService, type CarbonGrpcDeps } from './api/grpc-service';
export { CARBON_ACCESS } from './api/access';
