import { randomBytes, randomUUID } from 'node:crypto';
import { park } from '@park/contracts';
import { ensureTopics, MessageProducer, messagingMigrationsDir } from '@park/messaging';
import { METERING_READINGS_TOPIC } from '@park/metering-events';
import {
  createTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  meteringStandIn,
  meterSpec,
  recordPublisher,
  testKafka,
  type MeterSpec,
  type Publish,
  type TestDatabase,
} from '@park/testing';
import type { Kafka } from 'kafkajs';
import { reportingMigrationsDir } from '../app';
import { activityProjection } from './activity';
import { CARBON_EMISSIONS_TOPIC, emissionsProjection, FIGURE_COLUMNS } from './emissions';
import { schemaOf, type Projection } from './projection';
import { createBaseTables, ProjectionRunner } from './runner';
import {
  emissionsRestatedPayload,
  hourlyEmissionsPayload,
  type FigureValues,
  type HourChange,
} from '../test-support/emissions-payloads';

/**
 * The runner applies a group of records with the projection's applyMany (a few statements for
 * the group) when it has one: the tables end as applying the records one by one leaves them,
 * an event id twice in the group is applied once, and a record that cannot be read sends the
 * group back to record-by-record application, which rejects that record and applies the rest.
 * Each scenario has topics of one partition, published before its runner starts, so its records
 * arrive together.
 */

jest.setTimeout(180_000);

const Unit = park.common.v1.Unit;
/** Field 1, length-delimited, with a length far past the end: protobufjs cannot read it. */
const UNDECODABLE = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);

let db: TestDatabase;
let kafka: Kafka;
let producer: MessageProducer;
let send: Publish;
const base = `test.applymany.${randomBytes(4).toString('hex')}.`;
const prefixes = { good: `${base}good.`, bad: `${base}bad.`, same: `${base}same.` };

/** Every record published, by event id, to publish it again (a producer's duplicate). */
const sent = new Map<string, [topic: string, key: string, type: string, payload: Uint8Array]>();
const publish: Publish = (topic, key, type, payload, id = randomUUID()) => {
  sent.set(id, [topic, key, type, payload]);
  return send(topic, key, type, payload, id);
};
const again = (id: string) => {
  const [topic, key, type, payload] = sent.get(id)!;
  return send(topic, key, type, payload, id);
};

const readingsTopic = (prefix: string) => `${prefix}${METERING_READINGS_TOPIC}`;
const emissionsTopic = (prefix: string) => `${prefix}${CARBON_EMISSIONS_TOPIC}`;

beforeAll(async () => {
  db = await createTestDatabase('applymany', {
    migrations: [messagingMigrationsDir, reportingMigrationsDir],
  });
  kafka = testKafka('reporting-applymany');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    Object.values(prefixes).flatMap((prefix) => [
      { name: readingsTopic(prefix), partitions: 1 },
      { name: emissionsTopic(prefix), partitions: 1 },
    ]),
  );
  await admin.disconnect();
  producer = new MessageProducer(kafka);
  await producer.connect();
  send = recordPublisher(producer);
});
afterAll(async () => {
  await producer?.disconnect();
  if (kafka) await deleteTopicsWithPrefix(kafka, base);
  await db?.drop();
});

/** The projection, with the sizes of the groups its applyMany was given. */
function observed(projection: Projection): { projection: Projection; groups: number[] } {
  const groups: number[] = [];
  const applyMany = projection.applyMany!;
  return {
    groups,
    projection: {
      ...projection,
      async applyMany(tx, schema, messages) {
        groups.push(messages.length);
        await applyMany(tx, schema, messages);
      },
    },
  };
}

/** The projection without applyMany: the runner applies its records one by one. */
const recordByRecord = (projection: Projection): Projection => ({
  ...projection,
  applyMany: undefined,
});

/**
 * Creates version `version` of the projection (as the manager does) and feeds it from the
 * prefix's topics until it has read `records` records; answers the runner and what it reported.
 */
async function feed(projection: Projection, version: number, prefix: string, records: number) {
  const schema = schemaOf(projection.name, version);
  await db.pool.query(`CREATE SCHEMA ${schema}`);
  await createBaseTables(db.pool, schema);
  await projection.createTables(db.pool, schema);
  const errors: { error: unknown; id: string | undefined }[] = [];
  const runner = new ProjectionRunner({
    kafka,
    pool: db.pool,
    projection,
    version,
    prefix,
    onError: (error, message) => errors.push({ error, id: message?.id }),
  });
  await runner.start();
  try {
    await eventually(() => {
      const read = runner.applied + runner.skipped;
      if (read < records) throw new Error(`${read} of ${records} records read`);
    }, 60_000);
  } finally {
    await runner.stop();
  }
  return { runner, errors, schema };
}

