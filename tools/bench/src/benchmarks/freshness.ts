import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { createKafka, ensureTopics, MessageProducer, type OutgoingRecord } from '@park/messaging';
import { meteringTopics } from '@park/metering/integration';
import { readTopic, unary } from '@park/testing';
import { startBenchPark } from '../bench-park';
import { formatCount, formatDuration, formatNumber } from '../format';
import { runOpenLoop, unitsOfTick } from '../pacing';
import {
  INTERVAL_MS,
  gridLoadPark,
  ensureReadingPartitions,
  ingestBatch,
  intervalsSpanned,
  parkMonth,
  parkMonthStart,
  registerLoadPark,
  steadyReadings,
  type ProtoReading,
} from '../park-load';
import { percentileOfSorted, perSecond, sortAscending } from '../stats';
import { defineBenchmark, type BenchResult } from '../types';

const TICK_MS = 100;
const SAMPLE_HEADER = 'bench-sample';

/**
 * The marker meter's reading of tick i: about 1 kWh, varied in the third decimal so that no
 * plausibility check sees a stuck meter. Whole milli-kWh, so sums are exact.
 */
export function markerMilliKwh(tick: number): number {
  return 1_000 + (tick % 10);
}

/**
 * How many markers an observed total covers: the largest n with markers 0..n-1 summing to at
 * most `observedMilli`. Markers are reflected in order (one meter: one partition, one enterprise
 * key), so a total of n markers' sum means the first n are in.
 */
export function markersCovered(cumulativeMilli: readonly number[], observedMilli: number): number {
  let low = 0;
  let high = cumulativeMilli.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cumulativeMilli[middle]! <= observedMilli) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Parses a statement's `1234.567` (three decimals) into whole milli-units. */
export function milliUnits(text: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  return Math.round(Number(text) * 1000);
}

function latencyResults(
  label: string,
  subject: readonly number[],
  baseline: readonly number[],
  notes: string,
): BenchResult[] {
  const s = sortAscending(subject);
  const b = sortAscending(baseline);
  return [50, 99].map((p) => ({
    metric: `${label} p${p}`,
    unit: 'ms',
    subject: percentileOfSorted(s, p),
    baseline: percentileOfSorted(b, p),
    higherIsBetter: false,
    ...(p === 50 && { notes }),
  }));
}

