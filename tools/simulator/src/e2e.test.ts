// End to end: the four services started as `npm start` starts them (each a process of its own,
// from source), isolated on fresh databases and a topic prefix of their own; the simulator
// registers a small park and streams two past days of readings; then what reporting, carbon,
// dispatch and metering say is checked against sums the test computes itself from the values the
// simulator sent and the published factors; then everything is stopped and started again and
// must say the same.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { signDevelopmentToken, type AuthSettings } from '@park/service-kit';
import {
  bearerMetadata,
  createTestDatabase,
  eventually,
  exitOf,
  nextMessage,
  readTopic,
  spawnTsChild,
  testInfrastructure,
  testKafka,
  unary,
  type TestDatabase,
} from '@park/testing';
import {
  canonical,
  electricity,
  exact,
  FACTORS,
  KIND_FIELD,
  scope1,
  scope2Location,
  scope2Market,
  text,
  zero,
  type Sums,
} from './carbon-arithmetic';
import { buildPark, type SimPark } from './park-model';
import { INTERVAL_MS, intervalValues } from './profiles';
import { registerPark, streamReadings, type RunSummary } from './simulator';

const SERVICES = ['metering', 'carbon', 'dispatch', 'reporting'] as const;
type Service = (typeof SERVICES)[number];

const REPO = path.resolve(__dirname, '..', '..', '..');
const SECRET = 'simulator-e2e-test-secret-of-32-chars!!';
const AUTH: AuthSettings = { secret: SECRET, issuer: 'park-dev', audience: 'park' };
const PREFIX = `test.e2e.${randomBytes(4).toString('hex')}.`;
const DAY_MS = 86_400_000;
const TZ_OFFSET_MS = 8 * 3_600_000;
/** Park-local midnight three days ago: two whole simulated days, all of them in the past. */
const TODAY = Math.floor((Date.now() + TZ_OFFSET_MS) / DAY_MS) * DAY_MS - TZ_OFFSET_MS;
const START = TODAY - 3 * DAY_MS;
const DAYS = 2;
const END = START + DAYS * DAY_MS;

// ---- what the test sent, summed by itself ----

const localDay = (instant: number) => new Date(instant + TZ_OFFSET_MS).toISOString().slice(0, 10);

interface Expected {
  /** Per enterprise, over the whole run. */
  enterprises: Map<string, Sums>;
  /** Per enterprise and park-local month (YYYY-MM). */
  months: Map<string, Map<string, Sums>>;
  /** The park per park-local day. */
  days: Map<string, Sums>;
  /** Grid import of the park per interval start (ISO). */
  gridByInterval: Map<string, bigint>;
  /** The wind line's metered energy. */
  lineKwh: bigint;
}

/**
 * Sums of the readings the simulator sends, from its own interval values rounded as it sends
 * them (3 decimals): every reading reaches metering once, late ones included; duplicates change
 * nothing; no gaps were asked for.
 */
function expectedSums(sim: SimPark): Expected {
  const expected: Expected = {
    enterprises: new Map(),
    months: new Map(),
    days: new Map(),
    gridByInterval: new Map(),
    lineKwh: 0n,
  };
  const lineMeter = sim.plants.find((p) => p.plantId === sim.line.plantId)!.meterId;
  for (let at = START; at < END; at += INTERVAL_MS) {
    const { values } = intervalValues(sim, at, new Map());
    const day = localDay(at);
    const month = day.slice(0, 7);
    let grid = 0n;
    for (const meter of sim.meters) {
      const value = values.get(meter.meterId);
      if (value === undefined) continue;
      const units = exact(value.toFixed(3));
      if (meter.meterId === lineMeter) expected.lineKwh += units;
      if (!(meter.kind in KIND_FIELD)) continue;
      const field = KIND_FIELD[meter.kind as keyof typeof KIND_FIELD];
      const byMonth = expected.months.get(meter.enterpriseId) ?? new Map<string, Sums>();
      expected.months.set(meter.enterpriseId, byMonth);
      for (const sums of [
        expected.enterprises.get(meter.enterpriseId) ??
          expected.enterprises.set(meter.enterpriseId, zero()).get(meter.enterpriseId)!,
        byMonth.get(month) ?? byMonth.set(month, zero()).get(month)!,
        expected.days.get(day) ?? expected.days.set(day, zero()).get(day)!,
      ]) {
        sums[field] += units;
      }
      if (meter.kind === 'grid') grid += units;
    }
    expected.gridByInterval.set(new Date(at).toISOString(), grid);
  }
  return expected;
}