const utc = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS ${column}`;

async function activityTables(schema: string) {
  const query = async (sql: string) => (await db.pool.query(sql)).rows;
  return {
    meterDays: await query(
      `SELECT meter_id, enterprise_id, day::text, ${utc('first_end')}, ${utc('last_end')}
       FROM ${schema}.meter_days ORDER BY meter_id, day`,
    ),
    electricity: await query(
      `SELECT meter_id, enterprise_id, role, ${utc('interval_start')}, kwh::text
       FROM ${schema}.electricity ORDER BY meter_id, interval_start`,
    ),
    commodityHours: await query(
      `SELECT enterprise_id, commodity, role, unit, ${utc('hour_start')}, quantity::text,
         measured, estimated, edited
       FROM ${schema}.commodity_hours ORDER BY enterprise_id, hour_start, commodity, role, unit`,
    ),
    gaps: await query(
      `SELECT meter_id, enterprise_id, ${utc('gap_start')}, ${utc('gap_end')}, missing_intervals, filled
       FROM ${schema}.gaps ORDER BY meter_id, gap_start`,
    ),
    soc: await query(
      `SELECT meter_id, ${utc('interval_start')}, percent::text FROM ${schema}.soc
       ORDER BY meter_id, interval_start`,
    ),
  };
}

async function emissionsRows(schema: string) {
  const columns = FIGURE_COLUMNS.flatMap((c) => [`${c}::text`, `internal_${c}::text`]);
  const { rows } = await db.pool.query(
    `SELECT enterprise_id, ${utc('hour_start')}, ${columns.join(', ')}
     FROM ${schema}.enterprise_hours ORDER BY enterprise_id, hour_start`,
  );
  return rows;
}

async function rejected(schema: string) {
  const { rows } = await db.pool.query<{
    message_id: string;
    kafka_offset: string;
    reason: string;
  }>(
    `SELECT message_id, kafka_offset::text, reason FROM ${schema}.rejected_events ORDER BY kafka_offset`,
  );
  return rows;
}

async function appliedIds(schema: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${schema}.applied_events`,
  );
  return rows[0]!.n;
}

// --- The hand-computed group ----------------------------------------------------------------

const m1 = meterSpec('m-1', 'ent-1', 'grid');

/**
 * Meter m-1's records, in this order on one partition: a reading record across UTC midnight, a
 * correction of one of its intervals, the reading record again (same event id), [an undecodable
 * record], a reading inside the coming gap, the GapDetected, readings before, inside and at the
 * end of the gap, and a correction of one inside it. 7 records, 8 with the bad one.
 */
async function publishActivityGroup(prefix: string, withBad: boolean): Promise<string | undefined> {
  const metering = meteringStandIn(publish, {
    registry: `${prefix}unused`,
    readings: readingsTopic(prefix),
  });
  const r1 = await metering.publishReadings(m1, [
    ['2023-06-10T23:30:00Z', '10'],
    ['2023-06-10T23:45:00Z', '20'],
    ['2023-06-11T00:00:00Z', '30'],
    ['2023-06-11T00:15:00Z', '40.5'],
  ]);
  await metering.publishCorrection(m1, '2023-06-10T23:45:00Z', '20', '25');
  await again(r1);
  const bad = withBad
    ? await publish(
        readingsTopic(prefix),
        m1.meterId,
        'park.metering.v1.ReadingsRecorded',
        UNDECODABLE,
      )
    : undefined;
  await metering.publishReadings(m1, [['2023-06-11T01:00:00Z', '5']]);
  await metering.publishGap(m1, {
    start: '2023-06-11T01:00:00Z',
    end: '2023-06-11T02:00:00Z',
    missingIntervals: 4,
  });
  await metering.publishReadings(m1, [
    ['2023-06-11T00:45:00Z', '4'],
    ['2023-06-11T01:15:00Z', '6'],
    ['2023-06-11T01:30:00Z', '7'],
    ['2023-06-11T02:00:00Z', '8'],
  ]);
  await metering.publishCorrection(m1, '2023-06-11T01:30:00Z', '7', '7.25');
  return bad;
}

