import type * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { CE } from '@park/messaging';
import { eventually, meterSpec, readTopic, unary } from '@park/testing';
import { reportingProjections } from '../server';
import { startReportingHarness, type ReportingHarness } from '../test-support/harness';
import {
  download,
  exportReport,
  FORMAT,
  getParkKpis,
  KIND,
  publishAllocation,
  publishEnterpriseFlagged,
  publishAcknowledgement,
  publishPlan,
  publishRestatement,
  publishSetpoint,
} from '../test-support/reporting-events';
import { schemaOf } from './projection';
import { ProjectionRunner } from './runner';

/**
 * Blue-green rebuild of every projection from offset 0, with a reading correction and an
 * emissions restatement in the streams: the statements after the switch are byte for byte the
 * ones before, the old versions' schemas are gone, and redelivered events (the same event id
 * published again, the same records consumed again after the rebuild) change nothing.
 */

jest.setTimeout(180_000);

const PARK = 'p1';
const CHINESE_NAME = '沈阳华晨铝业有限公司';
const grid1 = meterSpec('m-1g', 'ent-1', 'grid');
const grid2 = meterSpec('m-2g', 'ent-2', 'grid');
const PROJECTIONS = ['registry', 'activity', 'emissions', 'plans', 'allocations', 'setpoints'];

let h: ReportingHarness;
let operator: grpc.Metadata;
/** Event ids of the records whose second application would change figures. */
const ids = {
  enterprise: '',
  hourH2: '',
  restatement: '',
  correction: '',
  allocation: '',
  plan: '',
  setpoint: '',
};

/** Publishes a record of the topic again: the same key, payload and headers (its event id). */
async function redeliver(topic: string, id: string): Promise<void> {
  const record = (await readTopic(h.kafka, topic)).find((r) => r.headers[CE.id] === id);
  if (!record) throw new Error(`no record ${id} on ${topic}`);
  await h.publish(topic, record.key ?? '', record.headers[CE.type]!, record.value!, id);
}

interface Reports {
  statementCsv: Buffer;
  statementPdf: Buffer;
  statementHttp: Buffer;
  otherStatementCsv: Buffer;
  parkCsv: Buffer;
  parkPdf: Buffer;
  kpis: park.reporting.v1.GetParkKpisResponse;
  planVsActual: park.reporting.v1.GetPlanVsActualResponse;
  /** The dashboard's views of the same data (its JSON API). */
  dashboard: Buffer;
}

async function reports(): Promise<Reports> {
  const statement = { kind: KIND.statement, subjectId: 'ent-1', month: '2023-06' };
  const parkReport = { kind: KIND.park, subjectId: PARK, month: '2023-06' };
  const service = await h.bearer('service');
  const own = await h.bearer('enterprise', 'ent-1');
  const http = await download(h, '/v1/reports/enterprises/ent-1/statements/2023-06.csv', own);
  expect(http.status).toBe(200);
  return {
    statementCsv: (await exportReport(h, operator, { ...statement, format: FORMAT.csv })).bytes,
    statementPdf: (await exportReport(h, own, { ...statement, format: FORMAT.pdf })).bytes,
    statementHttp: http.bytes,
    otherStatementCsv: (
      await exportReport(h, operator, { ...statement, subjectId: 'ent-2', format: FORMAT.csv })
    ).bytes,
    parkCsv: (await exportReport(h, service, { ...parkReport, format: FORMAT.csv })).bytes,
    parkPdf: (await exportReport(h, operator, { ...parkReport, format: FORMAT.pdf })).bytes,
    kpis: await getParkKpis(h, operator, PARK, 'month', '2023-06'),
    planVsActual: await unary<park.reporting.v1.GetPlanVsActualResponse>((done) =>
      h.client.getPlanVsActual({ parkId: PARK, day: '2023-06-10' }, operator, done),
    ),
    dashboard: Buffer.concat(
      await Promise.all(
        [
          `/v1/dashboard/parks/${PARK}/balance?day=2023-06-10`,
          `/v1/dashboard/parks/${PARK}/dispatch?day=2023-06-10`,
          `/v1/dashboard/parks/${PARK}/quality?day=2023-06-10`,
          '/v1/dashboard/enterprises/ent-1?month=2023-06',
        ].map(async (path) => {
          const answer = await download(h, path, operator);
          expect([path, answer.status]).toEqual([path, 200]);
          return answer.bytes;
        }),
      ),
    ),
  };
}

