// A progress bar on stderr, so stdout keeps only the command's result. On a terminal it redraws
// one line (at most every 100 ms); elsewhere (a log, a pipe) it prints one line when done.

export interface ProgressSink {
  write(text: string): void;
  /** True when the sink is a terminal that understands carriage returns. */
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Total units, when known: the bar and the percentage need it. */
  total?: number;
  /** How a quantity of units reads: bytes by default. */
  format?: (units: number) => string;
  now?: () => number;
  minRedrawMs?: number;
}

export class ProgressBar {
  private done = 0;
  private lastDraw = -Infinity;
  private finished = false;
  private readonly started: number;
  private readonly now: () => number;
  private readonly format: (units: number) => string;

  constructor(
    private readonly sink: ProgressSink,
    private readonly options: ProgressOptions,
  ) {
    this.now = options.now ?? (() => Date.now());
    this.started = this.now();
    this.format = options.format ?? formatBytes;
  }

  get value(): number {
    return this.done;
  }

  /** Adds units; redraws when the last redraw is old enough. */
  advance(units: number): void {
    this.update(this.done + units);
  }

  update(done: number): void {
    if (this.finished) return;
    this.done = done;
    if (!this.sink.isTTY) return;
    const now = this.now();
    if (now - this.lastDraw < (this.options.minRedrawMs ?? 100)) return;
    this.lastDraw = now;
    this.sink.write(`\r${this.line(now)}\x1b[K`);
  }

  /** The last state, on a line of its own. */
  finish(suffix = ''): void {
    if (this.finished) return;
    this.finished = true;
    const line = this.line(this.now()) + suffix;
    this.sink.write(this.sink.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  /** Ends a terminal's bar line without a final state (the operation failed). */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.sink.isTTY && this.lastDraw !== -Infinity) this.sink.write('\n');
  }

  /** "label [#####-----]  45%  1.2 MB / 2.6 MB  3.1 MB/s" */
  line(now: number): string {
    const { label, total } = this.options;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = `${this.format(this.done / seconds)}/s`;
    if (total === undefined || total <= 0) {
      return `${label}  ${this.format(this.done)}  ${rate}`;
    }
    const fraction = Math.min(this.done / total, 1);
    const width = Math.max(10, Math.min(30, (this.sink.columns ?? 80) - 60));
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    return `${label} ${bar} ${percent}  ${this.format(this.done)} / ${this.format(total)}  ${rate}`;
  }
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 1536 -> "1.5 kB" (powers of 1000, as file managers and npm show sizes). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatCount(count: number): string {
  return String(Math.round(count));
}
