import { multiRowInsert, planWorkload, splitRounds, type EventRow } from './benchmarks/eventstore';

const row = (_stream: number, streamId: string, version: number): EventRow => ({
  eventId: `${streamId}/${version}`,
  streamId,
  version,
  type: 'T',
  data: {},
  metadata: {},
});

test('calls of the batch size, streams in turn, disjoint per writer, exact versions', () => {
  const plan = planWorkload({
    events: 25,
    batch: 4,
    streams: 3,
    concurrency: 2,
    streamPrefix: 's-',
    makeRow: row,
  });
  expect(plan.calls).toBe(7); // 6 calls of 4 and one of 1
  expect(plan.streams).toBe(3);
  const describe = (calls: (typeof plan.writers)[number]) =>
    calls.map((c) => `${c.streamId}@${c.expectedVersion}+${c.rows.length}`);
  // Stream k goes to writer k % 2: s-000000 and s-000002 to the first, s-000001 to the second.
  expect(plan.writers.map(describe)).toEqual([
    ['s-000000@0+4', 's-000002@0+4', 's-000000@4+4', 's-000002@4+4', 's-000000@8+1'],
    ['s-000001@0+4', 's-000001@4+4'],
  ]);
  const first = plan.writers[0]![0]!;
  expect(first.rows.map((r) => r.version)).toEqual([1, 2, 3, 4]);
  const all = plan.writers.flat().flatMap((c) => c.rows);
  expect(all).toHaveLength(25);
  expect(new Set(all.map((r) => r.eventId)).size).toBe(25);
});

test('no more streams or writers than there are calls', () => {
  const plan = planWorkload({
    events: 10,
    batch: 5,
    streams: 1_000,
    concurrency: 4,
    streamPrefix: 's-',
    makeRow: row,
  });
  expect(plan.streams).toBe(2);
  expect(plan.writers).toHaveLength(2);
});

test('the default rows are metering events with unique ids', () => {
  const plan = planWorkload({
    events: 4,
    batch: 2,
    streams: 1,
    concurrency: 1,
    streamPrefix: 'm-',
  });
  const rows = plan.writers[0]!.flatMap((c) => c.rows);
  expect(rows.map((r) => r.type)).toEqual([
    'MeterRegistered',
    'MeterReadingRecorded',
    'MeterReadingRecorded',
    'MeterReadingRecorded',
  ]);
  expect(new Set(rows.map((r) => r.eventId)).size).toBe(4);
});

test('multi-row INSERT numbers its parameters row by row', () => {
  expect(multiRowInsert('t', ['a', 'b', 'c'], 2)).toBe(
    'INSERT INTO t (a, b, c) VALUES ($1, $2, $3), ($4, $5, $6)',
  );
});

test('rounds slice each writer in order, covering every call once', () => {
  const writers = [
    [1, 2, 3, 4, 5],
    [6, 7],
  ];
  expect(splitRounds(writers, 2)).toEqual([
    [[1, 2], [6]],
    [[3, 4, 5], [7]],
  ]);
  expect(splitRounds(writers, 3)).toEqual([
    [[1], []],
    [[2, 3], [6]],
    [[4, 5], [7]],
  ]);
  expect(splitRounds(writers, 1)).toEqual([writers]);
});
