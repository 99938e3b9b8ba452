import {
  createTestDatabase,
  readTopic,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
} from '@park/testing';
import {
  CE,
  createKafka,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  OutboxRelay,
} from '@park/messaging';
import { Dec } from '@park/domain-primitives';
import { Redis } from 'ioredis';
import { meteringMigrationsDir } from '../app';
import { decodeMeteringEvent } from '../integration';
import { prefixedTopics } from '../server';
import type { RegisterMeter } from '../registry/meter-registration';
import { MeterDirectory } from '../registry/meter-directory';
import { RegistryService } from '../registry/registry-service';
import { aggregateSeries } from '../series/aggregate';
import { getSeries } from '../series/series-store';
import { fillGaps } from './gap-service';
import { MeterHotStateCache } from './hot-state';
import { IngestService, type BatchReading } from './ingest-service';
import { MeterStreams } from './meter-streams';
import { arrayLiteral, projectMeteringEvents, rebuildReadModels } from './projection';

jest.setTimeout(120_000);

/** 2025-03-10 00:00 UTC = 08:00 in Shanghai. */
const T0 = Date.parse('2025-03-10T00:00:00Z');
const q = (k: number) => new Date(T0 + k * 15 * 60_000).toISOString();
const NOW = '2025-03-21T00:00:00.000Z';

let db: TestDatabase;
let redis: Redis;
let streams: MeterStreams;
let registry: RegistryService;
let ingest: IngestService;
let hot: MeterHotStateCache;

type MeterInput = Omit<RegisterMeter, 'type' | 'timeZone'>;
const intervalMeter = (meterId: string, extra: Partial<MeterInput> = {}): MeterInput => ({
  meterId,
  parkId: 'park-1',
  enterpriseId: 'ent-1',
  commodity: 'electricity',
  role: 'grid_import',
  unit: 'kWh',
  registerType: 'interval',
  ...extra,
});
const val = (meterId: string, k: number, value: string, extra: Partial<BatchReading> = {}) =>
  ({ meterId, intervalStart: q(k), value, unit: 'kWh', ...extra }) as BatchReading;
const reg = (meterId: string, k: number, register: string) =>
  ({ meterId, intervalStart: q(k), register, unit: 'kWh' }) as BatchReading;

async function rows(meterId: string) {
  const { rows } = await db.pool.query<{
    start: string;
    value: string | null;
    quality: string;
    register: string | null;
  }>(
    `SELECT to_char(interval_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"') AS start,
       value::text, quality, register::text
     FROM readings WHERE meter_id = $1 ORDER BY interval_start`,
    [meterId],
  );
  return rows;
}
const values = async (meterId: string) =>
  Object.fromEntries((await rows(meterId)).map((r) => [r.start, r.value]));
