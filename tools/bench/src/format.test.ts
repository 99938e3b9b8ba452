import {
  formatCount,
  formatDuration,
  formatNumber,
  formatRatio,
  formatResults,
  formatTable,
} from './format';

test('numbers: about four significant digits with separators', () => {
  expect(formatNumber(123_456.7)).toBe('123,457');
  expect(formatNumber(1_234.4)).toBe('1,234');
  expect(formatNumber(123.44)).toBe('123.4');
  expect(formatNumber(12.345)).toBe('12.35');
  expect(formatNumber(1.2345)).toBe('1.235');
  expect(formatNumber(0.012345)).toBe('0.0123');
  expect(formatNumber(0)).toBe('0');
  expect(formatNumber(-2_500)).toBe('-2,500');
  expect(formatNumber(Number.NaN)).toBe('n/a');
  expect(formatNumber(undefined)).toBe('n/a');
});

test('ratios', () => {
  expect(formatRatio(0.25)).toBe('0.25');
  expect(formatRatio(1 / 3)).toBe('0.33');
  expect(formatRatio(12.345)).toBe('12.35');
  expect(formatRatio(0.0123)).toBe('0.0123');
  expect(formatRatio(undefined)).toBe('n/a');
});

test('durations', () => {
  expect(formatDuration(850.4)).toBe('850 ms');
  expect(formatDuration(12_340)).toBe('12.3 s');
  expect(formatDuration(125_000)).toBe('2 min 05 s');
});

test('a table pads every column to its widest cell and aligns as told', () => {
  expect(
    formatTable(
      ['name', 'n', 'note'],
      [
        ['a', '1', 'x'],
        ['bbbb', '1,000', ''],
      ],
      ['left', 'right', 'left'],
    ),
  ).toBe(
    ['name |     n | note', '-----+-------+-----', 'a    |     1 | x', 'bbbb | 1,000 |'].join('\n'),
  );
});

test('the results table: subject, baseline, ratio and unit per metric', () => {
  const table = formatResults([
    {
      benchmark: 'eventstore',
      result: {
        metric: 'throughput',
        unit: 'events/s',
        subject: 12_000,
        baseline: 48_000,
        higherIsBetter: true,
      },
    },
    {
      benchmark: 'eventstore',
      result: {
        metric: 'latency p99',
        unit: 'ms',
        subject: 30,
        baseline: 12,
        higherIsBetter: false,
      },
    },
    {
      benchmark: 'carbon',
      result: { metric: 'rate', unit: 'x/s', subject: 5, baseline: 0, higherIsBetter: true },
    },
  ]);
  expect(table.split('\n')).toEqual([
    'benchmark  | metric        | subject | baseline | ratio | unit',
    '-----------+---------------+---------+----------+-------+---------',
    'eventstore | throughput ↑  |  12,000 |   48,000 |  0.25 | events/s',
    'eventstore | latency p99 ↓ |   30.00 |    12.00 |  2.50 | ms',
    'carbon     | rate ↑        |   5.000 |        0 |   n/a | x/s',
  ]);
});

test('counts', () => {
  expect(formatCount(50)).toBe('50');
  expect(formatCount(100_000)).toBe('100,000');
  expect(formatCount(2.6)).toBe('3');
});