function expectSameReports(after: Reports, before: Reports): void {
  for (const key of Object.keys(before) as (keyof Reports)[]) {
    const [a, b] = [after[key], before[key]];
    if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) {
      // Buffer equality first: a readable diff of the text when it fails.
      if (!a.equals(b)) expect([key, a.toString('latin1')]).toEqual([key, b.toString('latin1')]);
    } else {
      expect([key, a]).toEqual([key, b]);
    }
  }
}

async function schemasOfReporting(): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rp\\_%' ORDER BY nspname`,
  );
  return rows.map((row) => row.nspname);
}

async function topicRecords(topic: string): Promise<number> {
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

let before: Reports;

beforeAll(async () => {
  h = await startReportingHarness('rebuild');
  operator = await h.bearer('operator');
  await h.publishPark(PARK);
  ids.enterprise = await publishEnterpriseFlagged(h, {
    enterpriseId: 'ent-1',
    parkId: PARK,
    name: CHINESE_NAME,
    energyUsing: true,
  });
  await publishEnterpriseFlagged(h, {
    enterpriseId: 'ent-2',
    parkId: PARK,
    name: 'Dalian Harbour Logistics',
    energyUsing: true,
  });
  await h.publishMeter(grid1);
  await h.publishMeter(grid2);
  await h.publishReadings(grid1, [
    ['2023-06-10T02:00:00Z', '100'],
    ['2023-06-10T02:15:00Z', '120'],
  ]);
  // The 02:15Z reading corrected from 120 to 90 kWh, and carbon's delta for it (below).
  ids.correction = await h.publishCorrection(grid1, '2023-06-10T02:15:00Z', '120', '90');
  await h.publishReadings(grid2, [['2023-06-30T15:00:00Z', '50']]);

  // ent-1, hour 2023-06-10T02:00Z as first accounted (kWh, kgce, kgCO2e).
  await h.publishHours('ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      change: {
        electricityKwh: '1000',
        gridKwh: '400',
        renewableKwh: '600',
        carbonFreeKwh: '500',
        energyKgce: '200',
        scope1Kgco2e: '10',
        scope2LocationKgco2e: '232',
        scope2MarketKgco2e: '200',
      },
    },
  ]);
  // The correction's delta: -30 kWh of grid electricity, -30 x 0.1229 = -3.687 kgce,
  // -30 x 0.58 = -17.4 kg location-based, -15 kg market-based.
  await h.publishHours('ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      change: {
        electricityKwh: '-30',
        gridKwh: '-30',
        energyKgce: '-3.687',
        scope2LocationKgco2e: '-17.4',
        scope2MarketKgco2e: '-15',
      },
    },
  ]);
  // A new factor version restates the hour: location 214.6 -> 222 (370 kWh x 0.6), market 185 -> 190.
  ids.restatement = await publishRestatement(h, 'ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      before: { scope2LocationKgco2e: '214.6', scope2MarketKgco2e: '185' },
      after: { scope2LocationKgco2e: '222', scope2MarketKgco2e: '190' },
      change: { scope2LocationKgco2e: '7.4', scope2MarketKgco2e: '5' },
    },
  ]);
  ids.hourH2 = await h.publishHours('ent-1', [
    {
      hourStart: '2023-06-20T03:00:00Z',
      change: {
        electricityKwh: '1030',
        renewableKwh: '1030',
        carbonFreeKwh: '1030',
        energyKgce: '53.687',
      },
    },
  ]);
  await h.publishHours('ent-2', [
    {
      hourStart: '2023-06-30T15:00:00Z',
      change: {
        electricityKwh: '100',
        gridKwh: '100',
        energyKgce: '12.29',
        scope2LocationKgco2e: '58',
        scope2MarketKgco2e: '60',
      },
    },
  ]);
  ids.allocation = await publishAllocation(h, {
    parkId: PARK,
    lineId: 'L1',
    enterpriseId: 'ent-1',
    intervalStart: '2023-06-10T02:00:00Z',
    allocatedKwh: '300',
    lineMeteredKwh: '400',
    lineExportedKwh: '50',
    revision: 1,
  });
  ids.plan = await publishPlan(h, {
    planId: 'plan-0610',
    parkId: PARK,
    day: '2023-06-10',
    issuedAt: '2023-06-09T12:00:00Z',
    kind: 'day_ahead',
    intervals: [
      { start: '2023-06-10T02:00:00Z', importKw: 400, emissionsKg: 58, renewableShare: 0.5 },
      { start: '2023-06-10T02:15:00Z', importKw: 480, emissionsKg: 70, renewableShare: 0.5 },
    ],
  });
  ids.setpoint = await publishSetpoint(h, {
    setpointId: 'sp-0610-1',
    assetId: 'bat-1',
    planId: 'plan-0610',
    powerKw: -80,
    validFrom: '2023-06-10T02:00:00Z',
    validUntil: '2023-06-10T02:15:00Z',
  });
  await publishAcknowledgement(h, {
    setpointId: 'sp-0610-1',
    assetId: 'bat-1',
    acknowledgedAt: '2023-06-10T02:01:00Z',
  });
  await h.server.projections.caughtUp(60_000);
  before = await reports();
});
afterAll(() => h?.stop());