async function eventCount(type?: string, streamId?: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM events WHERE ($1::text IS NULL OR event_type = $1)
       AND ($2::text IS NULL OR stream_id = $2)`,
    [type ?? null, streamId ?? null],
  );
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  db = await createTestDatabase('metering_app', {
    migrations: [messagingMigrationsDir, meteringMigrationsDir],
    poolSize: 12,
  });
  redis = new Redis(testInfrastructure().redisUrl, { db: 11 });
  streams = new MeterStreams(db.store);
  const directory = new MeterDirectory(db.pool);
  registry = new RegistryService(db.store, streams, directory);
  hot = new MeterHotStateCache(redis, streams, { prefix: db.name });
  ingest = new IngestService(streams, directory, hot);
  await registry.configurePark({
    parkId: 'park-1',
    name: 'Zero-carbon pilot park',
    latitude: 31.2,
    longitude: 121.5,
    gridRegion: 'east_china',
    sizeBand: 'below_200k_tce',
  });
  for (const [enterpriseId, creditCode] of [
    ['ent-1', '91210106MA0Y5K7R5J'],
    ['ent-2', '91210106MA0Y5K7R5J'],
  ]) {
    await registry.registerEnterprise({
      enterpriseId: enterpriseId!,
      parkId: 'park-1',
      name: `Enterprise ${enterpriseId}`,
      creditCode: creditCode!,
      industryCode: 'C3411',
      exporter: false,
      energyUsing: true,
      keyEnergyConsumingUnit: false,
    });
  }
});
afterAll(async () => {
  redis.disconnect();
  await db.drop();
});

it('turns cumulative registers with a rollover and a meter replacement into interval values', async () => {
  // 5-digit register wrapping at 100000 behind x40 CTs; 800 kW: at most 200 kWh per interval.
  await registry.registerMeter({
    ...intervalMeter('m-cum'),
    registerType: 'cumulative',
    registerMaximum: '100000',
    multiplier: '40',
    ratedPowerKw: '800',
  });
  const first = await ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [
      reg('m-cum', 0, '99995.00'), // base register, no interval value
      reg('m-cum', 1, '99996.50'), // (99996.50 - 99995.00) x 40 = 60
      reg('m-cum', 2, '99998.50'), // (99998.50 - 99996.50) x 40 = 80
      reg('m-cum', 3, '1.25'), //     rollover: (100000 - 99998.50 + 1.25) x 40 = 2.75 x 40 = 110
      reg('m-cum', 4, '3.00'), //     (3.00 - 1.25) x 40 = 70
    ],
  });
  expect(first.map((r) => r.status)).toEqual(Array(5).fill('accepted'));
  // Swap at q(6): old register 4.50 closes q(5): (4.50 - 3.00) x 40 = 60; new meter x20 from 0.20.
  await registry.replaceMeter({
    meterId: 'm-cum',
    at: q(6),
    now: NOW,
    oldFinalRegister: '4.50',
    newFirstRegister: '0.20',
    multiplier: '20',
  });
  await ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [
      reg('m-cum', 6, '2.70'), // (2.70 - 0.20) x 20 = 50
      reg('m-cum', 7, '6.20'), // (6.20 - 2.70) x 20 = 70
    ],
  });
  expect(await values('m-cum')).toEqual({
    [q(0)]: null,
    [q(1)]: '60',
    [q(2)]: '80',
    [q(3)]: '110',
    [q(4)]: '70',
    [q(5)]: '60',
    [q(6)]: '50',
    [q(7)]: '70',
  });
  const quarter = await getSeries(db.pool, {
    meterId: 'm-cum',
    resolution: 'quarter_hour',
    from: q(0),
    to: q(8),
  });
  expect(quarter.buckets.map((b) => b.value)).toEqual(['60', '80', '110', '70', '60', '50', '70']);
  // Local hours 08:00 (q1..q3: 60 + 80 + 110 = 250) and 09:00 (q4..q7: 70 + 60 + 50 + 70 = 250).
  const hourly = await getSeries(db.pool, {
    meterId: 'm-cum',
    resolution: 'hour',
    from: q(0),
    to: q(8),
  });
  expect(hourly.buckets).toEqual([
    {
      start: q(0),
      end: q(4),
      value: '250',
      intervals: 3,
      quality: { measured: 3, estimated: 0, edited: 0 },
    },
    {
      start: q(4),
      end: q(8),
      value: '250',
      intervals: 4,
      quality: { measured: 4, estimated: 0, edited: 0 },
    },
  ]);
  expect(meterDirectoryUnits(await registry.getMeter('m-cum'))).toEqual({ multiplier: '20' });

  // Hot state in Redis, recomputed from the event store after Redis lost everything.
  const before = await hot.get('m-cum');
  expect(before).toMatchObject({ lastIntervalStart: q(7), lastRegister: '6.2' });
  await redis.flushdb();
  expect(await redis.exists(`${db.name}:meter:m-cum:hot`)).toBe(0);
  expect(await hot.get('m-cum')).toEqual(before);
  expect(await redis.exists(`${db.name}:meter:m-cum:hot`)).toBe(1);
  await redis.flushdb();
  // Ingest goes on from the event store's state: (7.20 - 6.20) x 20 = 20.
  const next = await ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [reg('m-cum', 8, '7.20')],
  });
  expect(next[0]).toMatchObject({ status: 'accepted', value: '20' });
  expect(await hot.get('m-cum')).toMatchObject({ lastIntervalStart: q(8), lastRegister: '7.2' });
});

function meterDirectoryUnits(record: { multiplier: string } | undefined) {
  return { multiplier: record?.multiplier };
}

it('estimates a 3-interval gap after the grace delay: interpolated and prorated; measured supersedes', async () => {
  await registry.registerMeter(intervalMeter('m-gap-int'));
  await registry.registerMeter({ ...intervalMeter('m-gap-cum'), registerType: 'cumulative' });
  await ingest.ingest({
    source: 'gateway:gw-1',
    now: q(8),
    readings: [
      val('m-gap-int', 0, '10'),
      val('m-gap-int', 1, '10'),
      val('m-gap-int', 2, '10'),
      val('m-gap-int', 6, '22'), // q3, q4, q5 missing
      reg('m-gap-cum', 0, '100'),
      reg('m-gap-cum', 1, '101'), // 101 - 100 = 1
      reg('m-gap-cum', 4, '111'), // registers of q2, q3 missing: q2, q3, q4 have no value
    ],
  });
  // The gap ended at q(6) = 01:30Z; at 02:00Z the 60-minute grace delay has not passed.
  expect((await fillGaps({ pool: db.pool, streams }, q(8))).failed).toEqual([]);
  expect((await rows('m-gap-int')).map((r) => r.start)).toEqual([q(0), q(1), q(2), q(6)]);

  const summary = await fillGaps({ pool: db.pool, streams, hot }, q(12), { batchSize: 2 });
  expect(summary.failed).toEqual([]);
  // Interval: 10 + (22 - 10) x m / 4 for m = 1, 2, 3: 13, 16, 19.
  expect(await rows('m-gap-int')).toMatchObject([
    { start: q(0), value: '10', quality: 'measured' },
    { start: q(1), value: '10', quality: 'measured' },
    { start: q(2), value: '10', quality: 'measured' },
    { start: q(3), value: '13', quality: 'estimated' },
    { start: q(4), value: '16', quality: 'estimated' },
    { start: q(5), value: '19', quality: 'estimated' },
    { start: q(6), value: '22', quality: 'measured' },
  ]);
  // Cumulative: 111 - 101 = 10 over 3 intervals: 10 / 3 = 3.333333 (6 places, down), the last
  // takes 10 - 2 x 3.333333 = 3.333334.
  expect(await rows('m-gap-cum')).toEqual([
    { start: q(0), value: null, quality: 'measured', register: '100' },
    { start: q(1), value: '1', quality: 'measured', register: '101' },
    { start: q(2), value: '3.333333', quality: 'estimated', register: null },
    { start: q(3), value: '3.333333', quality: 'estimated', register: null },
    { start: q(4), value: '3.333334', quality: 'estimated', register: '111' },
  ]);

  // Measured q(4) = 15 supersedes; q(3) between 10 and 15: 12.5; q(5) between 15 and 22: 18.5.
  const result = await ingest.ingest({
    source: 'gateway:gw-1',
    now: q(13),
    readings: [val('m-gap-int', 4, '15')],
  });
  expect(result).toEqual([
    { index: 0, meterId: 'm-gap-int', intervalStart: q(4), status: 'accepted', value: '15' },
  ]);
  expect(await rows('m-gap-int')).toMatchObject([
    { start: q(0) },
    { start: q(1) },
    { start: q(2) },
    { start: q(3), value: '12.5', quality: 'estimated' },
    { start: q(4), value: '15', quality: 'measured' },
    { start: q(5), value: '18.5', quality: 'estimated' },
    { start: q(6), value: '22', quality: 'measured' },
  ]);
  const day = await getSeries(db.pool, {
    meterId: 'm-gap-int',
    resolution: 'day',
    from: q(0),
    to: q(96),
  });
  // 10 + 10 + 10 + 12.5 + 15 + 18.5 + 22 = 98
  expect(day.buckets).toMatchObject([
    { value: '98', intervals: 7, quality: { measured: 5, estimated: 2, edited: 0 } },
  ]);
});

it('reports a 10-interval gap as GapDetected and closes it with late data', async () => {
  await registry.registerMeter(intervalMeter('m-long'));
  await ingest.ingest({
    source: 'gateway:gw-1',
    now: q(12),
    readings: [val('m-long', 0, '5'), val('m-long', 11, '5')], // q1..q10 missing: 10 intervals
  });
  await fillGaps({ pool: db.pool, streams }, q(20));
  expect(await eventCount('GapDetected', 'meter-m-long')).toBe(1);
  expect(await eventCount('ReadingsEstimated', 'meter-m-long')).toBe(0);
  const gaps = await db.pool.query(
    'SELECT missing_intervals, closed FROM meter_gaps WHERE meter_id = $1',
    ['m-long'],
  );
  expect(gaps.rows).toEqual([{ missing_intervals: 10, closed: false }]);
  await fillGaps({ pool: db.pool, streams }, q(24)); // reported once
  expect(await eventCount('GapDetected', 'meter-m-long')).toBe(1);

  const late = await ingest.ingest({
    source: 'csv:late',
    now: q(30),
    readings: Array.from({ length: 10 }, (_, i) => val('m-long', i + 1, '5')),
  });
  expect(late.every((r) => r.status === 'accepted')).toBe(true);
  expect(await eventCount('GapClosed', 'meter-m-long')).toBe(1);
  expect(
    (await db.pool.query('SELECT closed FROM meter_gaps WHERE meter_id = $1', ['m-long'])).rows,
  ).toEqual([{ closed: true }]);
  expect((await rows('m-long')).length).toBe(12);
});

it('takes the same 10,000 readings twice as duplicates; one changed value is one ReadingCorrected', async () => {
  const meters = Array.from({ length: 10 }, (_, m) => `m-bulk-${m}`);
  for (const meterId of meters) await registry.registerMeter(intervalMeter(meterId));
  // 10 meters x 1,000 intervals (q0..q999, up to 2025-03-20T10:00Z, before NOW).
  const batch = meters.flatMap((meterId, m) =>
    Array.from({ length: 1000 }, (_, k) => val(meterId, k, `${m}.${k % 100}`)),
  );
  expect(batch.length).toBe(10_000);
  const first = await ingest.ingest({ source: 'csv:upload-1', now: NOW, readings: batch });
  expect(first.filter((r) => r.status === 'accepted').length).toBe(10_000);
  const events = await eventCount();
  const { rows: counted } = await db.pool.query(
    "SELECT count(*)::int AS n FROM readings WHERE meter_id LIKE 'm-bulk-%'",
  );
  expect(counted[0].n).toBe(10_000);

  const again = await ingest.ingest({ source: 'csv:upload-2', now: NOW, readings: batch });
  expect(again.every((r) => r.status === 'duplicate')).toBe(true);
  expect(again.length).toBe(10_000);
  expect(await eventCount()).toBe(events);

  // q(500) of meter 3 (outside the state's 192-interval window: checked against the read model).
  const changed = batch.map((r) =>
    r.meterId === 'm-bulk-3' && r.intervalStart === q(500) ? { ...r, value: '99' } : r,
  );
  const third = await ingest.ingest({ source: 'csv:upload-3', now: NOW, readings: changed });
  expect(third.filter((r) => r.status !== 'duplicate')).toEqual([
    {
      index: 3500,
      meterId: 'm-bulk-3',
      intervalStart: q(500),
      status: 'corrected',
      oldValue: '3',
      newValue: '99',
    },
  ]);
  expect(await eventCount()).toBe(events + 1);
  expect(await eventCount('ReadingCorrected', 'meter-m-bulk-3')).toBe(1);
  const { rows: row } = await db.pool.query(
    'SELECT value::text FROM readings WHERE meter_id = $1 AND interval_start = $2',
    ['m-bulk-3', q(500)],
  );
  expect(row).toEqual([{ value: '99' }]);

  // On Kafka: the relay publishes the log; the topic holds exactly one ReadingCorrected, with
  // the old and the new value, and 10,000 readings recorded once (1,000 per meter).
  const prefix = `${uniqueTopic('metering')}.`;
  const { topics, map } = prefixedTopics(prefix);
  const readingsTopic = `${prefix}park.metering.readings.v1`;
  const kafka = createKafka({
    clientId: 'metering-app-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const producer = new MessageProducer(kafka);
  const relay = new OutboxRelay(db.store, producer, {
    name: 'metering-app-test-relay',
    source: '//park/metering',
    connectionString: db.url,
    map,
  });
  // catchUp reads below the server-wide transaction watermark: repeat until the log is drained.
  const deadline = Date.now() + 60_000;
  let published = 0;
  while (Date.now() < deadline) {
    published += await relay.catchUp();
    const { rows: left } = await db.pool.query(
      "SELECT count(*)::int AS n FROM events e, processor_checkpoints c WHERE c.processor = 'metering-app-test-relay' AND (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)",
    );
    if (left[0].n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await producer.disconnect();
  expect(published).toBeGreaterThan(0);
  const records = (await readTopic(kafka, readingsTopic)).filter((r) =>
    r.key?.startsWith('m-bulk-'),
  );
  const corrections = records.filter(
    (r) => r.headers[CE.type] === 'park.metering.v1.ReadingCorrected',
  );
  expect(corrections).toHaveLength(1);
  const correction = decodeMeteringEvent(
    'park.metering.v1.ReadingCorrected',
    corrections[0]!.value!,
  );
  expect(correction).toMatchObject({
    oldValue: { value: '3' },
    newValue: { value: { value: '99' } },
  });
  expect(corrections[0]!.key).toBe('m-bulk-3');
  const recorded = records
    .filter((r) => r.headers[CE.type] === 'park.metering.v1.ReadingsRecorded')
    .map(
      (r) =>
        decodeMeteringEvent('park.metering.v1.ReadingsRecorded', r.value!) as {
          readings: unknown[];
        },
    );
  expect(recorded.reduce((sum, message) => sum + message.readings.length, 0)).toBe(10_000);
});

it('answers each bad reading with its field and reason and keeps the good ones', async () => {
  await registry.registerMeter(intervalMeter('m-vee', { ratedPowerKw: '100' })); // 100 kW x 0.25 h = 25 kWh max
  const now = q(12); // 03:00Z
  const results = await ingest.ingest({
    source: 'gateway:gw-1',
    now,
    readings: [
      val('m-vee', 0, '10'),
      val('m-nope', 1, '10'),
      val('m-vee', 2, '10', { unit: 'Nm3' }),
      val('m-vee', 3, 'NaN'),
      val('m-vee', 4, '-3'),
      val('m-vee', 5, '30'),
      val('m-vee', 12, '10'),
      { ...val('m-vee', 0, '10'), intervalStart: '2025-03-10T00:07:00.000Z' },
      val('m-vee', 1, '12'),
    ],
  });
  expect(results).toEqual([
    { index: 0, meterId: 'm-vee', intervalStart: q(0), status: 'accepted', value: '10' },
    {
      index: 1,
      meterId: 'm-nope',
      intervalStart: q(1),
      status: 'rejected',
      field: 'readings[1].meter_id',
      reason: 'meter m-nope is not registered',
    },
    {
      index: 2,
      meterId: 'm-vee',
      intervalStart: q(2),
      status: 'rejected',
      field: 'readings[2].unit',
      reason: "'Nm3' does not fit this electricity meter, metered in kWh",
    },
    {
      index: 3,
      meterId: 'm-vee',
      intervalStart: q(3),
      status: 'rejected',
      field: 'readings[3].value',
      reason: `'NaN' is not a decimal number such as "12.5"`,
    },
    {
      index: 4,
      meterId: 'm-vee',
      intervalStart: q(4),
      status: 'rejected',
      field: 'readings[4].value',
      reason: 'negative consumption (-3 kWh) is not a reading',
    },
    {
      index: 5,
      meterId: 'm-vee',
      intervalStart: q(5),
      status: 'held',
      reason:
        "value 30 kWh exceeds the meter's physical maximum of 25 kWh per 15-minute interval (rated power 100 kW)",
    },
    {
      index: 6,
      meterId: 'm-vee',
      intervalStart: q(12),
      status: 'rejected',
      field: 'readings[6].interval_start',
      reason:
        'the interval ends at 2025-03-10T03:15:00.000Z, more than 5 minutes after now (2025-03-10T03:00:00.000Z)',
    },
    {
      index: 7,
      meterId: 'm-vee',
      intervalStart: '2025-03-10T00:07:00.000Z',
      status: 'rejected',
      field: 'readings[7].interval_start',
      reason:
        '2025-03-10T00:07:00.000Z is not an interval start of this 15-minute meter: intervals start at a multiple of 15 minutes in UTC',
    },
    { index: 8, meterId: 'm-vee', intervalStart: q(1), status: 'accepted', value: '12' },
  ]);
  expect(await values('m-vee')).toEqual({ [q(0)]: '10', [q(1)]: '12' });
  expect(
    (await db.pool.query("SELECT count(*)::int AS n FROM readings WHERE meter_id = 'm-nope'"))
      .rows[0].n,
  ).toBe(0);
  const held = await db.pool.query(
    'SELECT value::text, limit_value::text, resolution FROM held_readings WHERE meter_id = $1',
    ['m-vee'],
  );
  expect(held.rows).toEqual([{ value: '30', limit_value: '25', resolution: null }]);
});

it('averages a state of charge per park hour instead of summing it', async () => {
  await registry.registerMeter(
    intervalMeter('m-soc', { enterpriseId: 'ent-2', role: 'storage_soc', unit: '%' }),
  );
  await ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [
      // 08:00-09:00 local: (50 + 60 + 70 + 81) / 4 = 261 / 4 = 65.25
      ...['50', '60', '70', '81'].map((value, k) => val('m-soc', k, value, { unit: '%' })),
      // 09:00-09:15 local alone: 33.3; 09:15: 33.4 -> (33.3 + 33.4) / 2 = 33.35
      val('m-soc', 4, '33.3', { unit: '%' }),
      val('m-soc', 5, '33.4', { unit: '%' }),
    ],
  });
  const hours = await getSeries(db.pool, {
    meterId: 'm-soc',
    resolution: 'hour',
    from: q(0),
    to: q(8),
  });
  expect(hours.aggregation).toBe('mean');
  expect(
    hours.buckets.map(({ start, end, value, intervals }) => ({ start, end, value, intervals })),
  ).toEqual([
    { start: q(0), end: q(4), value: '65.25', intervals: 4 },
    { start: q(4), end: q(8), value: '33.35', intervals: 2 },
  ]);
});

it('buckets hours, days and months in PostgreSQL as the park-time reference (aggregateSeries) does', async () => {
  await registry.registerMeter(
    intervalMeter('m-oracle', { enterpriseId: 'ent-2', role: 'sub_meter' }),
  );
  // Three days of quarter hours from 10 March 08:00 local, values 0.001 to 0.288 kWh.
  const readings = Array.from({ length: 288 }, (_, k) =>
    val('m-oracle', k, new Dec(k + 1).div(1000).toString()),
  );
  await ingest.ingest({ source: 'gateway:gw-1', now: NOW, readings });
  const points = readings.map((r) => ({
    intervalStart: r.intervalStart,
    value: r.value!,
    quality: 'measured' as const,
  }));
  for (const resolution of ['hour', 'day', 'month'] as const) {
    const series = await getSeries(db.pool, {
      meterId: 'm-oracle',
      resolution,
      from: q(0),
      to: q(288),
    });
    expect(series.buckets).toEqual(
      aggregateSeries(points, { resolution, timeZone: 'Asia/Shanghai' }),
    );
  }
});

it('sums days in park time: 16:00Z is midnight in Shanghai', async () => {
  await registry.registerMeter(intervalMeter('m-day-1', { enterpriseId: 'ent-2' }));
  await registry.registerMeter(intervalMeter('m-day-2', { enterpriseId: 'ent-2', unit: 'MWh' }));
  const at = (hhmm: string) => `2025-03-10T${hhmm}:00.000Z`;
  await ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [
      { meterId: 'm-day-1', intervalStart: at('15:30'), value: '8', unit: 'kWh' }, // 23:30 local, 10 March
      { meterId: 'm-day-1', intervalStart: at('15:45'), value: '1', unit: 'kWh' }, // 23:45 local, 10 March
      { meterId: 'm-day-1', intervalStart: at('16:00'), value: '2', unit: 'kWh' }, // 00:00 local, 11 March
      { meterId: 'm-day-1', intervalStart: at('16:15'), value: '4', unit: 'kWh' }, // 00:15 local, 11 March
      { meterId: 'm-day-2', intervalStart: at('16:00'), value: '0.001', unit: 'MWh' }, // 1 kWh, 11 March
    ],
  });
  const days = await getSeries(db.pool, {
    enterpriseId: 'ent-2',
    commodity: 'electricity',
    role: 'grid_import',
    resolution: 'day',
    from: '2025-03-09T16:00:00Z',
    to: '2025-03-11T16:00:00Z',
  });
  expect(days.timeZone).toBe('Asia/Shanghai');
  expect(days.unit).toBe('kWh');
  expect(days.buckets).toEqual([
    // 8 + 1 = 9
    {
      start: '2025-03-09T16:00:00.000Z',
      end: at('16:00'),
      value: '9',
      intervals: 2,
      quality: { measured: 2, estimated: 0, edited: 0 },
    },
    // 2 + 4 + 0.001 MWh x 1000 = 2 + 4 + 1 = 7
    {
      start: at('16:00'),
      end: '2025-03-11T16:00:00.000Z',
      value: '7',
      intervals: 3,
      quality: { measured: 3, estimated: 0, edited: 0 },
    },
  ]);
  const meterDays = await getSeries(db.pool, {
    meterId: 'm-day-2',
    resolution: 'day',
    from: q(0),
    to: q(200),
  });
  expect(meterDays.buckets.map((b) => [b.start, b.value, b.intervals])).toEqual([
    [at('16:00'), '0.001', 1],
  ]);
});

it('lets concurrent ingests for the same meter both succeed (version retry), losing nothing', async () => {
  await registry.registerMeter(intervalMeter('m-conc'));
  const batches = [0, 1, 2, 3].map((b) =>
    Array.from({ length: 25 }, (_, i) => val('m-conc', b * 25 + i, '1')),
  );
  const results = await Promise.all(
    batches.map((readings, b) => ingest.ingest({ source: `gateway:gw-${b}`, now: NOW, readings })),
  );
  expect(results.flat().every((r) => r.status === 'accepted')).toBe(true);
  expect((await rows('m-conc')).length).toBe(100);
  expect(await eventCount('ReadingsRecorded', 'meter-m-conc')).toBe(4);
});

it('rebuilds identical read models from the event log', async () => {
  const tables = {
    parks: 'park_id',
    enterprises: 'enterprise_id',
    installations: 'installation_id',
    meters: 'meter_id',
    readings: 'meter_id, interval_start',
    held_readings: 'meter_id, interval_start',
    meter_gaps: 'meter_id, gap_start',
  };
  const dump = async () => {
    const out: Record<string, unknown[]> = {};
    for (const [table, order] of Object.entries(tables)) {
      out[table] = (await db.pool.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
    }
    return out;
  };
  await registry.registerInstallation({
    installationId: 'inst-1',
    enterpriseId: 'ent-1',
    parkId: 'park-1',
    name: 'Aluminium line 1',
    meterIds: ['m-cum', 'm-vee'],
  });
  // The March 2025 partition was created on demand; nothing is left in the default one.
  const partition = await db.pool.query(
    "SELECT to_regclass('readings_y2025m03')::text AS p, (SELECT count(*)::int FROM readings_default) AS n",
  );
  expect(partition.rows).toEqual([{ p: 'readings_y2025m03', n: 0 }]);
  const before = await dump();
  expect(before.readings!.length).toBeGreaterThan(10_000);
  expect(before.installations).toHaveLength(1);
  const projected = await rebuildReadModels(db.pool);
  expect(projected).toBe(await eventCount());
  expect(await dump()).toEqual(before);
});

it('projects consecutive ReadingsRecorded of several meters together, a later event of a meter after', async () => {
  const meter = (meterId: string) => ({
    meterId,
    parkId: 'park-1',
    enterpriseId: 'ent-1',
    commodity: 'electricity',
    role: 'grid_import',
    unit: 'kWh',
    intervalMinutes: 15,
  });
  const recorded = (meterId: string, version: number, value: string, k: number) => ({
    streamId: `meter-${meterId}`,
    streamVersion: version,
    type: 'ReadingsRecorded',
    data: {
      meter: meter(meterId),
      readings: [
        { intervalStart: q(k), intervalEnd: q(k + 1), value, quality: 'measured', source: 's' },
      ],
    },
  });
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    // In one call: a and b together, then a again on the same interval (a newer version), then
    // an older event of b that must not win.
    await projectMeteringEvents(client, [
      recorded('m-proj-a', 2, '1', 0),
      recorded('m-proj-b', 2, '2', 0),
      recorded('m-proj-a', 3, '3', 0),
      recorded('m-proj-b', 1, '9', 0),
    ]);
    const { rows: projected } = await client.query<{ meter_id: string; value: string }>(
      `SELECT meter_id, value::text, stream_version::int AS version FROM readings
       WHERE meter_id LIKE 'm-proj-%' ORDER BY meter_id`,
    );
    expect(projected).toEqual([
      { meter_id: 'm-proj-a', value: '3', version: 3 },
      { meter_id: 'm-proj-b', value: '2', version: 2 },
    ]);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});

it('writes the hot state of every meter of one commit, never going back to an older version', async () => {
  await registry.registerMeter(intervalMeter('m-hot-a'));
  await registry.registerMeter(intervalMeter('m-hot-b'));
  await ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [val('m-hot-a', 3, '1'), val('m-hot-b', 5, '2')],
  });
  const key = (meterId: string) => `${db.name}:meter:${meterId}:hot`;
  expect(await redis.hgetall(key('m-hot-a'))).toMatchObject({
    version: '2',
    lastIntervalStart: q(3),
  });
  expect(await redis.hgetall(key('m-hot-b'))).toMatchObject({
    version: '2',
    lastIntervalStart: q(5),
  });
  // A slower writer with the state after registration (version 1) arrives late: ignored.
  await hot.recordMany([
    { meterId: 'm-hot-a', state: { status: 'unregistered' }, version: 1 },
    { meterId: 'm-hot-b', state: { status: 'unregistered' }, version: 3 },
  ]);
  expect(await redis.hgetall(key('m-hot-a'))).toMatchObject({
    version: '2',
    lastIntervalStart: q(3),
  });
  expect(await redis.hgetall(key('m-hot-b'))).toEqual({
    version: '3',
    lastIntervalStart: '',
    lastRegister: '',
  });
});

it('writes array literals that PostgreSQL reads back element for element', async () => {
  const texts = [
    'gateway:gw-1',
    '',
    'NULL',
    'null',
    'a b',
    'quote " and \\ slash',
    '{x,y}',
    ' pad ',
  ];
  const { rows: read } = await db.pool.query<{ texts: string[]; numbers: string[] }>(
    'SELECT $1::text[] AS texts, $2::numeric[]::text[] AS numbers',
    [arrayLiteral([...texts, undefined]), arrayLiteral(['1.5', '-0.25', undefined, 7])],
  );
  expect(read[0]!.texts).toEqual([...texts, null]);
  expect(read[0]!.numbers).toEqual(['1.5', '-0.25', null, '7']);
});

it('refuses a batch beyond its admission limits with UNAVAILABLE, writing nothing, and takes it again later', async () => {
  await registry.registerMeter(intervalMeter('m-admit-1'));
  await registry.registerMeter(intervalMeter('m-admit-2'));
  const directory = new MeterDirectory(db.pool);
  // One batch at a time and none waiting: the second of two batches sent together is refused.
  const narrow = new IngestService(streams, directory, hot, {
    batches: { inProgress: 1, waiting: 0 },
  });
  const first = narrow.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [val('m-admit-1', 0, '1.5'), val('m-admit-1', 1, '2.5')],
  });
  const second = narrow.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [val('m-admit-2', 0, '4')],
  });
  await expect(second).rejects.toMatchObject({
    kind: 'unavailable',
    message: 'the service is at capacity: 1 batches in progress and 0 waiting; retry with backoff',
  });
  expect((await first).map((r) => r.status)).toEqual(['accepted', 'accepted']);
  expect(await eventCount(undefined, 'meter-m-admit-2')).toBe(1); // its registration only
  expect(await rows('m-admit-2')).toEqual([]);
  expect(narrow.load).toEqual({ inProgress: 0, waiting: 0 });
  // The client's retry is taken once the first batch is done.
  const retried = await narrow.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [val('m-admit-2', 0, '4')],
  });
  expect(retried.map((r) => r.status)).toEqual(['accepted']);
  expect(await values('m-admit-2')).toEqual({ [q(0)]: '4' });
});
