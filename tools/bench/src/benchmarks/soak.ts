import { performance } from 'node:perf_hooks';
import { SERVICES, type Service } from '@park/testing';
import { startBenchPark } from '../bench-park';
import { formatCount, formatDuration, formatNumber } from '../format';
import { memoryVerdict, residentBytes, soakWarmupMs, type MemorySample } from '../memory';
import { runOpenLoop, unitsOfTick } from '../pacing';
import {
  DAY_MS,
  INTERVAL_MS,
  gridLoadPark,
  ensureReadingPartitions,
  ingestBatch,
  intervalsSpanned,
  registerLoadPark,
  steadyReadings,
} from '../park-load';
import { perSecond } from '../stats';
import { defineBenchmark, type BenchResult } from '../types';

const TICK_MS = 100;
const MB = 2 ** 20;
/** Largest change of a service's memory, after the warm-up, that still counts as flat. */
const FLAT_TOLERANCE = 0.1;
const WINDOW_SHARE = 0.2;

export const soakBenchmark = defineBenchmark({
  name: 'soak',
  description:
    "load held at a steady rate through all four services (child processes), each one's resident memory sampled: flat after the warm-up (within 10 %)?",
  onlyWhenNamed: true,
  flags: {
    minutes: {
      kind: 'int',
      description: 'how long the load is held',
      default: 30,
      min: 1,
      max: 24 * 60,
    },
    'readings-per-second': {
      kind: 'int',
      description: 'steady ingest rate, in IngestReadings calls every 100 ms',
      default: 5_000,
      min: 10,
      max: 100_000,
    },
    'soak-meters': {
      kind: 'int',
      description: 'interval meters sharing the load (50 to an enterprise); the park of the design',
      default: 5_000,
      min: 1,
      max: 50_000,
    },
    'sample-seconds': {
      kind: 'int',
      description: "time between two samples of every service's memory",
      default: 5,
      min: 1,
      max: 600,
    },
  },
  timeLimitSeconds: (options) => options.minutes * 60 + 600,

  async run({ options, infra, signal, log, progress }): Promise<BenchResult[]> {
    const rate = options['readings-per-second'];
    const durationMs = options.minutes * 60_000;
    const ticks = durationMs / TICK_MS;
    let total = 0;
    for (let t = 0; t < ticks; t++) total += unitsOfTick(t, rate, TICK_MS);
    const plan = gridLoadPark(
      `bsk-${Math.floor(Date.now() / 1000) % 1e6}`,
      options['soak-meters'],
      50,
    );
    const loadMeters = [...plan.meters];
    const partitionMeter = {
      meterId: `${plan.parkId}-PART`,
      enterpriseId: `${plan.parkId}-part`,
      kind: 'grid' as const,
    };
    plan.enterpriseIds.push(partitionMeter.enterpriseId);
    plan.meters.push(partitionMeter);
    // A gateway's four-hour backlog of each meter per upload (16 intervals), the shape of the
    // end-to-end and fault tests: 5,000 readings/s are then about 310 meter events a second. At
    // 4 intervals (1,250 events/s) metering's pool ran dry on this 2-core machine with the other
    // three services beside it, and the run measured the overload, not the memory.
    const perUpload = 16;
    const spanDays = Math.ceil(
      (intervalsSpanned(total, loadMeters.length, perUpload) * INTERVAL_MS) / DAY_MS,
    );
    if (spanDays > 80) {
      throw new Error(
        `${formatCount(total)} readings over ${plan.meters.length} meters span ${spanDays} days, ` +
          "beyond metering's late-data window: give more --soak-meters",
      );
    }
    // Whole days in the past, ending before today.
    const t0 = (Math.floor(Date.now() / DAY_MS) - spanDays - 1) * DAY_MS;

    log('starting metering, carbon, dispatch and reporting as child processes');
    const running = await startBenchPark(infra, 'soak', SERVICES);
    const samples = Object.fromEntries(SERVICES.map((s) => [s, [] as MemorySample[]])) as Record<
      Service,
      MemorySample[]
    >;
    let sampler: NodeJS.Timeout | undefined;
    try {
      const registering = progress('register', plan.meters.length, 'meters');
      await registerLoadPark(running.metering, running.operator, plan, {
        signal,
        onMeter: () => registering.advance(1),
      });
      registering.finish();
      await ensureReadingPartitions(
        running.metering,
        running.operator,
        partitionMeter,
        t0,
        Date.now(),
      );

      const warmupMs = soakWarmupMs(durationMs);
      log(
        `${formatNumber(rate)} readings/s over ${formatCount(plan.meters.length)} meters for ` +
          `${options.minutes} min; memory sampled every ${options['sample-seconds']} s, the first ` +
          `${formatDuration(warmupMs)} (20 % or 5 min, the shorter) are the warm-up`,
      );
      const start = performance.now();
      let lastLogged = start;
      let accepted = 0;
      const sample = async () => {
        const atMs = performance.now() - start;
        for (const service of SERVICES) {
          const bytes = await residentBytes(running.services.pid(service)).catch(() => undefined);
          if (bytes !== undefined) samples[service].push({ atMs, bytes });
        }
        if (performance.now() - lastLogged >= 60_000) {
          lastLogged = performance.now();
          log(
            `${formatDuration(atMs)}: ${formatNumber(perSecond(accepted, atMs))} readings/s; RSS ` +
              SERVICES.map(
                (s) => `${s} ${formatNumber((samples[s].at(-1)?.bytes ?? 0) / MB)} MB`,
              ).join(', '),
          );
        }
      };
      await sample();
      sampler = setInterval(() => void sample(), options['sample-seconds'] * 1000);

      let cursor = 0;
      const shown = progress('load', ticks, 'calls');
      const loop = await runOpenLoop({
        intervalMs: TICK_MS,
        ticks,
        signal,
        fire: async (tick) => {
          if (running.services.unexpectedExits.length > 0) {
            throw new Error(running.services.unexpectedExits.join(', '));
          }
          const readings = steadyReadings(
            loadMeters,
            perUpload,
            t0,
            cursor,
            unitsOfTick(tick, rate, TICK_MS),
          );
          cursor += readings.length;
          await ingestBatch(running.metering, running.operator, `s${tick}`, readings);
          accepted += readings.length;
          shown.advance(1);
        },
      });
      clearInterval(sampler);
      await sample();
      shown.finish();
      const achieved = perSecond(accepted, loop.elapsedMs);

      const results: BenchResult[] = [];
      for (const service of SERVICES) {
        const verdict = memoryVerdict(samples[service], {
          warmupMs,
          windowShare: WINDOW_SHARE,
          tolerance: FLAT_TOLERANCE,
        });
        if (!verdict) throw new Error(`${service}: too few memory samples after the warm-up`);
        const change = `${verdict.change >= 0 ? '+' : ''}${(verdict.change * 100).toFixed(1)} %`;
        log(
          `${service}: ${formatNumber(verdict.firstMean / MB)} -> ${formatNumber(verdict.lastMean / MB)} MB ` +
            `(${change}): ${verdict.flat ? 'flat' : 'NOT flat'}`,
        );
        results.push({
          metric: `${service} RSS`,
          unit: 'MB',
          subject: verdict.lastMean / MB,
          baseline: verdict.firstMean / MB,
          higherIsBetter: false,
          notes:
            `${verdict.flat ? 'FLAT' : 'NOT FLAT'} (${change}, tolerance ${FLAT_TOLERANCE * 100} %): ` +
            `subject: mean resident memory of the last ${verdict.windowSamples} samples, baseline: ` +
            `of the first ${verdict.windowSamples} after the ${formatDuration(warmupMs)} warm-up`,
          details: {
            flat: verdict.flat,
            change: verdict.change,
            warmupMs,
            sampleSeconds: options['sample-seconds'],
            samples: samples[service].map((s) => [Math.round(s.atMs), s.bytes]),
          },
        });
      }
      results.push({
        metric: 'achieved rate',
        unit: 'readings/s',
        subject: achieved,
        baseline: rate,
        higherIsBetter: true,
        notes:
          `${formatCount(accepted)} readings accepted by IngestReadings in ` +
          `${formatDuration(loop.elapsedMs)}, a call every ${TICK_MS} ms over ` +
          `${formatCount(loadMeters.length)} meters; baseline: the rate asked`,
      });
      return results;
    } finally {
      clearInterval(sampler);
      await running.stop();
    }
  },
});
