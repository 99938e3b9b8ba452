import { formatFaultReport } from './fault-report';

describe('formatFaultReport', () => {
  it('gives each fault its injection time, restore and recovery durations, then the checks', () => {
    const report = formatFaultReport({
      runStartedAt: 1_000,
      facts: ['200000 readings'],
      faults: [
        {
          fault: 'restart PostgreSQL',
          injectedAt: 11_000,
          progress: 0.35,
          restoredAt: 13_500,
          recoveredAt: 15_250,
          retriedAttempts: 2,
        },
        { fault: 'kill -9 carbon', injectedAt: 21_000, progress: 0.6, retriedAttempts: 0 },
      ],
      checks: [
        { check: 'readings exactly once', passed: true, detail: '200000 of 200000' },
        { check: 'no other dead letters', passed: false, detail: '1 on registry.dlq' },
      ],
    });
    expect(report.split('\n')).toEqual([
      'FAULT TEST SUMMARY',
      '  200000 readings',
      '',
      'Faults:',
      '  1. restart PostgreSQL: at +10.0 s (35 % of the ingest); restored after 2.5 s; recovered after 4.3 s; 2 batch attempts retried',
      '  2. kill -9 carbon: at +20.0 s (60 % of the ingest); not restored; NOT RECOVERED; 0 batch attempts retried',
      '',
      'Final checks:',
      '  [ok] readings exactly once: 200000 of 200000',
      '  [FAILED] no other dead letters: 1 on registry.dlq',
    ]);
  });
});