it('the statement shows the corrected and restated figures (by hand)', () => {
  // ent-1 in June: electricity 1000 - 30 + 1030 = 2000 kWh; energy 200 - 3.687 + 53.687 = 250 kgce
  // = 0.25 tce; Scope 1 10 kg; Scope 2 location 232 - 17.4 + 7.4 = 222 kg, market 200 - 15 + 5 =
  // 190 kg; CO2 per tce (10 + 190) / 250 = 0.8; renewable (600 + 1030) / 2000 = 81.5 %; hourly
  // carbon-free: min(500, 970) + min(1030, 1030) = 1530 of 2000 = 76.5 %.
  const csv = before.statementCsv.toString('utf8');
  expect(csv.startsWith('\uFEFF')).toBe(true);
  expect(csv).toContain(`Enterprise,${CHINESE_NAME},,,\r\n`);
  for (const line of [
    'Electricity consumed,2000.000,kWh,,',
    'Comprehensive energy consumption,0.250000,tce,,',
    'Scope 1 emissions,0.010000,tCO2e,,',
    'Scope 2 emissions (location-based),0.222000,tCO2e,,',
    'Scope 2 emissions (market-based),0.190000,tCO2e,,',
    'CO2 per tce,0.800000,tCO2/tce,,',
    'Renewable electricity share,81.50,%,,',
    'Hourly carbon-free energy score,76.50,%,,',
  ])
    expect(csv).toContain(`\r\n${line}\r\n`);
  // The same bytes through the HTTP download, with the enterprise's own token.
  expect(before.statementHttp.equals(before.statementCsv)).toBe(true);
  expect(before.statementPdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(before.parkPdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
});

it('an event published again with the same id changes nothing', async () => {
  await redeliver(h.topics.emissions, ids.hourH2);
  await redeliver(h.topics.emissions, ids.restatement);
  await redeliver(h.topics.readings, ids.correction);
  await redeliver(h.topics.allocations, ids.allocation);
  // caughtUp: every version's checkpoint is past the duplicates, so they were read and skipped.
  await h.server.projections.caughtUp(60_000);
  expectSameReports(await reports(), before);
  const { rows } = await h.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${schemaOf('emissions', 1)}.applied_events`,
  );
  // 5 emissions records applied (H1, its correction, the restatement, H2, ent-2's hour) of 7 read.
  expect(rows[0]!.n).toBe(5);
  expect(await topicRecords(h.topics.emissions)).toBe(7);
});

it('RebuildProjection (all): every projection switches to version 2, the statements are byte-identical', async () => {
  expect(await schemasOfReporting()).toEqual(PROJECTIONS.map((name) => schemaOf(name, 1)).sort());
  const started = await unary<park.reporting.v1.RebuildProjectionResponse>((done) =>
    h.client.rebuildProjection({ name: '' }, operator, done),
  );
  // Each is building version 2, or (a small topic) already switched to it by the time all started.
  expect(
    started.projections.map((p) => [p.name, p.buildingVersion === 2 || p.activeVersion === 2]),
  ).toEqual(PROJECTIONS.map((name) => [name, true]));

  const switched = await eventually(async () => {
    const { projections } = await unary<park.reporting.v1.ListProjectionsResponse>((done) =>
      h.client.listProjections({}, operator, done),
    );
    const pending = projections.filter((p) => p.activeVersion !== 2 || p.buildingVersion !== 0);
    if (pending.length > 0) throw new Error(`not switched yet: ${JSON.stringify(pending)}`);
    return projections;
  }, 90_000);
  expect(switched.map((p) => [p.name, p.activeVersion, p.buildingVersion])).toEqual(
    PROJECTIONS.map((name) => [name, 2, 0]),
  );
  for (const projection of switched) expect(projection.switchedAt).toBeInstanceOf(Date);

  expectSameReports(await reports(), before);

  // The old versions' schemas are dropped once their consumers stopped (right after the switch);
  // the new ones serve; the old versions are retired.
  await eventually(async () =>
    expect(await schemasOfReporting()).toEqual(PROJECTIONS.map((name) => schemaOf(name, 2)).sort()),
  );
  const { rows: versions } = await h.db.pool.query<{ projection: string; statuses: string }>(
    `SELECT projection, string_agg(version || ':' || status, ',' ORDER BY version) AS statuses
     FROM projection_versions GROUP BY projection ORDER BY projection`,
  );
  expect(versions).toEqual(
    [...PROJECTIONS].sort().map((projection) => ({ projection, statuses: '1:retired,2:active' })),
  );

  // Version 2 read every record from offset 0 and applied each event id once: registry 5 (park,
  // 2 enterprises, 2 meters), activity 3 of 4 (the correction twice), emissions 5 of 7, plans 1,
  // allocations 1 of 2, setpoints 2 (a setpoint and its acknowledgement); nothing rejected.
  const applied: Record<string, number> = {};
  for (const name of PROJECTIONS) {
    const { rows } = await h.db.pool.query<{ applied: number; rejected: number }>(
      `SELECT (SELECT count(*)::int FROM ${schemaOf(name, 2)}.applied_events) AS applied,
              (SELECT count(*)::int FROM ${schemaOf(name, 2)}.rejected_events) AS rejected`,
    );
    expect(rows[0]!.rejected).toBe(0);
    applied[name] = rows[0]!.applied;
  }
  expect(applied).toEqual({
    registry: 5,
    activity: 3,
    emissions: 5,
    plans: 1,
    allocations: 1,
    setpoints: 2,
  });

  // Version 2 is live: an event published again now on each of its topics is read by it (its
  // checkpoints reach the topics' ends) and changes nothing.
  await redeliver(h.topics.registry, ids.enterprise);
  await redeliver(h.topics.readings, ids.correction);
  await redeliver(h.topics.emissions, ids.restatement);
  await redeliver(h.topics.plans, ids.plan);
  await redeliver(h.topics.allocations, ids.allocation);
  await redeliver(h.topics.setpoints, ids.setpoint);
  await h.server.projections.caughtUp(60_000);
  expectSameReports(await reports(), before);
});

it('the same records consumed again after the rebuild change nothing', async () => {
  // Stop the service's consumers, drop version 2's consumer groups (their committed offsets) and
  // feed the version again from offset 0: every record is below the version's checkpoint, so
  // none is applied a second time.
  await h.server.projections.stop();
  const runners = reportingProjections.map(
    (projection) =>
      new ProjectionRunner({
        kafka: h.kafka,
        pool: h.db.pool,
        projection,
        version: 2,
        prefix: h.prefix,
      }),
  );
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    await eventually(() => admin.deleteGroups(runners.map((runner) => runner.groupId)));
    let total = 0;
    for (const runner of runners)
      for (const topic of runner.topics()) total += await topicRecords(topic);
    // 6 registry + 5 readings + 8 emissions + 2 plans + 3 allocations + 3 setpoint records (the
    // setpoint twice, its acknowledgement) on the topics.
    expect(total).toBe(27);
    for (const runner of runners) await runner.start();
    await eventually(() => {
      const read = runners.reduce((sum, runner) => sum + runner.applied + runner.skipped, 0);
      if (read < total) throw new Error(`${read} of ${total} records read again`);
    }, 60_000);
    expect(runners.map((runner) => [runner.schema, runner.applied, runner.skipped])).toEqual([
      [schemaOf('registry', 2), 0, 6],
      [schemaOf('activity', 2), 0, 5],
      [schemaOf('emissions', 2), 0, 8],
      [schemaOf('plans', 2), 0, 2],
      [schemaOf('allocations', 2), 0, 3],
      [schemaOf('setpoints', 2), 0, 3],
    ]);
    expectSameReports(await reports(), before);
  } finally {
    await Promise.all(runners.map((runner) => runner.stop()));
    await admin.disconnect();
  }
});