/** What the group leaves in the activity tables, by hand. */
const expectedActivity = {
  // Starts on 06-10: 23:30, 23:45 -> ends (start + 15 min) 23:45 .. 06-11 00:00. Starts on
  // 06-11: 00:00, 00:15, 00:45, 01:00, 01:15, 01:30, 02:00 -> ends 00:15 .. 02:15.
  meterDays: [
    {
      meter_id: 'm-1',
      enterprise_id: 'ent-1',
      day: '2023-06-10',
      first_end: '2023-06-10 23:45',
      last_end: '2023-06-11 00:00',
    },
    {
      meter_id: 'm-1',
      enterprise_id: 'ent-1',
      day: '2023-06-11',
      first_end: '2023-06-11 00:15',
      last_end: '2023-06-11 02:15',
    },
  ],
  // The last value per interval: 23:45 read 20 then corrected to 25; 01:30 read 7 then 7.25.
  electricity: (
    [
      ['2023-06-10 23:30', '10'],
      ['2023-06-10 23:45', '25'],
      ['2023-06-11 00:00', '30'],
      ['2023-06-11 00:15', '40.5'],
      ['2023-06-11 00:45', '4'],
      ['2023-06-11 01:00', '5'],
      ['2023-06-11 01:15', '6'],
      ['2023-06-11 01:30', '7.25'],
      ['2023-06-11 02:00', '8'],
    ] as const
  ).map(([interval_start, kwh]) => ({
    meter_id: 'm-1',
    enterprise_id: 'ent-1',
    role: 'grid_import',
    interval_start,
    kwh,
  })),
  commodityHours: (
    [
      // 10 + 20 = 30 (2 measured); correction + (25 - 20) = 5, one measured becomes edited.
      ['2023-06-10 23:00', '35', 1, 0, 1],
      // 30 + 40.5 = 70.5 (2 measured); 00:45 + 4 (1 measured).
      ['2023-06-11 00:00', '74.5', 3, 0, 0],
      // 01:00 5 + 01:15 6 + 01:30 7 = 18 (3 measured); correction + (7.25 - 7) = 0.25, one
      // measured becomes edited.
      ['2023-06-11 01:00', '18.25', 2, 0, 1],
      ['2023-06-11 02:00', '8', 1, 0, 0],
    ] as const
  ).map(([hour_start, quantity, measured, estimated, edited]) => ({
    enterprise_id: 'ent-1',
    commodity: 'electricity',
    role: 'grid_import',
    unit: 'kWh',
    hour_start,
    quantity,
    measured,
    estimated,
    edited,
  })),
  // Gap [01:00, 02:00): 01:00 arrived before the GapDetected (not counted); after it 00:45 is
  // before the gap, 01:15 and 01:30 inside (2), 02:00 at its end (outside); the correction of
  // 01:30 replaces a value, no new interval. filled = 2.
  gaps: [
    {
      meter_id: 'm-1',
      enterprise_id: 'ent-1',
      gap_start: '2023-06-11 01:00',
      gap_end: '2023-06-11 02:00',
      missing_intervals: 4,
      filled: 2,
    },
  ],
  soc: [],
};

function publishHours(prefix: string, enterpriseId: string, hours: HourChange[]) {
  return publish(
    emissionsTopic(prefix),
    enterpriseId,
    'park.carbon.v1.HourlyEmissionsAccounted',
    hourlyEmissionsPayload(enterpriseId, hours),
  );
}

/** EmissionsRestated: the consumers add `change` (before and after are carbon's record). */
function publishRestatement(prefix: string, enterpriseId: string, hours: HourChange[]) {
  return publish(
    emissionsTopic(prefix),
    enterpriseId,
    'park.carbon.v1.EmissionsRestated',
    emissionsRestatedPayload(enterpriseId, hours),
  );
}

/**
 * ent-1's accounting of 02:00Z and 03:00Z, a restatement of 02:00Z, the accounting again (same
 * event id), [an undecodable record], a correction's delta for 02:00Z, ent-2's 02:00Z. 5
 * records, 6 with the bad one.
 */
