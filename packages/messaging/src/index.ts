export * from './client';
export * from './headers';
export * from './topics';
export * from './producer';
export * from './relay';
export * from './consumer';
export * from './dead-letters';