export const freshnessBenchmark = defineBenchmark({
  name: 'freshness',
  description:
    'reading accepted by metering to reporting figure updated (via carbon), p50/p99 at a steady rate, vs the same records produced to and consumed from Kafka at the same rate',
  flags: {
    'readings-per-second': {
      kind: 'int',
      description: 'steady ingest rate, in IngestReadings calls every 100 ms',
      default: 5_000,
      min: 10,
      max: 100_000,
    },
    seconds: {
      kind: 'int',
      description: 'measured time, after the warm-up (at most 240: the markers fill one month)',
      default: 60,
      min: 1,
      max: 240,
    },
    'warmup-seconds': {
      kind: 'int',
      description: 'load before the measured time, not sampled',
      default: 10,
      min: 0,
      max: 60,
    },
    meters: {
      kind: 'int',
      description: 'interval meters sharing the load (50 to an enterprise)',
      default: 1_000,
      min: 1,
      max: 20_000,
    },
    'intervals-per-upload': {
      kind: 'int',
      description:
        "intervals of a meter in one upload (16 = a gateway's four-hour backlog, as the soak, e2e and fault tests send; one ReadingsRecorded event's)",
      default: 16,
      min: 1,
      max: 96,
    },
    'poll-ms': {
      kind: 'int',
      description: "pause between two reads of the marker enterprise's statement",
      default: 20,
      min: 0,
      max: 1_000,
    },
    'drain-seconds': {
      kind: 'int',
      description: 'longest wait, after the load, for the last marker to show',
      default: 120,
      min: 1,
      max: 3_600,
    },
  },

  async run({ options, infra, signal, log, progress }): Promise<BenchResult[]> {
    const rate = options['readings-per-second'];
    const perUpload = options['intervals-per-upload'];
    const warmupTicks = Math.round((options['warmup-seconds'] * 1000) / TICK_MS);
    const ticks = warmupTicks + Math.round((options.seconds * 1000) / TICK_MS);
    const loadTotal = Array.from({ length: ticks }, (_, t) => unitsOfTick(t, rate, TICK_MS) - 1)
      .filter((n) => n > 0)
      .reduce((a, b) => a + b, 0);

    // Readings of the past month: complete, within metering's late-data window; the markers
    // (one interval per tick) must stay within that month for one statement to hold them all.
    const now = Date.now();
    const t0 = parkMonthStart(now, 1);
    const monthIntervals = (parkMonthStart(now, 0) - t0) / INTERVAL_MS;
    if (ticks > monthIntervals) {
      throw new Error(`${ticks} markers do not fit in one month: shorten --seconds`);
    }
    const plan = gridLoadPark(`bfr-${Math.floor(now / 1000) % 1e6}`, options.meters, 50);
    if (t0 + intervalsSpanned(loadTotal, plan.meters.length, perUpload) * INTERVAL_MS > now) {
      throw new Error('the load reaches the present: give more --meters');
    }
    const loadMeters = [...plan.meters];
    const markerEnterprise = `${plan.parkId}-marker`;
    const markerMeter = { meterId: `${plan.parkId}-MARK`, enterpriseId: markerEnterprise };
    const partitionMeter = {
      meterId: `${plan.parkId}-PART`,
      enterpriseId: `${plan.parkId}-part`,
      kind: 'grid' as const,
    };
    plan.enterpriseIds.push(markerEnterprise, partitionMeter.enterpriseId);
    plan.meters.push({ ...markerMeter, kind: 'grid' }, partitionMeter);
    const month = parkMonth(t0);

    log('starting metering, carbon and reporting as child processes');
    const running = await startBenchPark(infra, 'freshness', ['metering', 'carbon', 'reporting']);
    const kafka = createKafka({
      clientId: 'bench-freshness',
      brokers: infra.kafkaBrokers,
      logLevel: 'error',
    });
    const reporting = new park.reporting.v1.ReportingServiceClient(
      running.services.grpc('reporting'),
      grpc.credentials.createInsecure(),
    );
    const baselineTopic = `${running.prefix}baseline.readings`;
    let stopped = false;
    try {
      const registering = progress('register', plan.meters.length, 'meters');
      await registerLoadPark(running.metering, running.operator, plan, {
        signal,
        onMeter: () => registering.advance(1),
      });
      registering.finish();
      await ensureReadingPartitions(running.metering, running.operator, partitionMeter, t0, now);

      // The statement answers only once reporting knows the enterprise (from metering's registry
      // events, through Kafka): the clock must not start before.
      const statementMilli = async (): Promise<number> => {
        const answer = await unary<park.reporting.v1.GetEnterpriseStatementResponse>((done) =>
          reporting.getEnterpriseStatement(
            { enterpriseId: markerEnterprise, month },
            running.operator,
            done,
          ),
        );
        const row = answer.rows.find((r) => r.label === 'Electricity consumed');
        if (!row) throw new Error('the statement has no "Electricity consumed" row');
        return row.value === 'n/a' ? 0 : milliUnits(row.value);
      };
      const readyBy = performance.now() + 60_000;
      for (;;) {
        signal.throwIfAborted();
        try {
          if ((await statementMilli()) === 0) break;
        } catch (error) {
          if (performance.now() > readyBy) throw error;
        }
        await sleep(200);
      }

      // ---- subject: gateway uploads at the steady rate, one marker reading in each ----
      const cumulative: number[] = [];
      for (let t = 0, sum = 0; t < ticks; t++) cumulative.push((sum += markerMilliKwh(t)));
      const acceptedAt: number[] = [];
      const recordsPerTick: number[] = [];
      const seenAt: number[] = [];
      let loadCursor = 0;
      let accepted = 0;
      let measuredStart = 0;
      let measuredAccepted = 0;
      let loadDone = false;
      let drainBy = Infinity;

      const poller = (async () => {
        while (!loadDone || seenAt.length < ticks) {
          signal.throwIfAborted();
          if (stopped) return;
          const observed = await statementMilli();
          const answeredAt = performance.now();
          const covered = markersCovered(cumulative, observed);
          while (seenAt.length < covered) seenAt.push(answeredAt);
          if (loadDone && seenAt.length < ticks && answeredAt > drainBy) {
            throw new Error(
              `${ticks - seenAt.length} of ${ticks} markers not in reporting ` +
                `${options['drain-seconds']} s after the load: the services fell behind`,
            );
          }
          if (options['poll-ms'] > 0) await sleep(options['poll-ms']);
        }
      })();
      poller.catch(() => undefined);

      log(
        `${formatNumber(rate)} readings/s over ${formatCount(loadMeters.length)} meters ` +
          `(${perUpload} intervals an upload), a call every ${TICK_MS} ms: ` +
          `${options['warmup-seconds']} s warm-up, ${options.seconds} s measured`,
      );
      const shown = progress('ingest', ticks, 'calls');
      const loop = await runOpenLoop({
        intervalMs: TICK_MS,
        ticks,
        signal,
        fire: async (tick) => {
          const units = unitsOfTick(tick, rate, TICK_MS);
          const load = steadyReadings(
            loadMeters,
            perUpload,
            t0,
            loadCursor,
            Math.max(0, units - 1),
          );
          loadCursor += load.length;
          const marker: ProtoReading = {
            meterId: markerMeter.meterId,
            intervalStart: new Date(t0 + tick * INTERVAL_MS),
            value: { value: (markerMilliKwh(tick) / 1000).toFixed(3) },
            unit: park.common.v1.Unit.UNIT_KWH,
          };
          const readings = [...load, marker];
          recordsPerTick[tick] = new Set(readings.map((r) => r.meterId)).size;
          if (tick === warmupTicks) measuredStart = performance.now();
          await ingestBatch(running.metering, running.operator, `t${tick}`, readings);
          acceptedAt.push(performance.now());
          accepted += readings.length;
          if (tick >= warmupTicks) measuredAccepted += readings.length;
          shown.advance(1);
        },
      });
      const measuredMs = performance.now() - measuredStart;
      loadDone = true;
      drainBy = performance.now() + options['drain-seconds'] * 1000;
      shown.finish();
      await poller;
      const achieved = perSecond(measuredAccepted, measuredMs);
      log(
        `${formatCount(accepted)} readings accepted; measured ${formatNumber(achieved)} readings/s ` +
          `(load generator lag at most ${formatDuration(loop.maxLagMs)})`,
      );
      // The k-th marker accepted is in once k markers are (they are reflected in order).
      const accepts = sortAscending(acceptedAt);
      const subject = accepts.slice(warmupTicks).map((at, i) => seenAt[warmupTicks + i]! - at);

      // ---- baseline: the records metering published, produced again at the same rate ----
      const records = await readTopic(kafka, running.readingsTopic);
      const expectedRecords = recordsPerTick.reduce((a, b) => a + b, 0);
      if (records.length < expectedRecords) {
        throw new Error(`${records.length} records on the readings topic, not ${expectedRecords}`);
      }
      const admin = kafka.admin();
      await admin.connect();
      const readingsSpec = meteringTopics.find((spec) => spec.name.endsWith('.readings.v1'))!;
      await ensureTopics(admin, [
        { name: baselineTopic, partitions: readingsSpec.partitions, retentionMs: -1 },
      ]);
      await admin.disconnect();
      const producer = new MessageProducer(kafka);
      const consumer = kafka.consumer({
        groupId: `${running.prefix}baseline`,
        sessionTimeout: 30_000,
        heartbeatInterval: 3_000,
        allowAutoTopicCreation: false,
      });
      const receivedAt = new Map<number, number>();
      try {
        await producer.connect();
        await consumer.connect();
        await consumer.subscribe({ topic: baselineTopic, fromBeginning: true });
        const joined = new Promise<void>((resolve) =>
          consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
        );
        await consumer.run({
          eachMessage: async ({ message }) => {
            const sample = message.headers?.[SAMPLE_HEADER];
            if (sample !== undefined) receivedAt.set(Number(sample.toString()), performance.now());
          },
        });
        await joined;
        // The producer's connections to the partition leaders, before the clock.
        await producer.send([{ topic: baselineTopic, key: 'warm', value: Buffer.from('warm') }]);

        const sentAt: number[] = [];
        let at = 0;
        const shownBaseline = progress('baseline', ticks, 'sends');
        await runOpenLoop({
          intervalMs: TICK_MS,
          ticks,
          signal,
          fire: async (tick) => {
            const chunk = records.slice(at, (at += recordsPerTick[tick]!));
            const batch: OutgoingRecord[] = chunk.map((record, i) => ({
              topic: baselineTopic,
              key: record.key ?? '',
              value: record.value ?? Buffer.alloc(0),
              headers: {
                ...record.headers,
                ...(i === chunk.length - 1 && { [SAMPLE_HEADER]: String(tick) }),
              },
            }));
            sentAt[tick] = performance.now();
            await producer.send(batch);
            shownBaseline.advance(1);
          },
        });
        shownBaseline.finish();
        const until = performance.now() + 60_000;
        while (receivedAt.size < ticks) {
          signal.throwIfAborted();
          if (performance.now() > until) {
            throw new Error(`baseline: ${receivedAt.size} of ${ticks} samples received`);
          }
          await sleep(10);
        }
        const baseline = Array.from(
          { length: ticks - warmupTicks },
          (_, i) => receivedAt.get(warmupTicks + i)! - sentAt[warmupTicks + i]!,
        );

        const notes =
          `${formatCount(subject.length)} samples, one per ${TICK_MS} ms call after a ` +
          `${options['warmup-seconds']} s warm-up, at ${formatNumber(achieved)} readings/s achieved ` +
          `(${formatNumber(rate)} asked) over ${formatCount(loadMeters.length)} meters; subject: from ` +
          'IngestReadings answering the call that carried a marker reading to the first ' +
          "GetEnterpriseStatement of the marker enterprise's month whose electricity includes it " +
          `(metering -> Kafka -> carbon accounting -> Kafka -> reporting projection; polled every ` +
          `${options['poll-ms']} ms plus the call's time, which the figure includes); baseline: ` +
          'the same records read back from the readings topic, produced at the same rate by a ' +
          'MessageProducer to a topic of the same partitions, from send to a kafkajs consumer ' +
          "receiving the call's last record";
        return [
          ...latencyResults('freshness', subject, baseline, notes),
          {
            metric: 'achieved rate',
            unit: 'readings/s',
            subject: achieved,
            baseline: rate,
            higherIsBetter: true,
            notes:
              'subject: readings accepted per second in the measured time; baseline: the rate asked',
          },
        ];
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await producer.disconnect().catch(() => undefined);
      }
    } finally {
      stopped = true;
      reporting.close();
      await running.stop();
    }
  },
});