// ---- the services as processes ----

interface Running {
  child: ChildProcess;
  grpcPort: number;
  httpPort: number;
}

let databases: Record<Service, TestDatabase> | undefined;
const running = new Map<Service, Running>();
const unexpectedExits: string[] = [];

/**
 * Redis holds caches and locks keyed by meter, battery and park ids, which `npm start` and other
 * tests' simulated parks share: a logical database of this test's own keeps them apart.
 */
const REDIS_DB = 12;

function serviceEnv(service: Service): Record<string, string> {
  const infra = testInfrastructure();
  const carbon = running.get('carbon');
  const redis = new URL(infra.redisUrl);
  redis.pathname = `/${REDIS_DB}`;
  return {
    SERVICE_NAME: service,
    DATABASE_URL: databases![service].url,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: redis.toString(),
    JWT_SECRET: SECRET,
    JWT_ISSUER: 'park-dev',
    JWT_AUDIENCE: 'park',
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'error',
    SHUTDOWN_TIMEOUT_MS: '20000',
    REPORTING_CARBON_GRPC_ADDRESS: carbon ? `127.0.0.1:${carbon.grpcPort}` : '',
    METERING_TOPIC_PREFIX: PREFIX,
    CARBON_TOPIC_PREFIX: PREFIX,
    DISPATCH_TOPIC_PREFIX: PREFIX,
    REPORTING_TOPIC_PREFIX: PREFIX,
    // No scheduler-made plans for tomorrow: the test plans the day it checks itself.
    DISPATCH_TICK_MS: '0',
  };
}

/** Every child started, running or not, so that afterAll leaves none behind. */
const spawned = new Set<ChildProcess>();

async function startService(service: Service, phase: string): Promise<void> {
  const began = Date.now();
  const child = spawnTsChild(
    path.join(REPO, 'services', service, 'src', 'main.ts'),
    serviceEnv(service),
  );
  spawned.add(child);
  const serving = await nextMessage<{ type: string; grpcPort: number; httpPort: number }>(
    child,
    90_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${service} did not start: ${(error as Error).message}`);
  });
  expect(serving.type).toBe('serving');
  timings[`${phase} ${service}`] = (Date.now() - began) / 1000;
  running.set(service, { child, grpcPort: serving.grpcPort, httpPort: serving.httpPort });
  child.once('exit', (code, signal) => {
    if (running.get(service)?.child === child) {
      unexpectedExits.push(`${service} exited (${signal ?? `code ${code}`})`);
    }
  });
}

/** Reporting last: it is told carbon's (ephemeral) gRPC port. */
async function startAll(phase: string): Promise<void> {
  const others = (['metering', 'dispatch'] as const).map((s) => startService(s, phase));
  const carbon = await Promise.allSettled([startService('carbon', phase)]);
  const all = await Promise.allSettled([
    ...others,
    ...(carbon[0]!.status === 'fulfilled' ? [startService('reporting', phase)] : []),
  ]);
  const failed = [...carbon, ...all].find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** SIGTERM to every service, as Ctrl-C on `npm start` does; each must leave cleanly. */
async function stopAll(): Promise<
  { service: Service; code: number | null; signal: string | null }[]
> {
  const stopping = [...running].map(([service, { child }]) => {
    running.delete(service);
    child.kill('SIGTERM');
    return Promise.race([
      exitOf(child).then(({ code, signal }) => ({
        service,
        code,
        signal: signal as string | null,
      })),
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${service} did not stop within 40 s of SIGTERM`));
        }, 40_000).unref(),
      ),
    ]);
  });
  return Promise.all(stopping);
}

async function readyz(service: Service): Promise<{ service: Service; status: number }> {
  const url = `http://127.0.0.1:${running.get(service)!.httpPort}/readyz`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { service, status: response.status };
}

