// Persistence and application layer of the dispatch service (adapters: gRPC, Kafka, scheduler).
import * as path from 'node:path';

/** The service's SQL migrations, applied after the event store's and the inbox's. */
export const dispatchMigrationsDir = path.resolve(__dirname, '..', 'migrations');

export * from './topology/topology-service';
export * from './plans/plan-service';
export * from './setpoints/setpoint-service';
export * from './lines/line-allocations';
export * from './metered/metered-store';
export { dispatchGrpcService, type DispatchGrpcDeps } from './api/grpc-service';
export { DISPATCH_ACCESS } from './api/access';
