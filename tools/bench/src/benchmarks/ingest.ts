import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import type { RecordedEvent } from '@park/eventstore';
import {
  integrationRecord,
  createKafka,
  deadLetterTopic,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  type IntegrationEventMapper,
  type OutgoingRecord,
} from '@park/messaging';
import {
  meteringMigrationsDir,
  MeterDirectory,
  MeterStreams,
  RegistryService,
  type BatchReading,
} from '@park/metering';
import { meteringEventMapper, meteringTopics } from '@park/metering/integration';
import {
  meteringConfigSchema,
  startMeteringService,
  type MeteringServer,
} from '@park/metering/server';
import { loadConfig, signDevelopmentToken } from '@park/service-kit';
import { formatCount, formatDuration } from '../format';
import { perSecond } from '../stats';
import { defineBenchmark, type BenchResult } from '../types';

/** The relay's batch size (OutboxRelay's default), which the baseline's sends copy. */
const RELAY_BATCH = 500;
const BENCH_SECRET = 'metering-bench-secret-of-at-least-32-chars';
const DAY_MS = 86_400_000;
const INTERVAL_MS = 15 * 60_000;

/**
 * One ingest call: `metersPerCall` meters with `intervalsPerCall` intervals each (a gateway's or
 * a CSV upload's batch). Each meter's part becomes one ReadingsRecorded event and one Kafka record.
 */
function planCalls(
  meters: string[],
  intervals: number,
  metersPerCall: number,
  intervalsPerCall: number,
  t0: number,
): BatchReading[][] {
  const calls: BatchReading[][] = [];
  for (let from = 0; from < intervals; from += intervalsPerCall) {
    const to = Math.min(intervals, from + intervalsPerCall);
    for (let m = 0; m < meters.length; m += metersPerCall) {
      const readings: BatchReading[] = [];
      for (const meterId of meters.slice(m, m + metersPerCall)) {
        for (let k = from; k < to; k++) {
          // Deterministic decimals of a few kWh, so payloads are the same from run to run.
          const value = (((m * 7_919 + k * 104_729) % 90_000) / 1_000 + 1).toFixed(3);
          readings.push({
            meterId,
            intervalStart: new Date(t0 + k * INTERVAL_MS).toISOString(),
            value,
            unit: 'kWh',
          });
        }
      }
      calls.push(readings);
    }
  }
  return calls;
}

/** The relay's record for an event. */
function toRecord(event: RecordedEvent, map: IntegrationEventMapper): OutgoingRecord | undefined {
  const message = map(event);
  return message ? integrationRecord(event, message, '//park/metering') : undefined;
}

/** One gateway: a client stream of IngestReadings batches; resolves with its answer. */
async function streamBatches(
  client: park.metering.v1.MeteringServiceClient,
  metadata: grpc.Metadata,
  batches: BatchReading[][],
  onBatch: (readings: number) => void,
): Promise<park.metering.v1.IngestReadingsResponse> {
  let resolveAnswer!: (value: park.metering.v1.IngestReadingsResponse) => void;
  let rejectAnswer!: (error: unknown) => void;
  const answer = new Promise<park.metering.v1.IngestReadingsResponse>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  const call = client.ingestReadings(metadata, (error, response) =>
    error ? rejectAnswer(error) : resolveAnswer(response),
  );
  for (const [index, readings] of batches.entries()) {
    const request: park.metering.v1.IngestReadingsRequest = {
      batchId: String(index),
      source: 'gateway:bench',
      readings: readings.map((reading) => ({
        meterId: reading.meterId,
        intervalStart: new Date(reading.intervalStart),
        value: { value: reading.value! },
        unit: park.common.v1.Unit.UNIT_KWH,
      })),
    };
    if (!call.write(request)) await Promise.race([once(call, 'drain'), answer]);
    onBatch(readings.length);
  }
  call.end();
  return answer;
}

