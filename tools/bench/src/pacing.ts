import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Units the tick-th tick of a steady rate carries: the whole units that fall due by the end of
 * the tick minus those due by its start, so fractions carry over and N ticks hold exactly
 * floor(N * rate * interval) units (4,999/s in 100 ms ticks: 499, 500, 500, ...).
 */
export function unitsOfTick(tick: number, perSecond: number, intervalMs: number): number {
  const due = (ticks: number) => Math.floor((ticks * perSecond * intervalMs) / 1000 + 1e-9);
  return due(tick + 1) - due(tick);
}

/** Ticks due by `elapsedMs` after the start: tick i is due at i * intervalMs (tick 0 at once). */
export function ticksDueBy(elapsedMs: number, intervalMs: number): number {
  if (elapsedMs < 0) return 0;
  return Math.floor(elapsedMs / intervalMs) + 1;
}

export interface OpenLoopOptions {
  intervalMs: number;
  /** Ticks fired in all; the loop ends after the last one is fired (not answered). */
  ticks: number;
  signal: AbortSignal;
  /**
   * Called at each tick, not awaited: a slow answer does not delay the next tick (open loop), so
   * latencies are measured against the schedule and a slow system cannot slow its own load.
   * `scheduledAt` is the tick's due time on performance.now()'s clock.
   */
  fire(tick: number, scheduledAt: number): Promise<void>;
}

export interface OpenLoopOutcome {
  /** From the first tick's due time to the last tick's answer. */
  elapsedMs: number;
  /** The most any tick was fired after its due time (the load generator's own lag). */
  maxLagMs: number;
}

/**
 * Fires ticks on a fixed schedule whatever the answers take, catching up at once when the
 * event loop was busy, then waits for every fired tick to be answered. The first failure
 * stops the schedule and is thrown.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopOutcome> {
  const { intervalMs, ticks, signal } = options;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let maxLagMs = 0;
  let fired = 0;
  while (fired < ticks && !failure) {
    signal.throwIfAborted();
    const now = performance.now();
    const due = Math.min(ticks, ticksDueBy(now - start, intervalMs));
    for (; fired < due; fired++) {
      const scheduledAt = start + fired * intervalMs;
      maxLagMs = Math.max(maxLagMs, now - scheduledAt);
      const answer = options.fire(fired, scheduledAt).catch((error: unknown) => {
        failure ??= { error };
      });
      inFlight.add(answer);
      void answer.finally(() => inFlight.delete(answer));
    }
    if (fired < ticks) await sleep(Math.max(0, start + fired * intervalMs - performance.now()));
  }
  await Promise.all([...inFlight]);
  if (failure) throw failure.error;
  return { elapsedMs: performance.now() - start, maxLagMs };
}
