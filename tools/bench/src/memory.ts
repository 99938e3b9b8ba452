import { readFile } from 'node:fs/promises';

/** Resident set size of a process in bytes, from Linux's /proc/<pid>/status (VmRSS). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

export interface MemorySample {
  /** Milliseconds since the load started. */
  atMs: number;
  bytes: number;
}

export interface MemoryVerdictOptions {
  /** Samples before this are the warm-up and ignored. */
  warmupMs: number;
  /** Share of the samples after the warm-up in each of the first and the last window (0..0.5]. */
  windowShare: number;
  /** Largest change of the last window's mean from the first's that still counts as flat. */
  tolerance: number;
}

export interface MemoryVerdict {
  /** Mean of the first window after the warm-up, in bytes. */
  firstMean: number;
  /** Mean of the last window, in bytes. */
  lastMean: number;
  /** (last - first) / first. */
  change: number;
  flat: boolean;
  /** Samples in each window. */
  windowSamples: number;
}

/**
 * Whether memory stayed flat after the warm-up: the mean of the last window of samples against
 * the mean of the first, both taken after the warm-up. Means of windows rather than two single
 * samples, because a garbage collection moves one sample by more than a slow leak moves the trend
 * in a short run. Undefined with fewer than two samples after the warm-up.
 */
export function memoryVerdict(
  samples: readonly MemorySample[],
  options: MemoryVerdictOptions,
): MemoryVerdict | undefined {
  if (!(options.windowShare > 0 && options.windowShare <= 0.5)) {
    throw new RangeError(`window share ${options.windowShare} is not within (0, 0.5]`);
  }
  const held = samples.filter((sample) => sample.atMs >= options.warmupMs);
  if (held.length < 2) return undefined;
  const size = Math.max(1, Math.floor(held.length * options.windowShare));
  const mean = (window: readonly MemorySample[]) =>
    window.reduce((sum, sample) => sum + sample.bytes, 0) / window.length;
  const firstMean = mean(held.slice(0, size));
  const lastMean = mean(held.slice(held.length - size));
  const change = (lastMean - firstMean) / firstMean;
  return {
    firstMean,
    lastMean,
    change,
    flat: Math.abs(change) <= options.tolerance,
    windowSamples: size,
  };
}

/** The soak's warm-up: the first 20 % of the run or its first 5 minutes, whichever is shorter. */
export function soakWarmupMs(durationMs: number): number {
  return Math.min(durationMs * 0.2, 5 * 60_000);
}