const address = (service: Service) => `127.0.0.1:${running.get(service)!.grpcPort}`;
const insecure = grpc.credentials.createInsecure();
const deadline = () => ({ deadline: Date.now() + 60_000 });

function clients() {
  return {
    metering: new park.metering.v1.MeteringServiceClient(address('metering'), insecure),
    carbon: new park.carbon.v1.CarbonServiceClient(address('carbon'), insecure),
    dispatch: new park.dispatch.v1.DispatchServiceClient(address('dispatch'), insecure),
    reporting: new park.reporting.v1.ReportingServiceClient(address('reporting'), insecure),
    close() {
      this.metering.close();
      this.carbon.close();
      this.dispatch.close();
      this.reporting.close();
    },
  };
}

// ---- the run ----

const sim = buildPark({ seed: 42, enterprises: 8, parkId: `park-e2e-${PREFIX.split('.')[2]}` });
const expected = expectedSums(sim);
const day1 = localDay(START);
const months = [...new Set([localDay(START), localDay(END - 1)].map((d) => d.slice(0, 7)))];
const period = (from: number, to: number) => ({ start: new Date(from), end: new Date(to) });
let operator: grpc.Metadata;
let firstFigures: Figures | undefined;
const timings: Record<string, number> = {};

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const began = Date.now();
  try {
    return await work();
  } finally {
    timings[label] = (Date.now() - began) / 1000;
  }
}

beforeAll(async () => {
  await timed('databases', async () => {
    const created = await Promise.all(
      SERVICES.map((service) => createTestDatabase(`e2e_${service}`, { poolSize: 2 })),
    );
    databases = Object.fromEntries(SERVICES.map((s, i) => [s, created[i]!])) as Record<
      Service,
      TestDatabase
    >;
  });
  operator = await bearerMetadata(AUTH, 'operator');
  await timed('start', () => startAll('start'));
}, 120_000);

afterAll(async () => {
  running.clear();
  const alive = [...spawned].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of alive) child.kill('SIGKILL');
  await Promise.all(alive.map((child) => exitOf(child)));
  await Promise.all(Object.values(databases ?? {}).map((db) => db.drop().catch(() => undefined)));
  const admin = testKafka('simulator-e2e-cleanup').admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(PREFIX));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(PREFIX));
    if (ours.length > 0) await admin.deleteGroups(ours).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  console.log(`e2e timings (s): ${JSON.stringify(timings)}`);
}, 60_000);

/** Everything the services say about the run, in comparable form. */
interface Figures {
  statements: Record<string, park.reporting.v1.GetEnterpriseStatementResponse>;
  footprints: Record<string, park.carbon.v1.Footprint>;
  series: Record<string, { day: string; value: string; measured: number; estimated: number }[]>;
  balances: Record<string, park.carbon.v1.ParkBalance>;
  kpis: Record<string, Record<string, string | undefined>>;
  /** Reporting's emissions projection summed over the park and the run (its active version). */
  projection: Record<string, string>;
  /** Reporting's direct-line projection over the run: the line's metered energy, allocations. */
  reportingLine: { metered: string; allocated: Record<string, string> };
  plan: { planId: string; status: string; intervals: number };
  planVsActual: { planId: string; actual: Record<string, string | undefined> };
  ratios: park.dispatch.v1.GetDirectLineRatiosResponse;
}

