import { memoryVerdict, residentBytes, soakWarmupMs, type MemorySample } from './memory';

const MB = 2 ** 20;
const series = (values: number[], everyMs = 1_000): MemorySample[] =>
  values.map((mb, i) => ({ atMs: i * everyMs, bytes: mb * MB }));

const options = { warmupMs: 3_000, windowShare: 0.2, tolerance: 0.1 };

test('the warm-up is left out: a start-up climb is not growth', () => {
  const verdict = memoryVerdict(
    series([50, 100, 150, 200, 200, 205, 198, 202, 200, 204, 199, 201, 203]),
    options,
  )!;
  expect(verdict.flat).toBe(true);
  expect(verdict.windowSamples).toBe(2);
  expect(verdict.firstMean / MB).toBeCloseTo(200);
  expect(verdict.lastMean / MB).toBeCloseTo(202);
});

test('a steady climb after the warm-up beyond 10 % is not flat', () => {
  const verdict = memoryVerdict(
    series([100, 100, 100, ...Array.from({ length: 20 }, (_, i) => 100 + i * 2)]),
    options,
  )!;
  expect(verdict.flat).toBe(false);
  expect(verdict.change).toBeGreaterThan(0.1);
});

test('a drop beyond 10 % is not flat either, and one garbage collection is smoothed', () => {
  expect(
    memoryVerdict(series([0, 0, 0, 200, 200, 200, 200, 150, 150]), {
      ...options,
      windowShare: 0.5,
    })!.flat,
  ).toBe(false);
  const gc = memoryVerdict(series([0, 0, 0, 200, 210, 200, 205, 200, 200, 160, 205, 200, 200]), {
    ...options,
    windowShare: 0.5,
  })!;
  expect(gc.flat).toBe(true);
});

test('too few samples after the warm-up give no verdict', () => {
  expect(memoryVerdict(series([100, 100, 100, 100]), options)).toBeUndefined();
  expect(() => memoryVerdict(series([1, 2]), { ...options, windowShare: 0.6 })).toThrow(RangeError);
});

test('the warm-up is 20 % of the run or 5 minutes, the shorter', () => {
  expect(soakWarmupMs(2 * 60_000)).toBe(24_000);
  expect(soakWarmupMs(30 * 60_000)).toBe(5 * 60_000);
});

test("this process's resident memory is read from /proc", async () => {
  const bytes = await residentBytes(process.pid);
  expect(bytes).toBeGreaterThan(10 * MB);
  expect(Math.abs(bytes - process.memoryUsage().rss)).toBeLessThan(0.5 * bytes);
});
