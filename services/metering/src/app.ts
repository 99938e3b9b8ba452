// Persistence and application layer of the metering service (adapters: gRPC, HTTP, scheduler).
import * as path from 'node:path';

/** The service's SQL migrations, applied after the event store's and the inbox's. */
export const meteringMigrationsDir = path.resolve(__dirname, '..', 'migrations');

export * from '@park/eventstore';
export * from './registry/projection';
export * from './registry/meter-directory';
export * from './registry/registry-service';
export * from './readings/projection';
export * from './readings/meter-streams';
export * from './readings/hot-state';
export * from './readings/ingest-service';
export * from './readings/gap-service';
export * from './series/series-store';
export { meteringGrpcService, type MeteringGrpcDeps } from './api/grpc-service';
export { METERING_ACCESS, type AccessRule, type MeteringMethod } from './api/access';