async function collect(): Promise<Figures> {
  const c = clients();
  try {
    const statements: Figures['statements'] = {};
    const footprints: Figures['footprints'] = {};
    const series: Figures['series'] = {};
    for (const enterprise of sim.enterprises) {
      for (const month of months) {
        statements[`${enterprise.enterpriseId}|${month}`] = await unary((done) =>
          c.reporting.getEnterpriseStatement(
            { enterpriseId: enterprise.enterpriseId, month },
            operator,
            deadline(),
            done,
          ),
        );
      }
      const { footprint } = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
        c.carbon.getEnterpriseFootprint(
          { enterpriseId: enterprise.enterpriseId, period: period(START, END) },
          operator,
          deadline(),
          done,
        ),
      );
      footprints[enterprise.enterpriseId] = footprint!;
    }
    for (const meter of sim.meters.filter((m) => m.kind in KIND_FIELD)) {
      const response = await unary<park.metering.v1.GetSeriesResponse>((done) =>
        c.metering.getSeries(
          {
            meterId: meter.meterId,
            enterpriseId: '',
            commodity: park.metering.v1.Commodity.COMMODITY_UNSPECIFIED,
            role: park.metering.v1.MeterRole.METER_ROLE_UNSPECIFIED,
            resolution: park.metering.v1.Resolution.RESOLUTION_DAY,
            range: period(START, END),
          },
          operator,
          deadline(),
          done,
        ),
      );
      series[meter.meterId] = response.points.map((p) => ({
        day: localDay(p.start!.getTime()),
        value: canonical(p.value?.value),
        measured: p.measuredIntervals,
        estimated: p.estimatedIntervals,
      }));
    }
    const balances: Figures['balances'] = {};
    const kpis: Figures['kpis'] = {};
    const days = [...expected.days.keys()];
    for (const [label, from, to] of [
      ['run', START, END] as const,
      ...days.map((day, i) => [day, START + i * DAY_MS, START + (i + 1) * DAY_MS] as const),
    ]) {
      const { balance } = await unary<park.carbon.v1.GetParkBalanceResponse>((done) =>
        c.carbon.getParkBalance(
          { parkId: sim.parkId, period: period(from, to) },
          operator,
          deadline(),
          done,
        ),
      );
      balances[label] = balance!;
    }
    const kpisOf = async (granularity: park.reporting.v1.Granularity, label: string) => {
      const response = await unary<park.reporting.v1.GetParkKpisResponse>((done) =>
        c.reporting.getParkKpis(
          { parkId: sim.parkId, granularity, period: label },
          operator,
          deadline(),
          done,
        ),
      );
      return Object.fromEntries(response.kpis.map((k) => [k.name, k.value?.value]));
    };
    for (const day of days) {
      kpis[day] = await kpisOf(park.reporting.v1.Granularity.GRANULARITY_DAY, day);
    }
    for (const month of months) {
      // Platform coverage of a month runs to now (the last 24 h): only the month's sums here.
      const { co2_per_tce, renewable_electricity_share } = await kpisOf(
        park.reporting.v1.Granularity.GRANULARITY_MONTH,
        month,
      );
      kpis[month] = { co2_per_tce, renewable_electricity_share };
    }
    // The emissions projection's own sums, read where reporting keeps them.
    const reporting = databases!.reporting.pool;
    const activeSchema = async (projection: string) => {
      const { rows } = await reporting.query<{ version: number }>(
        `SELECT version FROM projection_versions WHERE projection = $1 AND status = 'active'`,
        [projection],
      );
      return `rp_${projection}_v${rows[0]!.version}`;
    };
    const schema = await activeSchema('emissions');
    const columns = [
      'electricity_kwh',
      'scope1_kgco2e',
      'scope2_location_kgco2e',
      'scope2_market_kgco2e',
    ];
    const { rows: sums } = await reporting.query<Record<string, string>>(
      `SELECT ${columns
        .flatMap((c) => [
          `coalesce(sum(${c}), 0)::text AS ${c}`,
          `coalesce(sum(internal_${c}), 0)::text AS internal_${c}`,
        ])
        .join(', ')}
       FROM ${schema}.enterprise_hours WHERE hour_start >= $1 AND hour_start < $2`,
      [new Date(START).toISOString(), new Date(END).toISOString()],
    );
    const projection = Object.fromEntries(
      Object.entries(sums[0]!).map(([column, value]) => [column, canonical(value)]),
    );
    // The direct-line KPIs come from the latest allocation revision reporting has taken in.
    const allocations = await activeSchema('allocations');
    const range = [new Date(START).toISOString(), new Date(END).toISOString()];
    const { rows: metered } = await reporting.query<{ metered: string }>(
      `SELECT coalesce(sum(metered_kwh), 0)::text AS metered FROM ${allocations}.line_intervals
       WHERE interval_start >= $1 AND interval_start < $2`,
      range,
    );
    const { rows: allocated } = await reporting.query<{ enterprise_id: string; kwh: string }>(
      `SELECT enterprise_id, sum(allocated_kwh)::text AS kwh FROM ${allocations}.line_allocations
       WHERE interval_start >= $1 AND interval_start < $2 GROUP BY enterprise_id ORDER BY enterprise_id`,
      range,
    );
    const reportingLine = {
      metered: canonical(metered[0]!.metered),
      allocated: Object.fromEntries(allocated.map((r) => [r.enterprise_id, canonical(r.kwh)])),
    };
    const { plan } = await unary<park.dispatch.v1.GetPlanResponse>((done) =>
      c.dispatch.getPlan({ parkId: sim.parkId, day: day1, planId: '' }, operator, deadline(), done),
    );
    const planVsActual = await unary<park.reporting.v1.GetPlanVsActualResponse>((done) =>
      c.reporting.getPlanVsActual({ parkId: sim.parkId, day: day1 }, operator, deadline(), done),
    );
    const ratios = await unary<park.dispatch.v1.GetDirectLineRatiosResponse>((done) =>
      c.dispatch.getDirectLineRatios(
        { parkId: sim.parkId, lineId: sim.line.lineId, from: new Date(START), to: new Date(END) },
        operator,
        deadline(),
        done,
      ),
    );
    return {
      statements,
      footprints,
      series,
      balances,
      kpis,
      projection,
      reportingLine,
      plan: { planId: plan!.planId, status: plan!.status, intervals: plan!.intervals.length },
      planVsActual: {
        planId: planVsActual.planId,
        actual: Object.fromEntries(
          planVsActual.intervals.map((i) => [
            i.start!.toISOString(),
            i.actualImportKwh && canonical(i.actualImportKwh.value),
          ]),
        ),
      },
      ratios,
    };
  } finally {
    c.close();
  }
}

