import {
  checkFlagsKnown,
  HARNESS_FLAGS,
  listing,
  parseArgs,
  resolveFlags,
  selectBenchmarks,
  UsageError,
} from './args';
import { checkRegistry } from './registry';
import { defineBenchmark, type Benchmark } from './types';

const fake = (name: string, flags: Benchmark['flags'] = {}): Benchmark =>
  defineBenchmark({
    name,
    description: `the ${name} benchmark`,
    flags,
    run: async () => [],
  });

const registry = [
  fake('eventstore', {
    events: { kind: 'int', description: 'events', default: 100_000, min: 1, max: 1_000_000 },
    batch: { kind: 'int', description: 'batch', default: 100, min: 1 },
  }),
  fake('carbon', {
    factor: { kind: 'number', description: 'factor', default: 0.5, min: 0 },
    mode: { kind: 'string', description: 'mode', default: 'fast', choices: ['fast', 'slow'] },
  }),
];

describe('parseArgs', () => {
  test('no arguments runs everything with no flags', () => {
    expect(parseArgs([])).toEqual({ kind: 'run', names: [], flags: new Map() });
  });

  test('names in order, without repeats, and flags in both spellings', () => {
    expect(
      parseArgs(['eventstore', '--events', '5000', 'carbon', '--batch=10', 'eventstore']),
    ).toEqual({
      kind: 'run',
      names: ['eventstore', 'carbon'],
      flags: new Map([
        ['events', '5000'],
        ['batch', '10'],
      ]),
    });
  });

  test('--list and --help win over the rest', () => {
    expect(parseArgs(['eventstore', '--list'])).toEqual({ kind: 'list' });
    expect(parseArgs(['--events', '1', '-h'])).toEqual({ kind: 'help' });
  });

  test('a negative value is a value, another flag is not', () => {
    expect(parseArgs(['--events', '-3']).kind).toBe('run');
    expect(() => parseArgs(['--events', '--batch', '10'])).toThrow('flag --events needs a value');
    expect(() => parseArgs(['--events'])).toThrow('flag --events needs a value');
    expect(() => parseArgs(['--events='])).toThrow('flag --events needs a value');
  });

  test('mistakes are usage errors', () => {
    expect(() => parseArgs(['--events', '1', '--events', '2'])).toThrow(UsageError);
    expect(() => parseArgs(['-e', '1'])).toThrow('unknown option -e');
    expect(() => parseArgs(['--Events', '1'])).toThrow('malformed flag --Events');
  });
});

describe('selectBenchmarks', () => {
  test('all in registry order when none is named, else the named ones in the given order', () => {
    expect(selectBenchmarks([], registry).map((b) => b.name)).toEqual(['eventstore', 'carbon']);
    expect(selectBenchmarks(['carbon', 'eventstore'], registry).map((b) => b.name)).toEqual([
      'carbon',
      'eventstore',
    ]);
  });

  test('an alias selects its benchmark once; one run only when named is left out of a run of all', () => {
    const soak = { ...fake('soak'), onlyWhenNamed: true };
    const ingest = { ...fake('ingest'), aliases: ['metering'] };
    const withExtras = [...registry, ingest, soak];
    expect(selectBenchmarks([], withExtras).map((b) => b.name)).toEqual([
      'eventstore',
      'carbon',
      'ingest',
    ]);
    expect(selectBenchmarks(['metering', 'ingest', 'soak'], withExtras).map((b) => b.name)).toEqual(
      ['ingest', 'soak'],
    );
    const text = listing(withExtras);
    expect(text).toContain('the ingest benchmark (also: metering)');
    expect(text).toContain('the soak benchmark (only when named)');
  });

  test('an unknown name is an error that lists the valid ones', () => {
    expect(() => selectBenchmarks(['eventstore', 'ingest', 'soak'], registry)).toThrow(
      new UsageError('unknown benchmarks ingest, soak; valid names: eventstore, carbon'),
    );
  });
});

describe('flags', () => {
  test('defaults, given values, digit separators', () => {
    const specs = registry[0]!.flags;
    expect(resolveFlags(specs, new Map())).toEqual({ events: 100_000, batch: 100 });
    expect(resolveFlags(specs, new Map([['events', '20_000']]))).toEqual({
      events: 20_000,
      batch: 100,
    });
    expect(resolveFlags(specs, new Map([['events', '1,000,000']]))).toEqual({
      events: 1_000_000,
      batch: 100,
    });
  });

  test('kinds and ranges are checked', () => {
    const [eventstore, carbon] = registry as [Benchmark, Benchmark];
    const resolve = (b: Benchmark, name: string, value: string) =>
      resolveFlags(b.flags, new Map([[name, value]]));
    expect(() => resolve(eventstore, 'events', '1.5')).toThrow(
      '--events must be a whole number (got 1.5)',
    );
    expect(() => resolve(eventstore, 'events', '1e3')).toThrow('whole number');
    expect(() => resolve(eventstore, 'events', 'many')).toThrow('whole number');
    expect(() => resolve(eventstore, 'events', '0')).toThrow('--events must be at least 1 (got 0)');
    expect(() => resolve(eventstore, 'events', '2000000')).toThrow('at most 1000000');
    expect(resolve(carbon, 'factor', '0.25')).toEqual({ factor: 0.25, mode: 'fast' });
    expect(resolve(carbon, 'factor', '.5e1')).toEqual({ factor: 5, mode: 'fast' });
    expect(() => resolve(carbon, 'factor', '-1')).toThrow('at least 0');
    expect(resolve(carbon, 'mode', 'slow')).toEqual({ factor: 0.5, mode: 'slow' });
    expect(() => resolve(carbon, 'mode', 'medium')).toThrow('--mode must be one of fast, slow');
  });

  test('a flag no selected benchmark declares is rejected, with the valid ones', () => {
    const selected = [HARNESS_FLAGS, registry[0]!.flags];
    expect(() => checkFlagsKnown(new Map([['events', '1']]), selected)).not.toThrow();
    expect(() => checkFlagsKnown(new Map([['max-seconds', '5']]), selected)).not.toThrow();
    expect(() => checkFlagsKnown(new Map([['event', '1']]), selected)).toThrow(
      'unknown flag --event for the selected benchmarks; valid flags: --batch, --events, --max-seconds',
    );
  });
});

test('the listing names every benchmark and flag with its default', () => {
  const text = listing(registry);
  expect(text).toContain('eventstore  the eventstore benchmark');
  expect(text).toContain('carbon      the carbon benchmark');
  expect(text).toMatch(/--events\s+events \(default 100000\)/);
  expect(text).toMatch(/--max-seconds\s+.*\(default 900\)/);
});

test('the registry refuses duplicate names and reserved flags', () => {
  expect(() => checkRegistry([fake('a'), fake('a')])).toThrow('two benchmarks are named a');
  expect(() => checkRegistry([fake('Bad Name')])).toThrow('is not a-z');
  expect(() => checkRegistry([fake('a'), { ...fake('b'), aliases: ['a'] }])).toThrow(
    'two benchmarks are named a',
  );
  expect(() =>
    checkRegistry([fake('a', { list: { kind: 'int', description: '', default: 1 } })]),
  ).toThrow('flag --list is the harness');
});
