import type { Benchmark, FlagSpec, FlagSpecs } from './types';

/** A mistake on the command line: reported with a hint and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Command =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'run'; names: string[]; flags: Map<string, string> };

/** Flags of the harness itself, valid with any benchmark. */
export const HARNESS_FLAGS = {
  'max-seconds': {
    kind: 'int',
    description: 'time limit of each benchmark, after which it is stopped and fails',
    default: 900,
    min: 1,
    max: 24 * 3600,
  },
} as const satisfies FlagSpecs;

const FLAG_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Splits the arguments into benchmark names and `--flag value` (or `--flag=value`) pairs.
 * `--list` and `--help` take no value; every other flag needs one.
 */
export function parseArgs(argv: readonly string[]): Command {
  const names: string[] = [];
  const flags = new Map<string, string>();
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--list') {
      list = true;
      continue;
    }
    if (arg === '--') continue;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (!FLAG_NAME.test(name)) throw new UsageError(`malformed flag ${arg}`);
      let value: string | undefined;
      if (eq !== -1) {
        value = arg.slice(eq + 1);
      } else {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          value = next;
          i++;
        }
      }
      if (value === undefined || value === '') throw new UsageError(`flag --${name} needs a value`);
      if (flags.has(name)) throw new UsageError(`flag --${name} is given twice`);
      flags.set(name, value);
      continue;
    }
    if (arg.startsWith('-'))
      throw new UsageError(`unknown option ${arg} (flags are written --name value)`);
    if (!names.includes(arg)) names.push(arg);
  }
  return list ? { kind: 'list' } : { kind: 'run', names, flags };
}

/**
 * The named benchmarks (by name or alias) in the order given, or, when no name is given, all
 * of them but those that run only when named.
 */
export function selectBenchmarks(
  names: readonly string[],
  registry: readonly Benchmark[],
): Benchmark[] {
  if (names.length === 0) return registry.filter((b) => !b.onlyWhenNamed);
  const find = (name: string) =>
    registry.find((b) => b.name === name || (b.aliases ?? []).includes(name));
  const unknown = names.filter((name) => !find(name));
  if (unknown.length > 0) {
    const valid = registry.map((b) => b.name).join(', ') || '(none registered)';
    throw new UsageError(
      `unknown benchmark${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid names: ${valid}`,
    );
  }
  const selected: Benchmark[] = [];
  for (const benchmark of names.map((name) => find(name)!)) {
    if (!selected.includes(benchmark)) selected.push(benchmark);
  }
  return selected;
}

/** Rejects flags that neither the harness nor any selected benchmark declares (typos). */
export function checkFlagsKnown(
  flags: ReadonlyMap<string, string>,
  specs: readonly FlagSpecs[],
): void {
  const known = new Set(specs.flatMap((s) => Object.keys(s)));
  const unknown = [...flags.keys()].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const valid = [...known]
      .sort()
      .map((name) => `--${name}`)
      .join(', ');
    throw new UsageError(
      `unknown flag ${unknown.map((n) => `--${n}`).join(', ')} for the selected benchmarks; ` +
        `valid flags: ${valid || '(none)'}`,
    );
  }
}

/** The values of declared flags: parsed and range-checked when given, the default otherwise. */
export function resolveFlags(
  specs: FlagSpecs,
  flags: ReadonlyMap<string, string>,
): Record<string, number | string> {
  const values: Record<string, number | string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = flags.get(name);
    values[name] = raw === undefined ? spec.default : parseFlagValue(name, spec, raw);
  }
  return values;
}

export function parseFlagValue(name: string, spec: FlagSpec, raw: string): number | string {
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')} (got ${raw})`);
    }
    return raw;
  }
  // Digit group separators are allowed: --events 100_000 or 100,000.
  const text = raw.replace(/[_,](?=\d)/g, '');
  const pattern = spec.kind === 'int' ? /^-?\d+$/ : /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  const value = Number(text);
  if (!pattern.test(text) || !Number.isFinite(value)) {
    throw new UsageError(
      `--${name} must be ${spec.kind === 'int' ? 'a whole number' : 'a number'} (got ${raw})`,
    );
  }
  if (spec.min !== undefined && value < spec.min) {
    throw new UsageError(`--${name} must be at least ${spec.min} (got ${raw})`);
  }
  if (spec.max !== undefined && value > spec.max) {
    throw new UsageError(`--${name} must be at most ${spec.max} (got ${raw})`);
  }
  return value;
}

export function usage(registry: readonly Benchmark[]): string {
  return [
    'usage: npm run bench [-- [<name>...] [--<flag> <value>...]]',
    '       npm run bench -- --list',
    '',
    'Runs the named benchmarks (all of them but those marked "only when named" when none is',
    'named), prints a table of each subject beside its baseline, and writes',
    'bench-results/<timestamp>.json and latest.json.',
    '',
    listing(registry),
  ].join('\n');
}

/** Benchmarks with their descriptions and flags, then the harness's flags. */
export function listing(registry: readonly Benchmark[]): string {
  const lines: string[] = ['benchmarks:'];
  const width = Math.max(0, ...registry.map((b) => b.name.length));
  for (const benchmark of registry) {
    const remarks = [
      ...(benchmark.aliases?.length ? [`also: ${benchmark.aliases.join(', ')}`] : []),
      ...(benchmark.onlyWhenNamed ? ['only when named'] : []),
    ];
    const suffix = remarks.length > 0 ? ` (${remarks.join('; ')})` : '';
    lines.push(`  ${benchmark.name.padEnd(width)}  ${benchmark.description}${suffix}`);
    lines.push(...flagLines(benchmark.flags, width + 4));
  }
  lines.push('', 'harness flags:', ...flagLines(HARNESS_FLAGS, 2));
  return lines.join('\n');
}

function flagLines(specs: FlagSpecs, indent: number): string[] {
  const entries = Object.entries(specs);
  const width = Math.max(0, ...entries.map(([name]) => name.length + 2));
  return entries.map(
    ([name, spec]) =>
      `${' '.repeat(indent)}${`--${name}`.padEnd(width)}  ${spec.description} (default ${spec.default})`,
  );
}
