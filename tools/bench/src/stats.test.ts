import { percentile, percentileOfSorted, perSecond, ratio, sortAscending } from './stats';

describe('percentile (nearest rank)', () => {
  // Ten values, deliberately unsorted: sorted they are 1 2 3 4 5 6 7 8 9 10.
  const ten = [7, 1, 10, 3, 9, 2, 8, 4, 6, 5];

  test('hand-computed ranks', () => {
    expect(percentile(ten, 50)).toBe(5); // ceil(0.5 * 10) = rank 5
    expect(percentile(ten, 90)).toBe(9); // ceil(0.9 * 10) = rank 9
    expect(percentile(ten, 99)).toBe(10); // ceil(9.9) = rank 10
    expect(percentile(ten, 100)).toBe(10);
    expect(percentile(ten, 0)).toBe(1); // rank 1 at least
    expect(percentile(ten, 11)).toBe(2); // ceil(1.1) = rank 2
  });

  test('p99 of 200 values is the 198th smallest, p50 the 100th', () => {
    const values = Array.from({ length: 200 }, (_, i) => (200 - i) / 10); // 20.0 down to 0.1
    expect(percentile(values, 99)).toBeCloseTo(19.8, 10);
    expect(percentile(values, 50)).toBeCloseTo(10.0, 10);
  });

  test('one value is every percentile; no value is an error', () => {
    expect(percentile([4.2], 50)).toBe(4.2);
    expect(percentile([4.2], 99)).toBe(4.2);
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  test('sorts numerically, not as text, and leaves its input alone', () => {
    const input = [10, 9, 100, 1];
    expect(sortAscending(input)).toEqual([1, 9, 10, 100]);
    expect(input).toEqual([10, 9, 100, 1]);
    expect(percentileOfSorted([1, 9, 10, 100], 75)).toBe(10); // ceil(3) = rank 3
  });
});

describe('ratio and rate', () => {
  test('subject / baseline', () => {
    expect(ratio(12_000, 48_000)).toBe(0.25);
    expect(ratio(3, 1.5)).toBe(2);
    expect(ratio(0, 5)).toBe(0);
  });

  test('undefined without a usable baseline', () => {
    expect(ratio(5, 0)).toBeUndefined();
    expect(ratio(5, Number.NaN)).toBeUndefined();
    expect(ratio(Number.POSITIVE_INFINITY, 5)).toBeUndefined();
  });

  test('per second', () => {
    expect(perSecond(100_000, 4_000)).toBe(25_000);
    expect(perSecond(3, 1_500)).toBe(2);
    expect(perSecond(10, 0)).toBe(0);
  });
});
