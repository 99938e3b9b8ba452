import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { park } from '@park/contracts';
import { carbonMigrationsDir } from '@park/carbon';
import {
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/carbon/integration';
import { carbonConfigSchema, startCarbonService, type CarbonServer } from '@park/carbon/server';
import {
  cloudEventRecord,
  createKafka,
  deadLetterTopic,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  type OutgoingRecord,
} from '@park/messaging';
import type { Admin } from 'kafkajs';
import { loadConfig } from '@park/service-kit';
import { formatCount, formatDuration } from '../format';
import { perSecond } from '../stats';
import { defineBenchmark, type BenchResult } from '../types';

const metering = park.metering.v1;
const INTERVAL_MS = 15 * 60_000;
const SEND_BATCH = 500;

/** A consumer group's lag as an operator sees it: end offsets minus the group's commits. */
async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return ends.reduce((sum, end) => {
    const offset = at.get(end.partition) ?? -1;
    return sum + Number(end.high) - (offset < 0 ? Number(end.low) : offset);
  }, 0);
}

export const carbonBenchmark = defineBenchmark({
  name: 'carbon',
  description:
    "metering's ReadingsRecorded records accounted by the carbon service (ledger, basis, outbox) vs a raw Kafka consumer of the same topic",
  flags: {
    meters: {
      kind: 'int',
      description: 'grid meters whose readings are accounted, spread over the enterprises',
      default: 200,
      min: 1,
      max: 100_000,
    },
    enterprises: {
      kind: 'int',
      description: 'enterprises the meters belong to (one ledger stream each per month)',
      default: 20,
      min: 1,
      max: 10_000,
    },
    records: {
      kind: 'int',
      description: 'ReadingsRecorded records published (spread over the meters)',
      default: 4_000,
      min: 1,
      max: 1_000_000,
    },
    'readings-per-record': {
      kind: 'int',
      description: "readings in one record (one meter's batch, as metering's relay sends them)",
      default: 4,
      min: 1,
      max: 96 * 31,
    },
  },

  async run({ options, scratchDatabase, progress, log, signal, infra }): Promise<BenchResult[]> {
    const { meters, records, enterprises } = options;
    const perRecord = options['readings-per-record'];
    const db = await scratchDatabase('carbon', {
      poolSize: 2,
      migrations: [messagingMigrationsDir, carbonMigrationsDir],
    });
    const prefix = `bench.${randomBytes(4).toString('hex')}.`;
    const topics = {
      registry: `${prefix}${METERING_REGISTRY_TOPIC}`,
      readings: `${prefix}${METERING_READINGS_TOPIC}`,
      allocations: `${prefix}${GREEN_ALLOCATIONS_TOPIC}`,
    };
    const kafka = createKafka({
      clientId: 'bench-carbon',
      brokers: infra.kafkaBrokers,
      logLevel: 'error',
    });
    const admin = kafka.admin();
    await admin.connect();
    const producer = new MessageProducer(kafka);
    let server: CarbonServer | undefined;
    const created: string[] = [];
    try {
      await ensureTopics(admin, [
        { name: topics.registry, partitions: 6, compacted: true, retentionMs: -1 },
        { name: topics.readings, partitions: 24, retentionMs: -1 },
        { name: topics.allocations, partitions: 6, retentionMs: -1 },
      ]);
      created.push(...Object.values(topics));
      await producer.connect();
      const record = (
        topic: string,
        key: string,
        type: string,
        payload: Uint8Array,
      ): OutgoingRecord =>
        cloudEventRecord({ topic, key, type, payload, source: '//park/metering' });

      // The registry the readings refer to, then every readings record, before the clock starts.
      const meterIds = Array.from({ length: meters }, (_, i) => `M-${String(i).padStart(6, '0')}`);
      const enterpriseOf = (meterId: string) => `ent-${Number(meterId.slice(2)) % enterprises}`;
      const descriptor = (meterId: string): park.metering.v1.MeterDescriptor => ({
        meterId,
        enterpriseId: enterpriseOf(meterId),
        commodity: metering.Commodity.COMMODITY_ELECTRICITY,
        role: metering.MeterRole.METER_ROLE_GRID_IMPORT,
        unit: park.common.v1.Unit.UNIT_KWH,
        intervalMinutes: 15,
        sourceGeneratorId: '',
        sourceEntityId: '',
      });
      await producer.send([
        record(
          topics.registry,
          'park-bench',
          'park.metering.v1.ParkConfigured',
          metering.ParkConfigured.encode({
            park: {
              parkId: 'park-bench',
              name: 'Bench park',
              timeZone: 'Asia/Shanghai',
              latitude: { value: '41.8' },
              longitude: { value: '123.4' },
              gridRegion: 'northeast_china',
              sizeBand: metering.SizeBand.SIZE_BAND_BELOW_200K_TCE,
            },
          }).finish(),
        ),
        ...Array.from({ length: enterprises }, (_, e) =>
          record(
            topics.registry,
            `ent-${e}`,
            'park.metering.v1.EnterpriseRegistered',
            metering.EnterpriseRegistered.encode({
              enterprise: {
                enterpriseId: `ent-${e}`,
                parkId: 'park-bench',
                name: `Bench enterprise ${e}`,
                creditCode: '91210106MA0Y5K7R5J',
                industryCode: 'C3120',
                exporter: false,
                energyUsing: true,
                keyEnergyConsumingUnit: false,
              },
            }).finish(),
          ),
        ),
      ]);
      const t0 = Date.parse('2023-06-01T00:00:00Z');
      const published = progress('publish', records, 'records');
      let batch: OutgoingRecord[] = [];
      for (let r = 0; r < records; r++) {
        signal.throwIfAborted();
        const meterId = meterIds[r % meters]!;
        const first = Math.floor(r / meters) * perRecord;
        batch.push(
          record(
            topics.readings,
            meterId,
            'park.metering.v1.ReadingsRecorded',
            metering.ReadingsRecorded.encode({
              meter: descriptor(meterId),
              readings: Array.from({ length: perRecord }, (_, k) => ({
                intervalStart: new Date(t0 + (first + k) * INTERVAL_MS),
                value: { value: (((r * 7_919 + k * 104_729) % 90_000) / 1_000 + 1).toFixed(3) },
                quality: metering.Quality.QUALITY_MEASURED,
                source: 'gateway:bench',
              })),
            }).finish(),
          ),
        );
        if (batch.length === SEND_BATCH) {
          await producer.send(batch);
          published.advance(batch.length);
          batch = [];
        }
      }
      if (batch.length > 0) {
        await producer.send(batch);
        published.advance(batch.length);
      }
      published.finish();

      // Subject: the carbon service consumes the topic from the beginning.
      const config = loadConfig(carbonConfigSchema, {
        SERVICE_NAME: 'carbon-bench',
        DATABASE_URL: db.url,
        KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        REDIS_URL: infra.redisUrl,
        JWT_SECRET: 'carbon-bench-secret-of-at-least-32-chars',
        GRPC_HOST: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'error',
        CARBON_TOPIC_PREFIX: prefix,
        CARBON_PERIOD_CLOSE_INTERVAL_MS: '0',
      });
      server = await startCarbonService(config);
      created.push(`${prefix}park.carbon.emissions.v1`);
      const readings = server.consumers.readings;
      const accounted = progress('account', records, 'records');
      let started: number | undefined;
      let done = 0;
      let maxLag = 0;
      let lagSamples = 0;
      let lagSum = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const lag = await groupLag(admin, `${prefix}carbon-readings`, topics.readings);
          if (started !== undefined && sampling) {
            maxLag = Math.max(maxLag, lag);
            lagSum += lag;
            lagSamples++;
          }
          await sleep(200);
        }
      })();
      for (;;) {
        signal.throwIfAborted();
        const now = readings.counters.applied + readings.counters.duplicates;
        if (now > 0 && started === undefined) started = performance.now();
        if (now > done) {
          accounted.advance(now - done);
          done = now;
        }
        if (done >= records) break;
        await sleep(5);
      }
      const subjectMs = performance.now() - started!;
      sampling = false;
      await sampler;
      accounted.finish();
      if (readings.counters.deadLettered > 0) {
        throw new Error(`${readings.counters.deadLettered} records were dead-lettered`);
      }
      const { rows } = await db.pool.query<{ lines: number }>(
        'SELECT count(*)::int AS lines FROM ledger_lines',
      );
      if (rows[0]!.lines !== records * perRecord) {
        throw new Error(`ledger holds ${rows[0]!.lines} lines, not ${records * perRecord}`);
      }
      log(`subject: ${formatCount(records)} records accounted in ${formatDuration(subjectMs)}`);

      // Baseline: a plain consumer of the same topic, from the beginning, nothing done per record.
      const consumer = kafka.consumer({ groupId: `${prefix}raw-baseline` });
      await consumer.connect();
      await consumer.subscribe({ topic: topics.readings, fromBeginning: true });
      let consumed = 0;
      let baselineStarted: number | undefined;
      let baselineEnded = 0;
      await consumer.run({
        eachBatch: async ({ batch: fetched }) => {
          baselineStarted ??= performance.now();
          consumed += fetched.messages.length;
          if (consumed >= records) baselineEnded = performance.now();
        },
      });
      while (consumed < records) {
        signal.throwIfAborted();
        await sleep(2);
      }
      await consumer.disconnect();
      const baselineMs = baselineEnded - baselineStarted!;
      log(`baseline: ${formatCount(records)} records consumed in ${formatDuration(baselineMs)}`);

      const shape = `${formatCount(records)} ReadingsRecorded records x ${perRecord} readings of ${formatCount(meters)} grid meters of ${enterprises} enterprises on 24 partitions`;
      return [
        {
          metric: 'throughput',
          unit: 'records/s',
          subject: perSecond(records, subjectMs),
          baseline: perSecond(records, baselineMs),
          higherIsBetter: true,
          notes:
            `${shape}; subject: the carbon service's readings consumer (inbox, factor catalog, ` +
            'posting, ledger append, ledger lines, basis) from the first record applied to the last; ' +
            'baseline: a kafkajs consumer of the same topic doing nothing per record',
        },
        {
          metric: 'consumer lag max',
          unit: 'records',
          subject: maxLag,
          baseline: records,
          higherIsBetter: false,
          notes: `the group's committed offsets against the topic's end, sampled every 200 ms while accounting a preloaded topic (mean ${Math.round(lagSum / Math.max(1, lagSamples))}); baseline: the whole backlog`,
        },
      ];
    } finally {
      if (server) {
        server.stopScheduler();
        await server.runtime.shutdown('benchmark done').catch(() => undefined);
      }
      await producer.disconnect().catch(() => undefined);
      const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
      const doomed = created
        .flatMap((topic) => [topic, deadLetterTopic(topic)])
        .filter((topic) => existing.has(topic));
      await admin.deleteTopics({ topics: doomed }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  },
});