export const ingestBenchmark = defineBenchmark({
  name: 'ingest',
  aliases: ['metering'],
  description:
    'readings through gRPC IngestReadings, VEE, the event store and the relay onto Kafka vs the same ReadingsRecorded records produced straight to Kafka',
  flags: {
    meters: {
      kind: 'int',
      // A park's scale (DESIGN.md sizes it at 5,000 meters): a few hundred meters finish in about
      // a second, which measures the streams' ramp-up more than the steady rate.
      description: 'interval meters registered and read',
      default: 2_000,
      min: 1,
      max: 100_000,
    },
    intervals: {
      kind: 'int',
      description: '15-minute intervals per meter (96 = one day; within the late-data window)',
      default: 96,
      min: 1,
      max: 96 * 60,
    },
    'meters-per-call': {
      kind: 'int',
      description: 'meters in one IngestReadings batch',
      default: 20,
      min: 1,
      max: 10_000,
    },
    'intervals-per-call': {
      kind: 'int',
      description: "intervals of each meter in one batch (one ReadingsRecorded event's readings)",
      default: 96,
      min: 1,
      max: 96 * 60,
    },
    callers: {
      kind: 'int',
      description: 'gateways: IngestReadings streams open at once, the batches shared among them',
      default: 4,
      min: 1,
      max: 64,
    },
    'pool-size': {
      kind: 'int',
      description: "the service's DATABASE_POOL_SIZE (its default is 10)",
      default: 10,
      min: 1,
      max: 200,
    },
    'baseline-rounds': {
      kind: 'int',
      description: 'times the baseline produces the records (its time is summed and divided)',
      default: 5,
      min: 1,
      max: 100,
    },
  },

  async run({ options, scratchDatabase, progress, log, signal, infra }): Promise<BenchResult[]> {
    const { meters, intervals, callers } = options;
    const metersPerCall = options['meters-per-call'];
    const intervalsPerCall = Math.min(options['intervals-per-call'], intervals);
    const readingsTotal = meters * intervals;
    const expectedRecords = meters * Math.ceil(intervals / intervalsPerCall);

    const db = await scratchDatabase('metering', {
      poolSize: 4,
      migrations: [messagingMigrationsDir, meteringMigrationsDir],
    });
    const suffix = randomBytes(4).toString('hex');
    const prefix = `bench.${suffix}.`;
    const baselineTopic = `bench.${suffix}.baseline.readings`;
    const topics = meteringTopics.map((spec) => ({ ...spec, name: `${prefix}${spec.name}` }));
    const readingsSpec = meteringTopics.find((spec) => spec.name.endsWith('.readings.v1'))!;
    const kafka = createKafka({
      clientId: 'bench-metering',
      brokers: infra.kafkaBrokers,
      logLevel: 'error',
    });
    const admin = kafka.admin();
    await admin.connect();
    const baselineProducer = new MessageProducer(kafka);
    let server: MeteringServer | undefined;
    let client: park.metering.v1.MeteringServiceClient | undefined;
    try {
      await ensureTopics(admin, [
        { name: baselineTopic, partitions: readingsSpec.partitions, retentionMs: -1 },
      ]);
      await baselineProducer.connect();

      log(`registering ${formatCount(meters)} meters`);
      const registry = new RegistryService(
        db.store,
        new MeterStreams(db.store),
        new MeterDirectory(db.pool),
      );
      await registry.configurePark({
        parkId: 'park-bench',
        name: 'Bench park',
        latitude: 41.8,
        longitude: 123.4,
        gridRegion: 'northeast_china',
        sizeBand: 'below_200k_tce',
      });
      await registry.registerEnterprise({
        enterpriseId: 'ent-bench',
        parkId: 'park-bench',
        name: 'Bench enterprise',
        creditCode: '91210106MA0Y5K7R5J',
        industryCode: 'C3120',
        exporter: false,
        energyUsing: true,
        keyEnergyConsumingUnit: false,
      });
      const meterIds = Array.from({ length: meters }, (_, i) => `M-${String(i).padStart(6, '0')}`);
      const warmIds = Array.from({ length: 4 }, (_, i) => `W-${i}`);
      for (const meterId of [...warmIds, ...meterIds]) {
        signal.throwIfAborted();
        await registry.registerMeter({
          meterId,
          parkId: 'park-bench',
          enterpriseId: 'ent-bench',
          commodity: 'electricity',
          role: 'grid_import',
          unit: 'kWh',
          registerType: 'interval',
          ratedPowerKw: '500',
        });
      }

      // The service as main builds it, in this process, on the scratch database.
      const config = loadConfig(meteringConfigSchema, {
        SERVICE_NAME: 'metering-bench',
        DATABASE_URL: db.url,
        KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        REDIS_URL: infra.redisUrl,
        JWT_SECRET: BENCH_SECRET,
        GRPC_HOST: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'error',
        DATABASE_POOL_SIZE: String(options['pool-size']),
        METERING_TOPIC_PREFIX: prefix,
        METERING_GAP_FILL_INTERVAL_MS: '3600000',
      });
      server = await startMeteringService(config, { relayPollIntervalMs: 20 });
      const relay = server.relay;
      client = new park.metering.v1.MeteringServiceClient(
        `127.0.0.1:${server.grpcPort}`,
        grpc.credentials.createInsecure(),
      );
      const metadata = new grpc.Metadata();
      metadata.set(
        'authorization',
        `Bearer ${await signDevelopmentToken(
          { secret: BENCH_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
          { role: 'integrator', subject: 'bench-gateway' },
        )}`,
      );

      // Readings end before now and lie within the 90-day late-data window.
      const t0 = Math.floor(Date.now() / DAY_MS) * DAY_MS - Math.ceil(intervals / 96 + 1) * DAY_MS;
      const calls = planCalls(meterIds, intervals, metersPerCall, intervalsPerCall, t0);

      // Warm up: the registry events and a few readings published before the clock starts.
      const warm = await streamBatches(
        client,
        metadata,
        planCalls(warmIds, 8, warmIds.length, 8, t0),
        () => undefined,
      );
      if (warm.accepted !== warmIds.length * 8) {
        throw new Error(`warm-up: ${JSON.stringify(warm)}`);
      }
      const before = 2 + warmIds.length + meters + warmIds.length;
      while (relay.published < before) {
        signal.throwIfAborted();
        await sleep(5);
      }
      const published0 = relay.published;

      log(
        `${formatCount(readingsTotal)} readings in ${formatCount(calls.length)} batches of ` +
          `${metersPerCall} meters x ${intervalsPerCall} intervals over ${callers} IngestReadings streams`,
      );
      const shown = progress('ingest', readingsTotal, 'readings');
      const shares = Array.from({ length: Math.min(callers, calls.length) }, (_, caller) =>
        calls.filter((_, index) => index % callers === caller),
      );
      const started = performance.now();
      const answers = await Promise.all(
        shares.map((batches) =>
          streamBatches(client!, metadata, batches, (n) => {
            signal.throwIfAborted();
            shown.advance(n);
          }),
        ),
      );
      const ingestedMs = performance.now() - started;
      shown.finish();
      while (relay.published - published0 < expectedRecords) {
        signal.throwIfAborted();
        await sleep(2);
      }
      const subjectMs = performance.now() - started;
      const accepted = answers.reduce((n, answer) => n + answer.accepted, 0);
      if (accepted !== readingsTotal) {
        throw new Error(
          `accepted ${accepted} of ${readingsTotal}: ${JSON.stringify(
            answers
              .map((a) => a.batches.flatMap((b) => b.rejections))
              .flat()
              .slice(0, 3),
          )}`,
        );
      }
      if (relay.published - published0 !== expectedRecords) {
        throw new Error(`relay published ${relay.published - published0}, not ${expectedRecords}`);
      }
      log(
        `subject: answered in ${formatDuration(ingestedMs)}, all on Kafka after ${formatDuration(subjectMs)}`,
      );

      // The baseline: the same events (read back from the store before its clock starts),
      // encoded by the same mapper and produced with the same producer settings, in the relay's
      // batch size, one send after the other as the relay does.
      const { rows } = await db.pool.query<{
        event_id: string;
        stream_id: string;
        data: RecordedEvent['data'];
        metadata: RecordedEvent['metadata'];
      }>(
        `SELECT event_id, stream_id, data, metadata FROM events
         WHERE event_type = 'ReadingsRecorded' AND stream_id LIKE 'meter-M-%' ORDER BY global_position`,
      );
      if (rows.length !== expectedRecords) {
        throw new Error(`found ${rows.length} ReadingsRecorded events, not ${expectedRecords}`);
      }
      const events: RecordedEvent[] = rows.map((row, i) => ({
        eventId: row.event_id,
        streamId: row.stream_id,
        streamVersion: i + 1,
        globalPosition: BigInt(i + 1),
        transactionId: 1n,
        type: 'ReadingsRecorded',
        schemaVersion: 1,
        data: row.data,
        metadata: row.metadata,
        recordedAt: new Date(),
      }));
      const toBaseline: IntegrationEventMapper = (event) => {
        const message = meteringEventMapper(event);
        return message && { ...message, topic: baselineTopic };
      };
      // Warm the baseline producer's connections to the topic's partition leaders.
      await baselineProducer.send(events.slice(0, 24).map((event) => toRecord(event, toBaseline)!));
      const rounds = options['baseline-rounds'];
      let baselineMs = 0;
      for (let round = 0; round < rounds; round++) {
        const baselineStarted = performance.now();
        for (let at = 0; at < events.length; at += RELAY_BATCH) {
          signal.throwIfAborted();
          const records = events
            .slice(at, at + RELAY_BATCH)
            .map((event) => toRecord(event, toBaseline)!);
          await baselineProducer.send(records);
        }
        baselineMs += performance.now() - baselineStarted;
      }
      baselineMs /= rounds;
      log(
        `baseline: ${formatCount(events.length)} records produced in ${formatDuration(baselineMs)} (mean of ${rounds})`,
      );

      const shape =
        `${formatCount(meters)} meters x ${intervals} intervals = ${formatCount(readingsTotal)} readings, ` +
        `batches of ${metersPerCall} meters x ${intervalsPerCall} intervals over ${callers} streams`;
      return [
        {
          metric: 'throughput',
          unit: 'readings/s',
          subject: perSecond(readingsTotal, subjectMs),
          baseline: perSecond(readingsTotal, baselineMs),
          higherIsBetter: true,
          notes:
            `${shape}; subject: gRPC IngestReadings client streams into the metering service ` +
            '(in-process, auth, VEE, event store + read models, Redis hot state), clock stopped when ' +
            'the OutboxRelay had Kafka acknowledge every ReadingsRecorded; baseline: the same ' +
            `${formatCount(expectedRecords)} records (one per meter batch) encoded by the same mapper ` +
            `and produced by a MessageProducer, ${RELAY_BATCH} per send, mean of ${rounds} rounds`,
        },
        {
          metric: 'ingest only',
          unit: 'readings/s',
          subject: perSecond(readingsTotal, ingestedMs),
          baseline: perSecond(readingsTotal, baselineMs),
          higherIsBetter: true,
          notes: 'subject clock stopped when the last stream was answered (relay maybe still busy)',
        },
      ];
    } finally {
      client?.close();
      if (server) {
        server.stopGapFilling();
        await server.runtime.shutdown('benchmark done').catch(() => undefined);
      }
      await baselineProducer.disconnect().catch(() => undefined);
      await admin
        .deleteTopics({
          topics: [
            ...topics.flatMap((spec) => [spec.name, deadLetterTopic(spec.name)]),
            baselineTopic,
          ],
        })
        .catch((error: unknown) => log(`topics not deleted: ${String(error)}`));
      await admin.disconnect().catch(() => undefined);
    }
  },
});
