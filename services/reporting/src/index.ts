// The reporting service: KPIs against the national indicator and the park's targets, statements.
export const SERVICE_NAME = 'reporting';

export * from './statements';
export * from './app';
