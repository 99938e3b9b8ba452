export * from './emissions';
export * from './inbound';
