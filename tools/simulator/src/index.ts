export * from './park-model';
export * from './profiles';
export * from './simulator';
export * from './carbon-arithmetic';
