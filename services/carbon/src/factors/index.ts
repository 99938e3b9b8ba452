export * from './factor-set';
export * from './catalog';
export * from './coefficients';
export * from './seed';
export * from './resolve';
