import type pg from 'pg';
import type { EventStore } from '@park/eventstore';
import type { Infrastructure } from '@park/infra';

/** A numeric command-line flag of a benchmark, such as `--events 100000`. */
export interface IntFlag {
  kind: 'int';
  description: string;
  default: number;
  min?: number;
  max?: number;
}

export interface NumberFlag {
  kind: 'number';
  description: string;
  default: number;
  min?: number;
  max?: number;
}

export interface StringFlag {
  kind: 'string';
  description: string;
  default: string;
  choices?: readonly string[];
}

export type FlagSpec = IntFlag | NumberFlag | StringFlag;
export type FlagSpecs = Record<string, FlagSpec>;

/** The values a benchmark receives for its declared flags: the given ones, else the defaults. */
export type FlagValues<F extends FlagSpecs> = {
  readonly [K in keyof F]: F[K] extends StringFlag
    ? string
    : F[K] extends IntFlag | NumberFlag
      ? number
      : number | string;
};

/**
 * One measurement, taken for the subject and for its baseline in the same run, so the ratio
 * between them says more than either figure alone on a machine of unknown speed.
 */
export interface BenchResult {
  /** What is measured, e.g. `throughput` or `latency p99`. */
  metric: string;
  /** Unit of both values, e.g. `events/s` or `ms`. */
  unit: string;
  subject: number;
  baseline: number;
  higherIsBetter: boolean;
  notes?: string;
  /** Data kept in the JSON results but not printed (a soak's memory samples). */
  details?: Readonly<Record<string, unknown>>;
}

/** Progress of one phase of a benchmark, reported to stderr at a limited rate. */
export interface Progress {
  /** Adds done units (safe to call from concurrent workers). */
  advance(by: number): void;
  /** Reports the final count and rate of the phase. */
  finish(): void;
}

export interface ScratchDatabaseOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Folders of service migrations to apply after the event store's. */
  migrations?: string[];
}

/** A fresh, migrated database of the benchmark's own; dropped when the benchmark ends. */
export interface ScratchDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  store: EventStore;
}

export interface BenchContext<O = Readonly<Record<string, number | string>>> {
  /** Name of the running benchmark. */
  readonly name: string;
  /** Values of the benchmark's flags. */
  readonly options: O;
  /** Connection settings of the local infrastructure (brought up once per run). */
  readonly infra: Infrastructure;
  /**
   * Aborted when the benchmark's time limit is reached or the run is interrupted: check it
   * between operations (`signal.throwIfAborted()`); the harness stops waiting for the benchmark
   * either way.
   */
  readonly signal: AbortSignal;
  /** Writes a line to stderr, prefixed with the benchmark's name. */
  log(line: string): void;
  /** Starts reporting progress of a phase: `<benchmark> <phase>: done/total unit`. */
  progress(phase: string, total: number, unit: string): Progress;
  /** Creates and migrates a database that the harness drops after the benchmark, even on failure. */
  scratchDatabase(label: string, options?: ScratchDatabaseOptions): Promise<ScratchDatabase>;
}

export interface Benchmark<F extends FlagSpecs = FlagSpecs> {
  /** Command-line name: lower case letters, digits and dashes. */
  name: string;
  /** One line for `--list`. */
  description: string;
  /** Other command-line names it answers to (earlier names kept working). */
  aliases?: readonly string[];
  /** Left out of a run without names (too long for every run): runs only when named. */
  onlyWhenNamed?: boolean;
  /** Flags the benchmark reads; a flag name may be shared by several benchmarks. */
  flags: F;
  /**
   * The time limit the benchmark needs with these flags, when it may be longer than
   * --max-seconds' default (a soak of N minutes): the harness takes the larger of the two.
   */
  timeLimitSeconds?(options: FlagValues<F>): number;
  run(context: BenchContext<FlagValues<F>>): Promise<BenchResult[]>;
}

/** Declares a benchmark with its flags typed in its context. */
export function defineBenchmark<const F extends FlagSpecs>(benchmark: Benchmark<F>): Benchmark<F> {
  return benchmark;
}
