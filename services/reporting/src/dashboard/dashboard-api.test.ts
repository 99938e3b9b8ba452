import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { Dec, decimalText, startOfLocalDayAfter } from '@park/domain-primitives';
import {
  BATTERY,
  CARBON_DATA,
  carbonCertificates,
  CORRECTED,
  GAP,
  hourFigures,
  INTERVALS,
  METERS,
  PARK,
  PLANNED_BATTERY,
  plannedImportKw,
  plannedLoadKw,
  seedDashboardPark,
  TZ,
  VALUES,
  type Seed,
} from '../test-support/dashboard-seed';
import { startReportingHarness, type ReportingHarness } from '../test-support/harness';
import { getParkKpis, kpiTable } from '../test-support/reporting-events';
import {
  startCarbonStandIn,
  startDispatchStandIn,
  type StandIn,
} from '../test-support/upstream-stand-ins';
import type {
  Balance,
  CarbonData,
  DispatchView,
  EnterpriseView,
  Overview,
  QualityView,
  Ranking,
  SessionInfo,
} from './contract';

/**
 * The dashboard's JSON API on the seeded park (test-support/dashboard-seed.ts), against figures
 * worked out from the seed's formulas here, and against GetParkKpis; what an enterprise token
 * sees (the whole matrix of routes x callers is in api/grpc-access.test.ts); the live-update
 * stream; the page's routes without a bundle.
 */

jest.setTimeout(120_000);

let h: ReportingHarness;
let carbon: StandIn;
let dispatch: StandIn;
let seed: Seed;
let operator: grpc.Metadata;
let pagesDir: string;

const bearer = (md: grpc.Metadata | undefined) => String(md?.get('authorization')[0] ?? '');

