// The metering service: meter registry, reading ingestion with VEE, and series helpers.
export const SERVICE_NAME = 'metering';

export * from '@park/domain-primitives';
export * from './registry/credit-code';
export * from './registry/park';
export * from './registry/enterprise';
export * from './registry/installation';
export * from './registry/meter-registration';
export * from './readings/model';
export * from './readings/meter';
export { decideIngest, type IngestDecision } from './readings/ingest';
export { HistoryRequiredError } from './readings/slot-book';
export { intervalGrid, type IntervalGrid } from './readings/interval-grid';
export * from './series/aggregate';
export * from './app';
