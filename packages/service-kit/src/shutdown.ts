import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run(): Promise<unknown>;
}

/**
 * Stops a service in order within a deadline: first stop taking work (readiness off, servers
 * refuse new calls), then finish what is in flight (calls, batches, offsets committed), then close
 * connections. Steps run one after another; a step that fails is logged and the rest still run.
 */
export class GracefulShutdown {
  private readonly steps: ShutdownStep[] = [];
  private running: Promise<boolean> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 20_000,
  ) {}

  /** Adds a step; steps run in the order they were added. */
  add(name: string, run: () => Promise<unknown>): this {
    this.steps.push({ name, run });
    return this;
  }

  /** Runs every step once; resolves true when all finished cleanly before the deadline. */
  run(reason: string): Promise<boolean> {
    this.running ??= this.runSteps(reason);
    return this.running;
  }

  /** On SIGTERM or SIGINT: shut down, then exit 0 if clean, 1 otherwise. */
  exitOnSignals(
    signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
    exit: (code: number) => void = (code) => process.exit(code),
  ): void {
    const handler = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, handler);
      void this.run(signal).then((clean) => exit(clean ? 0 : 1));
    };
    for (const signal of signals) process.on(signal, handler);
  }

  private async runSteps(reason: string): Promise<boolean> {
    const started = Date.now();
    this.logger.info({ reason }, 'shutting down');
    let clean = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.deadlineMs);
      timer.unref();
    });
    for (const step of this.steps) {
      const outcome = await Promise.race([
        step.run().then(
          () => 'done' as const,
          (error: unknown) => {
            this.logger.error({ err: error, step: step.name }, 'shutdown step failed');
            return 'failed' as const;
          },
        ),
        deadline,
      ]);
      if (outcome === 'deadline') {
        this.logger.error(
          { step: step.name, deadlineMs: this.deadlineMs },
          'shutdown deadline passed',
        );
        clean = false;
        break;
      }
      if (outcome === 'failed') clean = false;
    }
    clearTimeout(timer);
    this.logger.info({ clean, ms: Date.now() - started }, 'shut down');
    return clean;
  }
}
