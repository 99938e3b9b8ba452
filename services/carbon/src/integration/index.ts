export * from './emissions';
export * from '@park/metering-events';
