export * from './decimal';
export * from './park-time';
export * from './validation';
