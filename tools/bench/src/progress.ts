import { performance } from 'node:perf_hooks';
import { formatCount, formatDuration, formatNumber } from './format';
import { perSecond } from './stats';
import type { Progress } from './types';

export interface StatusOutput {
  write(text: string): void;
  isTTY?: boolean;
}

/**
 * Log lines and a status line on one stream (stderr): on a terminal the status line is
 * rewritten in place and cleared before a log line; elsewhere every status is a line of its own.
 */
export class Terminal {
  private statusShown = false;

  constructor(private readonly out: StatusOutput = process.stderr) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  line(text: string): void {
    this.clearStatus();
    this.out.write(`${text}\n`);
  }

  status(text: string): void {
    if (!this.interactive) {
      this.out.write(`${text}\n`);
      return;
    }
    this.out.write(`\r\x1b[K${text}`);
    this.statusShown = true;
  }

  clearStatus(): void {
    if (!this.statusShown) return;
    this.out.write('\r\x1b[K');
    this.statusShown = false;
  }
}

export interface ProgressOptions {
  /** Least time between two status lines; a terminal gets them more often than a log file. */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Counts done units of a phase and shows `label: done/total unit (pct), rate unit/s` at most
 * once per interval, then a closing line with the elapsed time and the mean rate.
 */
export function createProgress(
  terminal: Terminal,
  label: string,
  total: number,
  unit: string,
  options: ProgressOptions = {},
): Progress {
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? (terminal.interactive ? 250 : 2_000);
  const start = now();
  let done = 0;
  let lastShown = start;
  let finished = false;
  const counts = () =>
    `${formatCount(done)}/${formatCount(total)} ${unit} (${total > 0 ? Math.floor((done / total) * 100) : 100}%)`;
  return {
    advance(by: number) {
      done += by;
      const t = now();
      if (finished || t - lastShown < intervalMs) return;
      lastShown = t;
      terminal.status(
        `${label}: ${counts()}, ${formatNumber(perSecond(done, t - start))} ${unit}/s`,
      );
    },
    finish() {
      if (finished) return;
      finished = true;
      const elapsed = now() - start;
      terminal.line(
        `${label}: ${counts()} in ${formatDuration(elapsed)}, ` +
          `${formatNumber(perSecond(done, elapsed))} ${unit}/s`,
      );
    },
  };
}
