export * from './topics';
export * from './enums';
export * from './mapper';
export * from './decode';
