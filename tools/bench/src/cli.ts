import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { infraUp, repoRoot } from '@park/infra';
import {
  checkFlagsKnown,
  HARNESS_FLAGS,
  listing,
  parseArgs,
  resolveFlags,
  selectBenchmarks,
  usage,
  UsageError,
} from './args';
import { formatDuration, formatNotes, formatResults } from './format';
import { runBenchmarks, type PlannedRun } from './harness';
import { Terminal } from './progress';
import { benchmarks as registry } from './registry';
import { buildReport, environment, writeReport } from './report';

const RESULTS_DIR = path.join(repoRoot, 'bench-results');

/** What a usage mistake exits with, as distinct from a failed benchmark (1). */
const USAGE_EXIT = 2;

async function main(argv: readonly string[]): Promise<number> {
  let runs: PlannedRun[];
  let maxSeconds: number;
  try {
    const command = parseArgs(argv);
    if (command.kind === 'help') {
      process.stdout.write(`${usage(registry)}\n`);
      return 0;
    }
    if (command.kind === 'list') {
      process.stdout.write(`${listing(registry)}\n`);
      return 0;
    }
    const selected = selectBenchmarks(command.names, registry);
    checkFlagsKnown(command.flags, [HARNESS_FLAGS, ...selected.map((b) => b.flags)]);
    maxSeconds = resolveFlags(HARNESS_FLAGS, command.flags)['max-seconds'] as number;
    runs = selected.map((benchmark) => ({
      benchmark,
      options: resolveFlags(benchmark.flags, command.flags),
    }));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `bench: ${error.message}\n(npm run bench -- --list shows benchmarks and flags)\n`,
    );
    return USAGE_EXIT;
  }
  if (runs.length === 0) {
    process.stderr.write('bench: no benchmark is registered\n');
    return USAGE_EXIT;
  }

  const terminal = new Terminal(process.stderr);
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(130);
    terminal.line(
      `${signal}: stopping the running benchmark and dropping its databases (again to quit at once)`,
    );
    interrupt.abort(new Error(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const start = performance.now();
  const infra = await infraUp((line) => terminal.line(`[infra] ${line}`));
  const postgres = await serverVersion(infra.postgresAdminUrl);
  const records = await runBenchmarks(runs, {
    infra,
    terminal,
    maxSeconds,
    interrupt: interrupt.signal,
  });

  const results = records.flatMap((record) =>
    record.results.map((result) => ({ benchmark: record.benchmark, result })),
  );
  const failed = records.filter((record) => record.error !== undefined);
  const out: string[] = [''];
  if (results.length > 0) {
    out.push(formatResults(results), '');
    out.push('ratio = subject / baseline; ↑ higher is better, ↓ lower is better');
    out.push(...formatNotes(results));
  }
  for (const record of failed) out.push(`${record.benchmark}: FAILED: ${record.error}`);
  const skipped = runs.length - records.length;
  if (skipped > 0) out.push(`${skipped} benchmark(s) skipped after the interruption`);

  // A run without a single result (all failed, or interrupted) leaves latest.json as it was.
  if (results.length === 0) {
    out.push('no results: nothing written to bench-results/');
  } else {
    const report = buildReport(records, environment(repoRoot, postgres), argv);
    const file = writeReport(RESULTS_DIR, report);
    out.push(
      '',
      `results: ${path.relative(process.cwd(), file) || file} (and bench-results/latest.json), ` +
        `${formatDuration(performance.now() - start)} in all`,
    );
  }
  terminal.clearStatus();
  process.stdout.write(`${out.join('\n')}\n`);
  if (interrupt.signal.aborted) return 130;
  return failed.length > 0 ? 1 : 0;
}

async function serverVersion(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Every connection is closed by then, but a library's stray timer must not keep the run alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    );
    process.exit(1);
  },
);