const row = (statement: park.reporting.v1.GetEnterpriseStatementResponse, label: string) =>
  statement.rows.find((r) => r.label === label)?.value;

/** Asserts the figures against the test's own sums (throws on the first difference). */
function checkFigures(f: Figures): void {
  // Metering: every sent value, measured, nothing estimated.
  for (const meter of sim.meters.filter((m) => m.kind in KIND_FIELD)) {
    const points = f.series[meter.meterId]!;
    expect({
      meter: meter.meterId,
      days: points.map((p) => [p.day, p.measured, p.estimated]),
    }).toEqual({ meter: meter.meterId, days: [...expected.days.keys()].map((d) => [d, 96, 0]) });
    const field = KIND_FIELD[meter.kind as keyof typeof KIND_FIELD];
    const total = points.reduce((sum, p) => sum + exact(p.value), 0n);
    // The meter's own total: the enterprise's sums split by meter kind, one meter per kind.
    expect({ meter: meter.meterId, total: text(total) }).toEqual({
      meter: meter.meterId,
      total: text(expected.enterprises.get(meter.enterpriseId)![field]),
    });
  }
  for (const enterprise of sim.enterprises) {
    const id = enterprise.enterpriseId;
    const sums = expected.enterprises.get(id)!;
    // Reporting: electricity (grid + direct line + on-site PV) per month, to the Wh as sent.
    for (const [month, monthSums] of expected.months.get(id)!) {
      const statement = f.statements[`${id}|${month}`]!;
      expect({ id, month, kwh: row(statement, 'Electricity consumed') }).toEqual({
        id,
        month,
        kwh: text(electricity(monthSums), 3),
      });
      // t with 6 decimals: kg rounded half-even to the gram.
      expect({
        id,
        scope1: row(statement, 'Scope 1 emissions'),
        location: row(statement, 'Scope 2 emissions (location-based)'),
        market: row(statement, 'Scope 2 emissions (market-based)'),
      }).toEqual({
        id,
        scope1: text(scope1(monthSums) / 1000n, 6),
        location: text(scope2Location(monthSums) / 1000n, 6),
        market: text(scope2Market(monthSums) / 1000n, 6),
      });
    }
    // Carbon's ledger: the exact sums of the same readings times the factors.
    const footprint = f.footprints[id]!;
    expect({
      id,
      energy: Object.fromEntries(
        footprint.energy.map((e) => [`${e.commodity} ${e.unit}`, canonical(e.quantity?.value)]),
      ),
    }).toEqual({
      id,
      energy: {
        'electricity kWh': text(electricity(sums)),
        ...(enterprise.gas ? { 'natural_gas Nm3': text(sums.gas) } : {}),
        ...(enterprise.heat ? { 'heat GJ': text(sums.heat) } : {}),
      },
    });
    expect({
      id,
      electricity: canonical(footprint.figures?.electricityKwh?.value),
      grid: canonical(footprint.figures?.gridKwh?.value),
      renewable: canonical(footprint.figures?.renewableKwh?.value),
      scope1: canonical(footprint.scope1Kgco2e?.value),
      location: canonical(footprint.scope2LocationKgco2e?.value),
      market: canonical(footprint.scope2MarketKgco2e?.value),
    }).toEqual({
      id,
      electricity: text(electricity(sums)),
      grid: text(sums.grid),
      renewable: text(sums.directLine + sums.pv),
      scope1: text(scope1(sums)),
      location: text(scope2Location(sums)),
      market: text(scope2Market(sums)),
    });
  }
  // The park: carbon's balance is the sum of the ledgers and the test's computation; reporting's
  // CO2 per tce is the same quotient of the same sums.
  const sumOf = (pick: (s: Sums) => bigint, day?: string) =>
    day
      ? pick(expected.days.get(day)!)
      : [...expected.enterprises.values()].reduce((t, s) => t + pick(s), 0n);
  const ledgers = (pick: (fp: park.carbon.v1.Footprint) => string | undefined) =>
    Object.values(f.footprints).reduce((t, fp) => t + exact(pick(fp) ?? '0'), 0n);
  for (const [label, balance] of Object.entries(f.balances)) {
    const day = label === 'run' ? undefined : label;
    expect({
      label,
      scope1: canonical(balance.scope1Kgco2e?.value),
      location: canonical(balance.scope2LocationKgco2e?.value),
      market: canonical(balance.scope2MarketKgco2e?.value),
    }).toEqual({
      label,
      scope1: text(sumOf(scope1, day)),
      location: text(sumOf(scope2Location, day)),
      market: text(sumOf(scope2Market, day)),
    });
    // No internal-transfer meters in the simulated park: nothing to take out.
    const internal = balance.internalTransfers!;
    expect(Object.values(internal).every((d) => canonical(d?.value) === '0')).toBe(true);
    // Reporting's CO2 per tce and renewable share: the same quotients of the same sums.
    const kpis = day ? [f.kpis[day]!] : months.length === 1 ? [f.kpis[months[0]!]!] : [];
    for (const kpi of kpis) {
      expect({
        label,
        co2PerTce: kpi.co2_per_tce,
        renewable: kpi.renewable_electricity_share,
      }).toEqual({
        label,
        co2PerTce: balance.tco2PerTceMarket?.value,
        renewable: balance.renewableShare?.value,
      });
    }
  }
  // Reporting's own sums of the park's CO2 (and electricity), internal transfers taken out once:
  // none here, the simulated park has no internal-transfer meters.
  expect(f.projection).toEqual({
    electricity_kwh: text(sumOf(electricity)),
    internal_electricity_kwh: '0',
    scope1_kgco2e: text(sumOf(scope1)),
    internal_scope1_kgco2e: '0',
    scope2_location_kgco2e: text(sumOf(scope2Location)),
    internal_scope2_location_kgco2e: '0',
    scope2_market_kgco2e: text(sumOf(scope2Market)),
    internal_scope2_market_kgco2e: '0',
  });
  expect(text(ledgers((fp) => fp.scope1Kgco2e?.value))).toBe(text(sumOf(scope1)));
  expect(text(ledgers((fp) => fp.scope2MarketKgco2e?.value))).toBe(text(sumOf(scope2Market)));
  expect(text(ledgers((fp) => fp.scope2LocationKgco2e?.value))).toBe(text(sumOf(scope2Location)));
  // Dispatch: the plan of the first day, beside what was metered, per interval.
  expect(f.plan.intervals).toBe(96);
  expect(f.planVsActual.planId).toBe(f.plan.planId);
  const actual = Object.fromEntries(
    Array.from({ length: 96 }, (_, i) => {
      const start = new Date(START + i * INTERVAL_MS).toISOString();
      return [start, text(expected.gridByInterval.get(start)!)];
    }),
  );
  expect(f.planVsActual.actual).toEqual(actual);
  // The direct line: every interval allocated, all that the consumers' meters read.
  const directLine = sim.line.consumers.reduce(
    (t, id) => t + expected.enterprises.get(id)!.directLine,
    0n,
  );
  expect({
    intervals: f.ratios.intervals,
    available: canonical(f.ratios.availableGenerationKwh?.value),
    allocated: canonical(f.ratios.allocatedKwh?.value),
  }).toEqual({
    intervals: DAYS * 96,
    available: text(expected.lineKwh),
    allocated: text(directLine),
  });
  expect(directLine).toBeGreaterThan(0n);
  // Reporting took in dispatch's latest allocations: the same line energy and consumers' shares.
  expect(f.reportingLine).toEqual({
    metered: text(expected.lineKwh),
    allocated: Object.fromEntries(
      [...sim.line.consumers]
        .sort()
        .map((id) => [id, text(expected.enterprises.get(id)!.directLine)]),
    ),
  });
}