async function get<T>(
  path: string,
  md: grpc.Metadata | undefined,
): Promise<{ status: number; body: T; type: string }> {
  const response = await fetch(`${h.httpUrl}${path}`, {
    headers: md ? { authorization: bearer(md) } : {},
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (await response.json()) as T,
  };
}

async function ok<T>(path: string, md: grpc.Metadata = operator): Promise<T> {
  const answer = await get<T>(path, md);
  if (answer.status !== 200)
    throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

beforeAll(async () => {
  carbon = await startCarbonStandIn({
    ...CARBON_DATA,
    certificates: carbonCertificates(startOfLocalDayAfter(Date.now(), -1, TZ)),
  });
  dispatch = await startDispatchStandIn([
    {
      batteryId: BATTERY.batteryId,
      energyKwh: String(BATTERY.energyKwh),
      socMeterId: BATTERY.socMeterId,
    },
  ]);
  pagesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-unbuilt-'));
  h = await startReportingHarness(
    'dashboard_api',
    {
      REPORTING_CARBON_GRPC_ADDRESS: carbon.address,
      REPORTING_DISPATCH_GRPC_ADDRESS: dispatch.address,
    },
    { dashboardDir: pagesDir },
  );
  operator = await h.bearer('operator');
  seed = await seedDashboardPark(h);
});
afterAll(async () => {
  await h?.stop();
  await carbon?.stop();
  await dispatch?.stop();
  fs.rmSync(pagesDir, { recursive: true, force: true });
});

const sum = (values: (number | null)[]) => values.reduce<number>((s, v) => s + (v ?? 0), 0);

describe('park-wide views', () => {
  it('overview: the KPIs are GetParkKpis for the same period, and match the seed by hand', async () => {
    const month = seed.day.slice(0, 7);
    const overview = await ok<Overview>(
      `/v1/dashboard/parks/${PARK}/overview?granularity=month&period=${month}`,
    );
    const rpc = kpiTable(await getParkKpis(h, operator, PARK, 'month', month));
    const api = Object.fromEntries(
      overview.kpis.map(({ name, value, unit, target, comparison, status }) => [
        name,
        {
          ...(value !== undefined ? { value } : {}),
          unit,
          ...(target !== undefined ? { target } : {}),
          comparison: comparison ?? '',
          status,
        },
      ]),
    );
    expect(api).toEqual(rpc);

    // The seeded day is all the month holds. Electricity: e-a 12,230 (grid, interval 10
    // corrected 150 -> 140) + 5,280 (direct line) + 800 (PV) = 18,310 kWh; e-b 6,750 (grid, 6
    // intervals of 450 kWh never arrived) + 3,360 (wind) = 10,110 kWh; renewable 9,440 of 28,420.
    expect(sum(VALUES.aGrid)).toBe(12_230);
    expect(sum(VALUES.bGrid)).toBe(6_750);
    expect(api.renewable_electricity_share!.value).toBe(decimalText(new Dec(9_440).div(28_420)));
    // Energy 28,420 x 0.1229 + 1,920 Nm3 x 1.32836 = 6,043.2692 kgce; CO2 (market) 1,920 x 2.162
    // + 18,980 x 0.6096 = 15,721.248 kg: 2.60 tCO2/tce, above the 0.2 threshold.
    expect(api.co2_per_tce).toMatchObject({
      value: decimalText(new Dec('15721.248').div('6043.2692')),
      target: '0.2',
      status: 'not_met',
    });
    // e-a and e-b reported within 24 h; e-c (energy-using) did not; e-op is not energy-using.
    expect(api.platform_coverage).toMatchObject({
      value: decimalText(new Dec(2).div(3)),
      status: 'not_met',
    });
    const day = overview.trend.find((p) => p.day === seed.day)!;
    expect(day).toEqual({
      day: seed.day,
      renewableShare: 9_440 / 28_420,
      co2PerTce: Number(decimalText(new Dec('15721.248').div('6043.2692'))),
      coverage: Number(decimalText(new Dec(2).div(3))),
    });
  });

  it('balance: metered supply per interval in kW (4 x kWh), the plan in force overlaid', async () => {
    const balance = await ok<Balance>(`/v1/dashboard/parks/${PARK}/balance?day=${seed.day}`);
    expect(balance.planId).toBe('plan-id');
    expect(balance.intervals).toHaveLength(INTERVALS);
    const expected = Array.from({ length: INTERVALS }, (_, i) => ({
      start: seed.at(i),
      gridImportKw: 4 * (VALUES.aGrid[i]! + (VALUES.bGrid[i] ?? 0)),
      directLineKw: 4 * VALUES.aDl[i]!,
      pvKw: 4 * VALUES.aPv[i]!,
      windKw: 4 * VALUES.bWind[i]!,
      storageKw: 4 * (VALUES.discharge[i]! - VALUES.charge[i]!),
      // The day-ahead plan before 12:00, the intraday one (+50 kW) from interval 48 on.
      plannedImportKw: plannedImportKw(i),
      plannedLoadKw: plannedLoadKw(i),
    }));
    expect(balance.intervals).toEqual(expected);
    // a-grid's corrected 140 kWh and b-grid's 50 + 4 x 10 = 90 kWh.
    expect(balance.intervals[CORRECTED.interval]!.gridImportKw).toBe(4 * (140 + 90));
  });

  it('ranking: by CO2 per tce, the enterprise without data last', async () => {
    const ranking = await ok<Ranking>(
      `/v1/dashboard/parks/${PARK}/ranking?month=${seed.day.slice(0, 7)}`,
    );
    // e-a (4,151.04 + 12,230 x 0.6096) / (18,310 x 0.1229 + 2,550.4512) = 2.42; e-b 6,750 x
    // 0.6096 / (10,110 x 0.1229) = 3.31; e-c nothing.
    expect(ranking.entries.map((e) => [e.rank, e.enterpriseId, e.intensity])).toEqual([
      [1, 'e-a', decimalText(new Dec('11606.448').div('4800.7502'))],
      [2, 'e-b', decimalText(new Dec('4114.8').div('1242.519'))],
      [3, 'e-c', undefined],
    ]);
  });

  it('dispatch: plan in force, metered import, bat-1 power, setpoints and SOC, violations', async () => {
    const view = await ok<DispatchView>(`/v1/dashboard/parks/${PARK}/dispatch?day=${seed.day}`);
    expect(view.topology).toBe(true);
    expect(view.starts).toEqual(Array.from({ length: INTERVALS }, (_, i) => seed.at(i)));
    expect(view.plannedImportKw).toEqual(view.starts.map((_, i) => plannedImportKw(i)));
    expect(view.actualImportKw).toEqual(
      view.starts.map((_, i) => 4 * (VALUES.aGrid[i]! + (VALUES.bGrid[i] ?? 0))),
    );
    const [battery] = view.batteries;
    expect(view.batteries).toHaveLength(1);
    expect(battery).toEqual({
      batteryId: 'bat-1',
      energyKwh: 1000,
      socMeterId: 'soc-1',
      powerKw: PLANNED_BATTERY.map((b) => b.dischargeKw - b.chargeKw),
      socKwh: PLANNED_BATTERY.map((b) => b.socKwh),
      socPercent: PLANNED_BATTERY.map((b) => (b.socKwh / 1000) * 100),
      meteredSocPercent: VALUES.soc,
      setpointKw: view.starts.map((_, i) =>
        i >= 8 && i < 24 ? -100 : i >= 72 && i < 88 ? 120 : i >= 88 ? 0 : null,
      ),
    });
    expect(view.setpoints.map((s) => [s.setpointId, s.status, s.safeMode])).toEqual([
      ['sp-1', 'acknowledged', undefined],
      ['sp-2', 'expired', 'idle'],
      ['sp-3', 'issued', undefined],
    ]);
    expect(view.plans.map((p) => [p.planId, p.kind, p.violations.length])).toEqual([
      ['plan-da', 'day_ahead', 2],
      ['plan-id', 'intraday', 0],
    ]);
    expect(view.plans[0]!.violations).toEqual([
      {
        name: 'unserved_load_t080',
        constraint: 'load not served at interval 80',
        start: seed.at(80),
        assetId: '',
        sizeKwh: 12.5,
      },
      {
        name: 'soc_end_bat-1',
        constraint: 'end-of-horizon SOC below the starting SOC',
        assetId: 'bat-1',
        sizeKwh: 40,
      },
    ]);
    // Dispatch's topology was asked with the operator's own token.
    expect(dispatch.received.at(-1)).toBe(bearer(operator));
  });

  it('data quality: shares of expected intervals, the open gap, the silent meter', async () => {
    const view = await ok<QualityView>(`/v1/dashboard/parks/${PARK}/quality?day=${seed.day}`);
    // Ten meters x 96 intervals expected (e-c's from its first reading three days before on).
    // a-grid 95 measured + 1 edited (the correction), a-gas 92 + 4 estimated, b-grid 90 of 96
    // (6 of the gap's 8 never arrived), c-grid nothing; the other six 96 measured each.
    expect(view.totals).toMatchObject({
      expected: 960,
      measured: 95 + 96 + 96 + 92 + 90 + 96 + 3 * 96,
      edited: 1,
      estimated: 4,
      missing: 6 + 96,
    });
    expect(
      view.enterprises.map((r) => [
        r.enterpriseId,
        r.expected,
        r.measured,
        r.edited,
        r.estimated,
        r.missing,
      ]),
    ).toEqual([
      ['e-a', 384, 379, 1, 4, 0],
      ['e-b', 192, 186, 0, 0, 6],
      ['e-c', 96, 0, 0, 0, 96],
      ['e-op', 288, 288, 0, 0, 0],
    ]);
    expect(view.trend.at(-1)).toEqual({
      day: seed.day,
      estimatedShare: 4 / 960,
      missingShare: 102 / 960,
    });
    // The day before: only e-c's meter was expected (from its reading on), and sent nothing.
    expect(view.trend.at(-2)).toMatchObject({ estimatedShare: 0, missingShare: 1 });
    expect(view.gaps).toEqual([
      {
        meterId: 'b-grid',
        enterpriseId: 'e-b',
        start: seed.at(GAP.from),
        end: seed.at(GAP.to),
        missingIntervals: 8,
        arrived: 2,
      },
    ]);
    expect(view.silent.map((m) => [m.meterId, m.lastEnd])).toEqual([
      [
        'c-grid',
        new Date(seed.dayStart - 3 * 86_400_000 + 2 * 3_600_000 + 15 * 60_000).toISOString(),
      ],
    ]);
  });
});

describe('enterprise views', () => {
  it('series by commodity, footprint by scope (both Scope 2 methods), hourly CFE score', async () => {
    const month = seed.day.slice(0, 7);
    const view = await ok<EnterpriseView>(`/v1/dashboard/enterprises/e-a?month=${month}`);
    const d = view.days.indexOf(seed.day);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(
      view.series.map((s) => [s.commodity, s.role, s.unit, s.values[d], sum(s.values)]),
    ).toEqual([
      ['electricity', 'green_direct_line', 'kWh', 5_280, 5_280],
      ['electricity', 'grid_import', 'kWh', 12_230, 12_230],
      ['electricity', 'onsite_pv', 'kWh', 800, 800],
      ['natural_gas', 'grid_import', 'Nm3', 1_920, 1_920],
    ]);
    // Scope 1 1,920 Nm3 x 2.162 = 4,151.04 kg; Scope 2 12,230 kWh x 0.5122 = 6,264.206 kg
    // (location), x 0.6096 = 7,455.408 kg (market).
    expect(view.footprint.totals).toEqual({
      scope1: '4.15104',
      scope2Location: '6.264206',
      scope2Market: '7.455408',
    });
    expect(view.footprint.scope2Market[d]).toBe(7.455408);
    expect(view.heat[d]).toEqual(
      Array.from({ length: 24 }, (_, hour) => {
        const f = hourFigures('e-a', hour);
        return Number(new Dec(f.carbonFreeKwh).div(f.electricityKwh));
      }),
    );
    expect(view.installations).toEqual([{ installationId: 'inst-a', name: 'Alpha smelter' }]);
    expect(view.statement.find((row) => row.label === 'Electricity consumed')).toEqual({
      label: 'Electricity consumed',
      value: '18310.000',
      unit: 'kWh',
    });
  });

  it("certificates and CBAM come from carbon, asked with the caller's own token", async () => {
    const own = await h.bearer('enterprise', 'e-a');
    const before = carbon.received.length;
    const data = await ok<CarbonData>(
      `/v1/dashboard/enterprises/e-a/carbon?month=${seed.day.slice(0, 7)}`,
      own,
    );
    expect(data.available).toBe(true);
    expect(data.certificates).toMatchObject({
      certificateKwh: '2000',
      renewableShare: '0.55',
      coverage: [{ quantityKwh: '2000', serials: ['GEC-0001', 'GEC-0002'] }],
    });
    expect(data.cbam).toEqual([
      {
        installationId: 'inst-a',
        name: 'Alpha smelter',
        data: expect.objectContaining({
          installationId: 'inst-a',
          // Carbon's CbamData as JSON: decimals as { value } messages.
          goods: [expect.objectContaining({ cnCode: '7601 10 00', totalSee: { value: '1.7' } })],
        }),
      },
    ]);
    const calls = carbon.received.slice(before);
    expect(calls.length).toBe(3);
    expect(new Set(calls)).toEqual(new Set([bearer(own)]));
  });

  it('says so when carbon does not answer, instead of failing', async () => {
    await carbon.stop();
    try {
      const data = await ok<CarbonData>(
        `/v1/dashboard/enterprises/e-a/carbon?month=${seed.day.slice(0, 7)}`,
      );
      expect(data).toMatchObject({
        available: false,
        reason: expect.stringMatching(/^carbon did not answer/),
      });
    } finally {
      carbon = await startCarbonStandIn({
        ...CARBON_DATA,
        certificates: carbonCertificates(seed.dayStart),
      });
    }
  });
});

describe('who may call what', () => {
  it('an enterprise token sees its own enterprise and park only', async () => {
    const own = await h.bearer('enterprise', 'e-a');
    const session = await ok<SessionInfo>('/v1/dashboard/session', own);
    expect(session).toMatchObject({
      role: 'enterprise',
      enterpriseId: 'e-a',
      parkViews: false,
      enterprises: [{ enterpriseId: 'e-a', parkId: PARK }],
      parks: [{ parkId: PARK, timeZone: 'Asia/Shanghai' }],
    });
    const other = await get<{ detail: string }>('/v1/dashboard/enterprises/e-b', own);
    expect(other.status).toBe(403);
    expect(other.body.detail).toMatch(/e-a cannot access enterprise e-b/);
  });
});

describe('live updates', () => {
  it('the event stream says when the projections moved', async () => {
    const controller = new AbortController();
    const response = await fetch(`${h.httpUrl}/v1/dashboard/events`, {
      headers: { authorization: bearer(operator) },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const positions = async (count: number) => {
      for (;;) {
        const found = [...text.matchAll(/event: projections\ndata: (.*)\n\n/g)].map(
          (m) => (JSON.parse(m[1]!) as { position: string }).position,
        );
        if (found.length >= count) return found;
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended after: ${text}`);
        text += value;
      }
    };
    try {
      const [first] = await positions(1);
      // A reading of today's first interval: a change every projection of readings applies.
      await h.publishReadings(METERS.aGrid, [[seed.at(INTERVALS), '100']]);
      const [, second] = await positions(2);
      expect(second).not.toBe(first);
    } finally {
      controller.abort();
    }
  });
});

describe('the page', () => {
  it('says how to build it when the bundle is missing; the API works all the same', async () => {
    const page = await fetch(`${h.httpUrl}/dashboard/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/The dashboard is not built[\s\S]*npm run build/);
    expect(
      (await fetch(`${h.httpUrl}/dashboard`, { redirect: 'manual' })).headers.get('location'),
    ).toBe('/dashboard/');
    const config = await fetch(`${h.httpUrl}/dashboard/config.json`);
    expect(await config.json()).toEqual({ devSignIn: false });
    // Development sign-in is off: nothing mints a token.
    const mint = await fetch(`${h.httpUrl}/dashboard/dev/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'operator' }),
    });
    expect(mint.status).toBe(404);
    expect((await ok<SessionInfo>('/v1/dashboard/session')).role).toBe('operator');
  });
});
