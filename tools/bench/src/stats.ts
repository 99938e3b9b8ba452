/**
 * The p-th percentile by the nearest-rank method: the smallest value such that at least p % of
 * the values are less than or equal to it (rank ceil(p/100 * n) in ascending order). It is
 * always one of the measured values, never an interpolation between two.
 */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(sortAscending(values), p);
}

/** As percentile, for values already in ascending order (sort once, read several). */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not within 0..100`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function sortAscending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** subject / baseline; undefined when the baseline is zero or either is not a finite number. */
export function ratio(subject: number, baseline: number): number | undefined {
  if (!Number.isFinite(subject) || !Number.isFinite(baseline) || baseline === 0) return undefined;
  return subject / baseline;
}

/** Units per second from a count and an elapsed time in milliseconds. */
export function perSecond(count: number, elapsedMs: number): number {
  if (!(elapsedMs > 0)) return 0;
  return (count * 1000) / elapsedMs;
}