it('runs two simulated days through the four services; every figure adds up', async () => {
  // 1. Every service is ready.
  for (const service of SERVICES) expect(await readyz(service)).toEqual({ service, status: 200 });

  const token = await signDevelopmentToken(AUTH, {
    role: 'operator',
    subject: 'simulator',
    ttlSeconds: 3_600,
  });
  const targets = {
    metering: address('metering'),
    carbon: address('carbon'),
    dispatch: address('dispatch'),
    token,
  };
  await timed('register', () => registerPark(sim, targets));
  const summary: RunSummary = await timed('stream', () =>
    streamReadings(sim, targets, {
      start: START,
      days: DAYS,
      speed: 1e9,
      anomalies: { gap: 0, late: 0.01, duplicate: 0.01 },
      // A gateway's backlog: 4 hours a batch (the same readings; fewer, larger transactions).
      intervalsPerBatch: 16,
    }),
  );
  expect(summary.intervals).toBe(DAYS * 96);
  expect(summary.gaps).toBe(0);
  expect(summary.late).toBeGreaterThan(0);
  expect(summary.duplicates).toBeGreaterThan(0);
  expect(summary.rejected).toBe(0);
  expect(summary.corrected).toBe(0);

  // 4. A plan for the first day, through dispatch's gRPC API.
  const c = clients();
  try {
    const { plan } = await timed('plan', () =>
      unary<park.dispatch.v1.PlanDayResponse>((done) =>
        c.dispatch.planDay({ parkId: sim.parkId, day: day1 }, operator, deadline(), done),
      ),
    );
    expect(plan?.planId).toBeTruthy();
    expect(plan?.intervals).toHaveLength(96);
  } finally {
    c.close();
  }

  // 2, 3 and 4: once the projections caught up, every figure is the test's own.
  firstFigures = await timed('settle', () =>
    eventually(
      async () => {
        const figures = await collect();
        checkFigures(figures);
        return figures;
      },
      90_000,
      2_000,
    ),
  );

  // 4. Green allocations on dispatch's topic: the latest revision per line, interval and
  // enterprise adds up to what each consumer's direct-line meter read.
  const kafka = testKafka('simulator-e2e');
  const records = await readTopic(kafka, `${PREFIX}park.dispatch.green-allocations.v1`);
  const latest = new Map<string, park.dispatch.v1.GreenPowerAllocated>();
  for (const record of records) {
    const event = park.dispatch.v1.GreenPowerAllocated.decode(record.value!);
    const key = `${event.lineId}|${event.intervalStart!.toISOString()}|${event.enterpriseId}`;
    if ((latest.get(key)?.revision ?? -1n) < event.revision) latest.set(key, event);
  }
  expect(latest.size).toBe(DAYS * 96 * sim.line.consumers.length);
  for (const id of sim.line.consumers) {
    const allocated = [...latest.values()]
      .filter((e) => e.enterpriseId === id)
      .reduce((t, e) => t + exact(e.allocatedKwh!.value), 0n);
    expect({ id, allocated: text(allocated) }).toEqual({
      id,
      allocated: text(expected.enterprises.get(id)!.directLine),
    });
  }

  // 3. The factors hard-coded above are the ones carbon used (its ledger's factor references).
  const ledger = clients();
  try {
    const factorsOf = async (meterId: string, enterpriseId: string) => {
      const { entries } = await unary<park.carbon.v1.GetLedgerEntriesResponse>((done) =>
        ledger.carbon.getLedgerEntries(
          {
            enterpriseId,
            period: period(START, END),
            page: { pageSize: 1, pageToken: '' },
            meterId,
            kind: park.carbon.v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
          },
          operator,
          deadline(),
          done,
        ),
      );
      return Object.fromEntries(
        entries[0]!.factors.map((factor) => [
          factor.key,
          { value: factor.value?.value, set: factor.setId, fallback: factor.fallback },
        ]),
      );
    };
    const withGas = sim.enterprises.find((e) => e.gas)!;
    const withHeat = sim.enterprises.find((e) => e.heat)!;
    expect(await factorsOf(`${withGas.enterpriseId}-grid`, withGas.enterpriseId)).toEqual({
      'grid:northeast': { value: FACTORS.grid, set: 'mee-nbs-grid-2023', fallback: true },
      'residual:national': { value: FACTORS.residual, set: 'mee-nbs-grid-2023', fallback: true },
    });
    expect(await factorsOf(`${withGas.enterpriseId}-gas`, withGas.enterpriseId)).toEqual({
      'fuel:natural_gas': { value: FACTORS.gas, set: 'gbt-fuel-heat-defaults', fallback: false },
    });
    expect(await factorsOf(`${withHeat.enterpriseId}-heat`, withHeat.enterpriseId)).toEqual({
      'heat:purchased': {
        value: String(Number(FACTORS.heat) / 1000),
        set: 'gbt-fuel-heat-defaults',
        fallback: false,
      },
    });
  } finally {
    ledger.close();
  }

  // 5. No dead letters anywhere under the prefix.
  const admin = kafka.admin();
  await admin.connect();
  try {
    const dlqs = (await admin.listTopics()).filter(
      (topic) => topic.startsWith(PREFIX) && topic.endsWith('.dlq'),
    );
    for (const topic of dlqs) {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect({
        topic,
        records: offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0),
      }).toEqual({ topic, records: 0 });
    }
  } finally {
    await admin.disconnect();
  }
  expect(unexpectedExits).toEqual([]);
}, 180_000);

