import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { park } from '@park/contracts';
import {
  CARBON_EMISSIONS_TOPIC,
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/carbon/integration';
import {
  cloudEventRecord,
  createKafka,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  type OutgoingRecord,
} from '@park/messaging';
import { reportingMigrationsDir, schemaOf } from '@park/reporting';
import {
  reportingConfigSchema,
  startReportingService,
  type ReportingServer,
} from '@park/reporting/server';
import { loadConfig } from '@park/service-kit';
import { formatCount, formatDuration } from '../format';
import { percentile, perSecond } from '../stats';
import { defineBenchmark, type BenchResult } from '../types';

const metering = park.metering.v1;
const INTERVAL_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
const SEND_BATCH = 500;
const PARK = 'park-bench';
/** Topic names reporting reads that the benchmark does not fill (the service creates them). */
const DISPATCH_PLANS_TOPIC = 'park.dispatch.plans.v1';

export const replayBenchmark = defineBenchmark({
  name: 'replay',
  aliases: ['reporting'],
  description:
    'a blue-green rebuild of every reporting projection from offset 0 (records applied by the new versions per second, from RebuildProjection to the switch) vs a raw Kafka consumer of the same topics; KPI latency while rebuilding vs idle',
  flags: {
    enterprises: {
      kind: 'int',
      description: 'enterprises of the park (emissions records are spread over them)',
      default: 50,
      min: 1,
      max: 10_000,
    },
    meters: {
      kind: 'int',
      description: 'grid meters whose readings records are preloaded',
      default: 500,
      min: 1,
      max: 100_000,
    },
    readings: {
      kind: 'int',
      description: "metering's ReadingsRecorded records preloaded (activity projection)",
      default: 20_000,
      min: 1,
      max: 1_000_000,
    },
    'readings-per-record': {
      kind: 'int',
      description: 'intervals in one ReadingsRecorded record',
      default: 4,
      min: 1,
      max: 96 * 31,
    },
    emissions: {
      kind: 'int',
      description: "carbon's HourlyEmissionsAccounted records preloaded (emissions projection)",
      default: 20_000,
      min: 1,
      max: 1_000_000,
    },
    'hours-per-record': {
      kind: 'int',
      description: 'hours in one HourlyEmissionsAccounted record',
      default: 4,
      min: 1,
      max: 24 * 31,
    },
  },

  async run({ options, scratchDatabase, progress, log, signal, infra }): Promise<BenchResult[]> {
    const { enterprises, meters } = options;
    const readingsRecords = options.readings;
    const emissionsRecords = options.emissions;
    const perReadings = options['readings-per-record'];
    const perHours = options['hours-per-record'];
    const db = await scratchDatabase('reporting', {
      poolSize: 2,
      migrations: [messagingMigrationsDir, reportingMigrationsDir],
    });
    const prefix = `bench.${randomBytes(4).toString('hex')}.`;
    const topics = {
      registry: `${prefix}${METERING_REGISTRY_TOPIC}`,
      readings: `${prefix}${METERING_READINGS_TOPIC}`,
      emissions: `${prefix}${CARBON_EMISSIONS_TOPIC}`,
      plans: `${prefix}${DISPATCH_PLANS_TOPIC}`,
      allocations: `${prefix}${GREEN_ALLOCATIONS_TOPIC}`,
    };
    const kafka = createKafka({
      clientId: 'bench-reporting',
      brokers: infra.kafkaBrokers,
      logLevel: 'error',
    });
    const admin = kafka.admin();
    await admin.connect();
    const producer = new MessageProducer(kafka);
    let server: ReportingServer | undefined;
    try {
      // The partition counts the producers create their topics with.
      await ensureTopics(admin, [
        { name: topics.registry, partitions: 6, compacted: true, retentionMs: -1 },
        { name: topics.readings, partitions: 24, retentionMs: -1 },
        { name: topics.emissions, partitions: 12, retentionMs: -1 },
        { name: topics.plans, partitions: 3, retentionMs: -1 },
        { name: topics.allocations, partitions: 12, retentionMs: -1 },
      ]);
      await producer.connect();
      const record = (
        topic: string,
        key: string,
        type: string,
        payload: Uint8Array,
      ): OutgoingRecord => cloudEventRecord({ topic, key, type, payload, source: '//park/bench' });

      // The registry, then the readings and emissions records, all before the service starts.
      const enterpriseId = (e: number) => `ent-${e}`;
      const meterIds = Array.from({ length: meters }, (_, i) => `M-${String(i).padStart(6, '0')}`);
      const descriptor = (m: number): park.metering.v1.MeterDescriptor => ({
        meterId: meterIds[m]!,
        enterpriseId: enterpriseId(m % enterprises),
        commodity: metering.Commodity.COMMODITY_ELECTRICITY,
        role: metering.MeterRole.METER_ROLE_GRID_IMPORT,
        unit: park.common.v1.Unit.UNIT_KWH,
        intervalMinutes: 15,
        sourceGeneratorId: '',
        sourceEntityId: '',
      });
      const registry: OutgoingRecord[] = [
        record(
          topics.registry,
          PARK,
          'park.metering.v1.ParkConfigured',
          metering.ParkConfigured.encode({
            park: {
              parkId: PARK,
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
            enterpriseId(e),
            'park.metering.v1.EnterpriseRegistered',
            metering.EnterpriseRegistered.encode({
              enterprise: {
                enterpriseId: enterpriseId(e),
                parkId: PARK,
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
        ...meterIds.map((meterId, m) =>
          record(
            topics.registry,
            meterId,
            'park.metering.v1.MeterRegistered',
            metering.MeterRegistered.encode({
              meter: {
                ...descriptor(m),
                registerType: metering.RegisterType.REGISTER_TYPE_INTERVAL,
                registerMaximum: undefined,
                multiplier: { value: '1' },
                ratedPowerKw: undefined,
                steamEnthalpyGjPerTonne: undefined,
                status: metering.MeterStatus.METER_STATUS_ACTIVE,
                registeredAt: new Date('2023-01-01T00:00:00Z'),
                serialNumber: '',
              },
            }).finish(),
          ),
        ),
      ];
      for (let at = 0; at < registry.length; at += SEND_BATCH)
        await producer.send(registry.slice(at, at + SEND_BATCH));

      const t0 = Date.parse('2023-05-31T16:00:00Z'); // 2023-06-01 00:00 in park time
      const figures = (kwh: number): park.carbon.v1.Figures => {
        const d = (value: number) => ({ value: value.toFixed(3) });
        return {
          energyKgce: d(kwh * 0.1229),
          electricityKwh: d(kwh),
          gridKwh: d(kwh * 0.4),
          renewableKwh: d(kwh * 0.6),
          carbonFreeKwh: d(kwh * 0.6),
          scope1Kgco2e: d(0),
          scope2LocationKgco2e: d(kwh * 0.4 * 0.5703),
          scope2MarketKgco2e: d(kwh * 0.4 * 0.5),
        };
      };
      const zero = figures(0);
      const published = progress('publish', readingsRecords + emissionsRecords, 'records');
      let batch: OutgoingRecord[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await producer.send(batch);
        published.advance(batch.length);
        batch = [];
      };
      for (let r = 0; r < readingsRecords; r++) {
        signal.throwIfAborted();
        const m = r % meters;
        const first = Math.floor(r / meters) * perReadings;
        batch.push(
          record(
            topics.readings,
            meterIds[m]!,
            'park.metering.v1.ReadingsRecorded',
            metering.ReadingsRecorded.encode({
              meter: descriptor(m),
              readings: Array.from({ length: perReadings }, (_, k) => ({
                intervalStart: new Date(t0 + (first + k) * INTERVAL_MS),
                value: { value: (((r * 7_919 + k * 104_729) % 90_000) / 1_000 + 1).toFixed(3) },
                quality: metering.Quality.QUALITY_MEASURED,
                source: 'gateway:bench',
              })),
            }).finish(),
          ),
        );
        if (batch.length === SEND_BATCH) await flush();
      }
      for (let r = 0; r < emissionsRecords; r++) {
        signal.throwIfAborted();
        const e = r % enterprises;
        const first = Math.floor(r / enterprises) * perHours;
        batch.push(
          record(
            topics.emissions,
            enterpriseId(e),
            'park.carbon.v1.HourlyEmissionsAccounted',
            park.carbon.v1.HourlyEmissionsAccounted.encode({
              enterpriseId: enterpriseId(e),
              cause: 'reading',
              hours: Array.from({ length: perHours }, (_, k) => ({
                hourStart: new Date(t0 + (first + k) * HOUR_MS),
                change: figures(((r * 31 + k * 17) % 900) + 100),
                priorPeriodAdjustment: false,
                internalChange: zero,
              })),
            }).finish(),
          ),
        );
        if (batch.length === SEND_BATCH) await flush();
      }
      await flush();
      published.finish();
      const total = registry.length + readingsRecords + emissionsRecords;

      // The service: version 1 of every projection reads the topics from the beginning.
      const config = loadConfig(reportingConfigSchema, {
        SERVICE_NAME: 'reporting-bench',
        DATABASE_URL: db.url,
        KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        REDIS_URL: infra.redisUrl,
        JWT_SECRET: 'reporting-bench-secret-of-at-least-32-chars',
        GRPC_HOST: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'error',
        REPORTING_TOPIC_PREFIX: prefix,
      });
      let started = performance.now();
      server = await startReportingService(config);
      const running = server;
      await running.projections.caughtUp(30 * 60_000);
      log(
        `version 1 of every projection caught up with ${formatCount(total)} records in ${formatDuration(performance.now() - started)}`,
      );

      // KPIs of the month while idle: the latency baseline, and the answer to keep.
      const kpis = async () => {
        const at = performance.now();
        const answer = await running.queries.parkKpis(PARK, 'month', '2023-06');
        return { ms: performance.now() - at, text: JSON.stringify(answer.kpis) };
      };
      const idle: number[] = [];
      const expected = (await kpis()).text;
      for (let i = 0; i < 50; i++) idle.push((await kpis()).ms);

      // Subject: RebuildProjection of every projection, until every one has switched.
      const rebuilding = progress('rebuild', total, 'records');
      started = performance.now();
      await running.projections.rebuild();
      let switched = false;
      const busy: number[] = [];
      let differing = 0;
      const querying = (async () => {
        while (!switched) {
          const answer = await kpis();
          busy.push(answer.ms);
          if (answer.text !== expected) differing++;
        }
      })();
      let shown = 0;
      for (;;) {
        signal.throwIfAborted();
        const statuses = await running.projections.status();
        const applied = statuses.reduce((sum, s) => sum + s.buildingApplied, 0);
        if (applied > shown) {
          rebuilding.advance(applied - shown);
          shown = applied;
        }
        if (statuses.every((s) => s.activeVersion === 2 && s.buildingVersion === 0)) break;
        await sleep(50);
      }
      const subjectMs = performance.now() - started;
      switched = true;
      await querying;
      rebuilding.finish();
      let events = 0;
      for (const name of ['registry', 'activity', 'emissions', 'plans', 'allocations']) {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schemaOf(name, 2)}.applied_events`,
        );
        events += rows[0]!.n;
      }
      if (events !== total) throw new Error(`version 2 applied ${events} records, not ${total}`);
      if (differing > 0)
        throw new Error(`${differing} KPI answers during the rebuild differed from the idle one`);
      log(
        `subject: ${formatCount(events)} records applied by version 2 in ${formatDuration(subjectMs)} (${busy.length} KPI queries answered meanwhile, all equal to the idle answer)`,
      );

      // Baseline: a plain consumer of the same topics, from the beginning, nothing per record.
      started = performance.now();
      const consumer = kafka.consumer({ groupId: `${prefix}raw-baseline` });
      await consumer.connect();
      for (const topic of [topics.registry, topics.readings, topics.emissions])
        await consumer.subscribe({ topic, fromBeginning: true });
      let consumed = 0;
      let baselineEnded = 0;
      await consumer.run({
        eachBatch: async ({ batch: fetched }) => {
          consumed += fetched.messages.length;
          if (consumed >= total && baselineEnded === 0) baselineEnded = performance.now();
        },
      });
      while (consumed < total) {
        signal.throwIfAborted();
        await sleep(2);
      }
      await consumer.disconnect();
      const baselineMs = baselineEnded - started;
      log(`baseline: ${formatCount(consumed)} records consumed in ${formatDuration(baselineMs)}`);

      const shape =
        `${formatCount(total)} records: ${formatCount(readingsRecords)} ReadingsRecorded x ${perReadings} intervals of ${formatCount(meters)} meters (24 partitions), ` +
        `${formatCount(emissionsRecords)} HourlyEmissionsAccounted x ${perHours} hours of ${enterprises} enterprises (12 partitions), ${formatCount(registry.length)} registry records`;
      return [
        {
          metric: 'rebuild throughput',
          unit: 'records/s',
          subject: perSecond(events, subjectMs),
          baseline: perSecond(consumed, baselineMs),
          higherIsBetter: true,
          notes:
            `${shape}; subject: records applied by the new versions (applied_events rows) over the time from RebuildProjection (all five) ` +
            'until every projection switched (group joins, schema creation, checkpointed transactions of 200 records, switch); ' +
            'baseline: a kafkajs consumer of the same topics from connect to the last record, doing nothing per record',
        },
        {
          metric: 'KPI latency p50 while rebuilding',
          unit: 'ms',
          subject: percentile(busy, 50),
          baseline: percentile(idle, 50),
          higherIsBetter: false,
          notes: `GetParkKpis (month) served by the old versions: ${busy.length} queries during the rebuild (p95 ${percentile(busy, 95).toFixed(1)} ms) vs 50 idle ones (p95 ${percentile(idle, 95).toFixed(1)} ms)`,
        },
      ];
    } finally {
      if (server) {
        await server.projections.stop().catch(() => undefined);
        await server.runtime.shutdown('benchmark done').catch(() => undefined);
      }
      await producer.disconnect().catch(() => undefined);
      const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
      const doomed = Object.values(topics).filter((topic) => existing.has(topic));
      await admin.deleteTopics({ topics: doomed }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  },
});
