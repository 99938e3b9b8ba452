export * from './types';
export * from './errors';
export * from './upcasting';
export { traceMetadata } from './trace';
export {
  EventStore,
  positionOf,
  type EventStoreOptions,
  type AppendOptions,
  type ReadStreamOptions,
  type StreamAppend,
} from './event-store';
export { createPool, inTransaction, isDatabaseUnavailable, type PoolSettings } from './pool';
export { migrate, eventStoreMigrationsDir, type MigrateOptions } from './migrations';
export { checkpoints } from './checkpoints';
export {
  LogProcessor,
  type ProcessorOptions,
  type ProcessorMode,
  type ProcessorState,
} from './processor';
export * from './decider';
export * from './stream-writer';
export { StreamStateCache, type CachedState } from './state-cache';
export { StreamLocks } from './stream-locks';