it('keeps every figure across a stop and a start of all four services', async () => {
  expect(firstFigures).toBeDefined();
  const exits = await timed('stop', stopAll);
  expect(exits.map(({ service, code, signal }) => `${service}: ${code ?? signal}`).sort()).toEqual(
    SERVICES.map((service) => `${service}: 0`).sort(),
  );
  // Stopped cleanly: every consumer left its group (a member left behind would hold the next
  // start's join until the group dropped it).
  const admin = testKafka('simulator-e2e-groups').admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(PREFIX));
    expect(ours.length).toBeGreaterThanOrEqual(9);
    const described = await admin.describeGroups(ours);
    expect(described.groups.filter((g) => g.members.length > 0).map((g) => g.groupId)).toEqual([]);
  } finally {
    await admin.disconnect();
  }
  await timed('restart', () => startAll('restart'));
  for (const service of SERVICES) {
    await eventually(
      async () => expect(await readyz(service)).toEqual({ service, status: 200 }),
      30_000,
      250,
    );
  }
  // The simulator registers the same park again on a second `npm start`: that changes nothing.
  const token = await signDevelopmentToken(AUTH, { role: 'operator', subject: 'simulator' });
  await registerPark(sim, {
    metering: address('metering'),
    carbon: address('carbon'),
    dispatch: address('dispatch'),
    token,
  });
  const again = await timed('after restart', async () => {
    // Let consumers that resumed settle, then the same figures, exactly.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    return collect();
  });
  checkFigures(again);
  expect(again).toEqual(firstFigures);
  expect(unexpectedExits).toEqual([]);
}, 120_000);