async function publishEmissionsGroup(
  prefix: string,
  withBad: boolean,
): Promise<string | undefined> {
  const e1 = await publishHours(prefix, 'ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      change: {
        electricityKwh: '1000',
        gridKwh: '400',
        renewableKwh: '600',
        scope2LocationKgco2e: '232.1',
      },
      internal: { electricityKwh: '100' },
    },
    { hourStart: '2023-06-10T03:00:00Z', change: { electricityKwh: '500' } },
  ]);
  await publishRestatement(prefix, 'ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      change: { scope2LocationKgco2e: '7.4', scope2MarketKgco2e: '5' },
    },
  ]);
  await again(e1);
  const bad = withBad
    ? await publish(
        emissionsTopic(prefix),
        'ent-1',
        'park.carbon.v1.HourlyEmissionsAccounted',
        UNDECODABLE,
      )
    : undefined;
  await publishHours(prefix, 'ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      change: { electricityKwh: '-30', gridKwh: '-30', scope2LocationKgco2e: '-17.4' },
    },
  ]);
  await publishHours(prefix, 'ent-2', [
    { hourStart: '2023-06-10T02:00:00Z', change: { electricityKwh: '12.345' } },
  ]);
  return bad;
}

function hourRow(enterprise_id: string, hour_start: string, values: Record<string, string>) {
  const row: Record<string, string> = { enterprise_id, hour_start };
  for (const c of FIGURE_COLUMNS) {
    row[c] = values[c] ?? '0';
    row[`internal_${c}`] = values[`internal_${c}`] ?? '0';
  }
  return row;
}

const expectedEmissions = [
  // 1000 - 30 = 970 kWh; grid 400 - 30 = 370; location 232.1 + 7.4 - 17.4 = 222.1 kg; market 5
  // (the restatement); internal 100 once (the accounting's duplicate is not applied).
  hourRow('ent-1', '2023-06-10 02:00', {
    electricity_kwh: '970',
    grid_kwh: '370',
    renewable_kwh: '600',
    scope2_location_kgco2e: '222.1',
    scope2_market_kgco2e: '5',
    internal_electricity_kwh: '100',
  }),
  hourRow('ent-1', '2023-06-10 03:00', { electricity_kwh: '500' }),
  hourRow('ent-2', '2023-06-10 02:00', { electricity_kwh: '12.345' }),
];

describe('a group of records applied together', () => {
  it('gives the rows computed by hand, each event id applied once', async () => {
    await publishActivityGroup(prefixes.good, false);
    await publishEmissionsGroup(prefixes.good, false);
    const activity = observed(activityProjection);
    const emissions = observed(emissionsProjection);
    const [a, e] = await Promise.all([
      feed(activity.projection, 1, prefixes.good, 7),
      feed(emissions.projection, 1, prefixes.good, 5),
    ]);
    // One group each: 7 records, the duplicate left out -> 6 applied together; 5 - 1 = 4.
    expect(activity.groups).toEqual([6]);
    expect(emissions.groups).toEqual([4]);
    expect([a.runner.applied, a.runner.skipped]).toEqual([6, 1]);
    expect([e.runner.applied, e.runner.skipped]).toEqual([4, 1]);
    expect(a.errors).toEqual([]);
    expect(e.errors).toEqual([]);
    expect(await appliedIds(a.schema)).toBe(6);
    expect(await appliedIds(e.schema)).toBe(4);

    expect(await activityTables(a.schema)).toEqual(expectedActivity);
    expect(await emissionsRows(e.schema)).toEqual(expectedEmissions);
  });

  it('with an undecodable record: the others are applied one by one, the bad one is rejected', async () => {
    const badReading = await publishActivityGroup(prefixes.bad, true);
    const badEmissions = await publishEmissionsGroup(prefixes.bad, true);
    const activity = observed(activityProjection);
    const emissions = observed(emissionsProjection);
    const [a, e] = await Promise.all([
      feed(activity.projection, 2, prefixes.bad, 8),
      feed(emissions.projection, 2, prefixes.bad, 6),
    ]);
    // applyMany tried the group once (8 - 1 duplicate = 7; 6 - 1 = 5) and gave it up; every
    // fresh record counts as applied, the rejected one included (the runner is done with it).
    expect(activity.groups).toEqual([7]);
    expect(emissions.groups).toEqual([5]);
    expect([a.runner.applied, a.runner.skipped]).toEqual([7, 1]);
    expect([e.runner.applied, e.runner.skipped]).toEqual([5, 1]);
    // The bad record (offset 3 in both topics) is reported once and rejected; nothing retried.
    expect(a.errors.map((error) => error.id)).toEqual([badReading]);
    expect(e.errors.map((error) => error.id)).toEqual([badEmissions]);
    for (const [schema, id] of [
      [a.schema, badReading],
      [e.schema, badEmissions],
    ] as const) {
      const rows = await rejected(schema);
      expect(rows.map((row) => [row.message_id, row.kafka_offset])).toEqual([[id, '3']]);
      expect(rows[0]!.reason).toMatch(/^undecodable park\.(metering|carbon)\.v1\.\w+ payload/);
    }
    expect(await appliedIds(a.schema)).toBe(7);
    expect(await appliedIds(e.schema)).toBe(5);

    // The others as without the bad record.
    expect(await activityTables(a.schema)).toEqual(expectedActivity);
    expect(await emissionsRows(e.schema)).toEqual(expectedEmissions);
  });
});

