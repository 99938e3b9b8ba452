/** One injected fault and how the system came back from it. */
export interface FaultRecord {
  /** What was done ("kill -9 the Kafka broker, start it 10 s later"). */
  fault: string;
  /** Epoch ms of the injection. */
  injectedAt: number;
  /** Share of the ingest's deliveries answered when the fault was injected (0..1). */
  progress: number;
  /** Epoch ms when the killed or stopped component was running again. */
  restoredAt?: number;
  /** Epoch ms when every service was ready and a batch sent after the restore was accepted. */
  recoveredAt?: number;
  /** Attempts the gateway resent while the fault lasted. */
  retriedAttempts: number;
}

export interface FinalCheck {
  check: string;
  passed: boolean;
  detail: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The run's summary as printed at its end: each fault, its recovery, and the final checks. */
export function formatFaultReport(options: {
  runStartedAt: number;
  faults: FaultRecord[];
  checks: FinalCheck[];
  facts: string[];
}): string {
  const lines = ['FAULT TEST SUMMARY', ...options.facts.map((fact) => `  ${fact}`), '', 'Faults:'];
  for (const [i, fault] of options.faults.entries()) {
    const at = `at +${seconds(fault.injectedAt - options.runStartedAt)} (${Math.round(fault.progress * 100)} % of the ingest)`;
    const restored =
      fault.restoredAt === undefined
        ? 'not restored'
        : `restored after ${seconds(fault.restoredAt - fault.injectedAt)}`;
    const recovered =
      fault.recoveredAt === undefined
        ? 'NOT RECOVERED'
        : `recovered after ${seconds(fault.recoveredAt - fault.injectedAt)}`;
    lines.push(
      `  ${i + 1}. ${fault.fault}: ${at}; ${restored}; ${recovered}; ${fault.retriedAttempts} batch attempts retried`,
    );
  }
  lines.push('', 'Final checks:');
  for (const check of options.checks) {
    lines.push(`  [${check.passed ? 'ok' : 'FAILED'}] ${check.check}: ${check.detail}`);
  }
  return lines.join('\n');
}
