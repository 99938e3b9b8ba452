export * from './types';
export { benchmarks } from './registry';
export { runBenchmarks, type RunRecord, type PlannedRun } from './harness';
export { percentile, percentileOfSorted, ratio, perSecond } from './stats';
export { formatNumber, formatResults, formatTable } from './format';