// --- The same tables as record by record, on a longer random stream -------------------------

/** mulberry32: the same stream on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const INTERVAL_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;

/**
 * 420 readings-topic records of six meters (kWh, MWh, PV, state of charge, gas, and a meter
 * that moves between two enterprises) over 12 hours across UTC midnight: readings, estimates,
 * corrections, gaps (some reported again with the same start) and duplicated event ids.
 */
async function publishReadingsStream(prefix: string, random: () => number): Promise<number> {
  const metering = meteringStandIn(publish, {
    registry: `${prefix}unused`,
    readings: readingsTopic(prefix),
  });
  const meters: (() => MeterSpec)[] = [
    () => meterSpec('q-grid', 'ent-1', 'grid'),
    () => meterSpec('q-mwh', 'ent-1', 'grid', { unit: Unit.UNIT_MWH }),
    () => meterSpec('q-pv', 'ent-2', 'pv'),
    () => meterSpec('q-soc', 'ent-2', 'soc'),
    () => meterSpec('q-gas', 'ent-1', 'gas'),
    () => meterSpec('q-moved', random() < 0.5 ? 'ent-3' : 'ent-4', 'grid'),
  ];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const t0 = Date.parse('2023-06-10T20:00:00Z');
  const at = (index: number) => new Date(t0 + index * INTERVAL_MS).toISOString();
  const value = () => (random() * 100).toFixed(Math.floor(random() * 4));
  const consecutive = () => {
    const first = Math.floor(random() * 44);
    const count = 1 + Math.floor(random() * 4);
    return Array.from({ length: count }, (_, k): [string, string] => [at(first + k), value()]);
  };
  const ids: string[] = [];
  for (let r = 0; r < 420; r++) {
    const meter = pick(meters)();
    const kind = random();
    if (kind < 0.5) ids.push(await metering.publishReadings(meter, consecutive()));
    else if (kind < 0.62) ids.push(await metering.publishEstimates(meter, consecutive()));
    else if (kind < 0.78) {
      const start = at(Math.floor(random() * 48));
      ids.push(await metering.publishCorrection(meter, start, value(), value()));
    } else if (kind < 0.92) {
      const first = 4 * Math.floor(random() * 11);
      const length = 2 + Math.floor(random() * 7);
      ids.push(
        await metering.publishGap(meter, {
          start: at(first),
          end: at(first + length),
          missingIntervals: length,
        }),
      );
    } else if (ids.length > 0) {
      await again(pick(ids));
    } else {
      ids.push(await metering.publishReadings(meter, consecutive()));
    }
  }
  return 420;
}

/** 300 emissions records of three enterprises over 12 hours, a fifth restatements, with
 * duplicated event ids. */
async function publishEmissionsStream(prefix: string, random: () => number): Promise<number> {
  const t0 = Date.parse('2023-06-10T18:00:00Z');
  const figureKeys: (keyof park.carbon.v1.Figures)[] = [
    'energyKgce',
    'electricityKwh',
    'gridKwh',
    'renewableKwh',
    'carbonFreeKwh',
    'scope1Kgco2e',
    'scope2LocationKgco2e',
    'scope2MarketKgco2e',
  ];
  const some = (): FigureValues =>
    Object.fromEntries(
      figureKeys
        .filter(() => random() < 0.5)
        .map((key) => [key, ((random() - 0.3) * 1_000).toFixed(Math.floor(random() * 5))]),
    );
  const ids: string[] = [];
  for (let r = 0; r < 300; r++) {
    const enterprise = `ent-${1 + Math.floor(random() * 3)}`;
    const first = Math.floor(random() * 10);
    const hours = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, k) => ({
      hourStart: new Date(t0 + (first + k) * HOUR_MS).toISOString(),
      change: some(),
      internal: random() < 0.3 ? some() : {},
    }));
    const kind = random();
    if (kind < 0.72) ids.push(await publishHours(prefix, enterprise, hours));
    else if (kind < 0.92) ids.push(await publishRestatement(prefix, enterprise, hours));
    else if (ids.length > 0) await again(ids[Math.floor(random() * ids.length)]!);
    else ids.push(await publishHours(prefix, enterprise, hours));
  }
  return 300;
}

