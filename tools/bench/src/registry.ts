import { eventstoreBenchmark } from './benchmarks/eventstore';
import { carbonBenchmark } from './benchmarks/carbon';
import { dispatchBenchmark } from './benchmarks/dispatch';
import { freshnessBenchmark } from './benchmarks/freshness';
import { ingestBenchmark } from './benchmarks/ingest';
import { queryBenchmark } from './benchmarks/query';
import { replayBenchmark } from './benchmarks/replay';
import { soakBenchmark } from './benchmarks/soak';
import { HARNESS_FLAGS } from './args';
import type { Benchmark } from './types';

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Every benchmark `npm run bench` knows, in the order a run without names takes them. A new
 * benchmark is a module under benchmarks/ exporting defineBenchmark({...}), added here.
 */
export const benchmarks: readonly Benchmark[] = checkRegistry([
  eventstoreBenchmark,
  ingestBenchmark,
  freshnessBenchmark,
  carbonBenchmark,
  dispatchBenchmark,
  replayBenchmark,
  queryBenchmark,
  soakBenchmark,
]);

/**
 * Names and aliases must be unique command-line words, and flags must not shadow the harness's
 * own.
 */
export function checkRegistry(registry: readonly Benchmark[]): readonly Benchmark[] {
  const seen = new Set<string>();
  const reserved = new Set(['list', 'help', ...Object.keys(HARNESS_FLAGS)]);
  for (const { name, aliases = [], flags } of registry) {
    for (const word of [name, ...aliases]) {
      if (!NAME.test(word))
        throw new Error(`benchmark name ${JSON.stringify(word)} is not a-z, 0-9 and -`);
      if (seen.has(word)) throw new Error(`two benchmarks are named ${word}`);
      seen.add(word);
    }
    for (const flag of Object.keys(flags)) {
      if (!NAME.test(flag))
        throw new Error(`${name}: flag name ${JSON.stringify(flag)} is not a-z, 0-9 and -`);
      if (reserved.has(flag)) throw new Error(`${name}: flag --${flag} is the harness's own`);
    }
  }
  return registry;
}
