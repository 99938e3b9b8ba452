import { performance } from 'node:perf_hooks';
import type { Infrastructure } from '@park/infra';
import { formatDuration } from './format';
import { createProgress, type Terminal } from './progress';
import { ScratchDatabases } from './scratch';
import type { Benchmark, BenchContext, BenchResult } from './types';

export interface PlannedRun {
  benchmark: Benchmark;
  options: Readonly<Record<string, number | string>>;
}

export interface RunRecord {
  benchmark: string;
  description: string;
  options: Readonly<Record<string, number | string>>;
  startedAt: string;
  durationMs: number;
  results: BenchResult[];
  /** Set when the benchmark failed; its results are then empty. */
  error?: string;
}

export interface HarnessSettings {
  infra: Infrastructure;
  terminal: Terminal;
  /** Time limit of each benchmark. */
  maxSeconds: number;
  /** Aborted on Ctrl-C: the running benchmark is stopped and the others are skipped. */
  interrupt: AbortSignal;
}

/** Runs the benchmarks one after the other; a failure is recorded and the next one runs. */
export async function runBenchmarks(
  runs: readonly PlannedRun[],
  settings: HarnessSettings,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const run of runs) {
    if (settings.interrupt.aborted) break;
    records.push(await runOne(run, settings));
  }
  return records;
}

async function runOne(
  { benchmark, options }: PlannedRun,
  settings: HarnessSettings,
): Promise<RunRecord> {
  const { terminal } = settings;
  const log = (line: string) => terminal.line(`[${benchmark.name}] ${line}`);
  const controller = new AbortController();
  const limitSeconds = Math.max(settings.maxSeconds, benchmark.timeLimitSeconds?.(options) ?? 0);
  const timer = setTimeout(
    () => controller.abort(new Error(`time limit of ${limitSeconds} s (--max-seconds) reached`)),
    limitSeconds * 1000,
  );
  const onInterrupt = () => controller.abort(new Error('interrupted'));
  settings.interrupt.addEventListener('abort', onInterrupt, { once: true });
  const scratch = new ScratchDatabases(settings.infra.postgresAdminUrl, log);
  const context: BenchContext = {
    name: benchmark.name,
    options,
    infra: settings.infra,
    signal: controller.signal,
    log,
    progress: (phase, total, unit) =>
      createProgress(terminal, `${benchmark.name} ${phase}`, total, unit),
    scratchDatabase: (label, scratchOptions) => scratch.create(label, scratchOptions),
  };
  const startedAt = new Date().toISOString();
  const start = performance.now();
  log(`${benchmark.description} (${describeOptions(options)})`);
  let running: Promise<unknown> | undefined;
  try {
    const run = benchmark.run(context);
    running = run;
    const results = await untilAborted(run, controller.signal);
    checkResults(results);
    const durationMs = performance.now() - start;
    log(`done in ${formatDuration(durationMs)}`);
    return {
      benchmark: benchmark.name,
      description: benchmark.description,
      options,
      startedAt,
      durationMs,
      results,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`FAILED: ${message}`);
    if (error instanceof Error && error.stack && !controller.signal.aborted) {
      terminal.line(error.stack);
    }
    return {
      benchmark: benchmark.name,
      description: benchmark.description,
      options,
      startedAt,
      durationMs: performance.now() - start,
      results: [],
      error: message,
    };
  } finally {
    clearTimeout(timer);
    settings.interrupt.removeEventListener('abort', onInterrupt);
    // Stops anything of the benchmark still running before its databases go.
    if (!controller.signal.aborted) controller.abort(new Error('benchmark finished'));
    // A benchmark stopped by the signal still runs its own cleanup (child processes, their
    // databases and topics) in its finally blocks: give it a bounded while before going on.
    if (running) await settleWithin(running, CLEANUP_GRACE_MS);
    await scratch.dropAll();
  }
}

const CLEANUP_GRACE_MS = 60_000;

/** Waits for the promise to settle, at most ms; never rejects. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** The promise's outcome, or the signal's reason as soon as it is aborted. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A benchmark must return at least one result, each with a name, a unit and finite values. */
export function checkResults(results: unknown): asserts results is BenchResult[] {
  if (!Array.isArray(results) || results.length === 0) {
    throw new Error('the benchmark returned no results');
  }
  for (const result of results as BenchResult[]) {
    if (!result.metric || !result.unit) throw new Error('a result lacks its metric or unit');
    if (!Number.isFinite(result.subject) || !Number.isFinite(result.baseline)) {
      throw new Error(
        `result ${result.metric}: subject ${result.subject} and baseline ${result.baseline} must be finite numbers`,
      );
    }
  }
}

export function describeOptions(options: Readonly<Record<string, number | string>>): string {
  const entries = Object.entries(options);
  if (entries.length === 0) return 'no flags';
  return entries.map(([name, value]) => `--${name} ${value}`).join(' ');
}