/** Every row of the version's tables as PostgreSQL prints it (numeric scales included). */
async function tableRows(schema: string, tables: string[]): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of tables) {
    const { rows } = await db.pool.query<{ row: string }>(
      `SELECT t::text AS row FROM ${schema}.${table} t ORDER BY 1`,
    );
    result[table] = rows.map((row) => row.row);
  }
  return result;
}

const BASE_TABLES = ['checkpoints', 'applied_events', 'rejected_events'];

it('a longer stream in groups of up to 200 gives the tables record-by-record application gives', async () => {
  const random = seeded(20230610);
  const readings = await publishReadingsStream(prefixes.same, random);
  const hours = await publishEmissionsStream(prefixes.same, random);
  const activity = observed(activityProjection);
  const emissions = observed(emissionsProjection);
  const [grouped, single, groupedEmissions, singleEmissions] = await Promise.all([
    feed(activity.projection, 3, prefixes.same, readings),
    feed(recordByRecord(activityProjection), 4, prefixes.same, readings),
    feed(emissions.projection, 3, prefixes.same, hours),
    feed(recordByRecord(emissionsProjection), 4, prefixes.same, hours),
  ]);
  // At least three groups (420 records, at most 200 a group) went through applyMany.
  expect(activity.groups.length).toBeGreaterThanOrEqual(3);
  expect(emissions.groups.length).toBeGreaterThanOrEqual(2);
  expect(activity.groups.reduce((sum, n) => sum + n, 0)).toBe(grouped.runner.applied);
  expect(emissions.groups.reduce((sum, n) => sum + n, 0)).toBe(groupedEmissions.runner.applied);
  for (const { runner, errors } of [grouped, single, groupedEmissions, singleEmissions])
    expect([runner.schema, errors]).toEqual([runner.schema, []]);
  expect([grouped.runner.applied, grouped.runner.skipped]).toEqual([
    single.runner.applied,
    single.runner.skipped,
  ]);
  expect([groupedEmissions.runner.applied, groupedEmissions.runner.skipped]).toEqual([
    singleEmissions.runner.applied,
    singleEmissions.runner.skipped,
  ]);
  // Some duplicates were skipped.
  expect(grouped.runner.skipped).toBeGreaterThan(0);
  expect(groupedEmissions.runner.skipped).toBeGreaterThan(0);

  const activityNames = ['meter_days', 'electricity', 'soc', 'commodity_hours', 'gaps'];
  const expected = await tableRows(single.schema, [...activityNames, ...BASE_TABLES]);
  expect(await tableRows(grouped.schema, [...activityNames, ...BASE_TABLES])).toEqual(expected);
  const expectedHours = await tableRows(singleEmissions.schema, [
    'enterprise_hours',
    ...BASE_TABLES,
  ]);
  expect(await tableRows(groupedEmissions.schema, ['enterprise_hours', ...BASE_TABLES])).toEqual(
    expectedHours,
  );

  // The stream exercised what the comparison is about: values replaced within a group, gaps
  // filled, both meters' days of the moved meter, MWh scaled, state of charge kept.
  const { rows } = await db.pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM ${grouped.schema}.gaps WHERE filled > 0) AS filled_gaps,
            (SELECT count(*)::int FROM ${grouped.schema}.soc) AS soc,
            (SELECT count(*)::int FROM ${grouped.schema}.electricity WHERE meter_id = 'q-mwh') AS mwh,
            (SELECT count(DISTINCT enterprise_id)::int FROM ${grouped.schema}.electricity
               WHERE meter_id = 'q-moved') AS moved_enterprises,
            (SELECT count(*)::int FROM ${grouped.schema}.commodity_hours WHERE edited <> 0) AS edited`,
  );
  expect(rows[0]!.filled_gaps).toBeGreaterThan(0);
  expect(rows[0]!.soc).toBeGreaterThan(0);
  expect(rows[0]!.mwh).toBeGreaterThan(0);
  expect(rows[0]!.moved_enterprises).toBe(2);
  expect(rows[0]!.edited).toBeGreaterThan(0);
});
