// The dispatch service: source-grid-load-storage planning, setpoints and green allocation.
export const SERVICE_NAME = 'dispatch';

export * from './topology/topology';
export * from './app';
export * from './planning';
export * from './forecasts';
