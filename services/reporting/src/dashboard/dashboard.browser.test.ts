import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { Dec, decimalText, startOfLocalDayAfter } from '@park/domain-primitives';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import {
  BATTERY,
  CARBON_DATA,
  carbonCertificates,
  METERS,
  PARK,
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
import { buildDashboard } from './bundle';
import type { Balance, DispatchView, EnterpriseView, Overview, QualityView } from './contract';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser is
 * downloaded), the page built from its sources by the same esbuild step as `npm run build`, the
 * reporting service in-process on the seeded park (test-support/dashboard-seed.ts). The test
 * signs in (development sign-in, and a pasted token), checks the KPI tiles against GetParkKpis
 * and the seed's figures, every chart's plotted series (read from ECharts' own state through the
 * page's window.parkDashboard hook) against the JSON API and the seed, that no canvas is blank,
 * that an enterprise user reaches neither another enterprise's page nor its data, and that the
 * page follows new data live. Screenshots of every view go to .work/screenshots/.
 */

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(__dirname, '..', '..', '..', '..', '.work', 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const TABLET = { width: 820, height: 1180 };

/** What the page's script sees, as far as the test reads it (the test project has no DOM types). */
interface PageGlobals {
  parkDashboard: {
    charts(): string[];
    chart(name: string):
      | {
          getOption(): { series: { id?: string; name?: string; data?: unknown[] }[] };
          getDom(): { querySelector(selector: string): Canvas | null };
        }
      | undefined;
  };
  location: { hash: string };
  document: { documentElement: { scrollWidth: number } };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}

let h: ReportingHarness;
let carbon: StandIn;
let dispatch: StandIn;
let seed: Seed;
let operator: grpc.Metadata;
let bundleDir: string;
let profileDir: string;
let context: BrowserContext;
let page: Page;
/** Uncaught errors of the page's script: none is expected. */
const pageErrors: string[] = [];

async function api<T>(path: string, md: grpc.Metadata = operator): Promise<T> {
  const response = await fetch(`${h.httpUrl}${path}`, {
    headers: { authorization: String(md.get('authorization')[0]) },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Opens a route of the page and waits until its view is drawn. */
async function open(hash: string, state = 'ready'): Promise<void> {
  await page.evaluate((target) => {
    (globalThis as unknown as PageGlobals).location.hash = target;
  }, hash);
  await page.waitForSelector(`main[data-route="${hash}"][data-state="${state}"]`, {
    timeout: 30_000,
  });
  expect(pageErrors).toEqual([]);
}

/** A chart's series as ECharts holds them: id -> plotted data. */
async function plotted(name: string): Promise<Record<string, unknown[]>> {
  const series = await page.evaluate((chartName) => {
    const chart = (globalThis as unknown as PageGlobals).parkDashboard.chart(chartName);
    if (!chart) throw new Error(`no chart ${chartName} on the page`);
    return chart.getOption().series.map((s) => [s.id ?? s.name ?? '', s.data ?? []] as const);
  }, name);
  return Object.fromEntries(series);
}

/** Share of a chart's canvas pixels that are painted (not transparent). */
async function painted(name: string): Promise<number> {
  return page.evaluate((chartName) => {
    const chart = (globalThis as unknown as PageGlobals).parkDashboard.chart(chartName);
    const canvas = chart?.getDom().querySelector('canvas');
    const pixels = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    if (!canvas || !pixels) return 0;
    let count = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count++;
    return count / (canvas.width * canvas.height);
  }, name);
}

async function expectDrawn(name: string, atLeast = 0.01): Promise<void> {
  expect([name, (await painted(name)) >= atLeast]).toEqual([name, true]);
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A KPI as its tile shows it (the page's rule: fractions as % to 1 place, else 3 places). */
function tileText(value: string | undefined, unit: string): string {
  if (value === undefined) return unit === 'fraction' ? 'n/a' : `n/a ${unit}`;
  return unit === 'fraction'
    ? `${(Number(value) * 100).toFixed(1)} %`
    : `${Number(value).toFixed(3)} ${unit}`;
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `the browser test drives Debian's Chromium at ${CHROMIUM}, which is missing: apt-get install chromium (.ci/run installs it)`,
    );
  }
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-bundle-'));
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-chromium-'));
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const [built, carbonStandIn, dispatchStandIn] = await Promise.all([
    buildDashboard(bundleDir),
    startCarbonStandIn({
      ...CARBON_DATA,
      certificates: carbonCertificates(startOfLocalDayAfter(Date.now(), -1, TZ)),
    }),
    startDispatchStandIn([
      {
        batteryId: BATTERY.batteryId,
        energyKwh: String(BATTERY.energyKwh),
        socMeterId: BATTERY.socMeterId,
      },
    ]),
  ]);
  expect(built.some((file) => file.endsWith('main.js'))).toBe(true);
  carbon = carbonStandIn;
  dispatch = dispatchStandIn;
  h = await startReportingHarness(
    'dashboard_browser',
    {
      REPORTING_CARBON_GRPC_ADDRESS: carbon.address,
      REPORTING_DISPATCH_GRPC_ADDRESS: dispatch.address,
      REPORTING_DASHBOARD_DEV_SIGN_IN: 'true',
    },
    { dashboardDir: bundleDir },
  );
  operator = await h.bearer('operator');
  seed = await seedDashboardPark(h);
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking switches Chromium keeps reaching for Google's services,
    // which the closed network makes it wait on.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: DESKTOP,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await context?.close();
  await h?.stop();
  await carbon?.stop();
  await dispatch?.stop();
  for (const dir of [bundleDir, profileDir])
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const month = () => seed.day.slice(0, 7);

describe('as an operator', () => {
  it('signs in with the development sign-in', async () => {
    await page.goto(`${h.httpUrl}/dashboard/`);
    await page.waitForSelector('main[data-view="signin"]');
    await page.getByRole('button', { name: 'Sign in as operator' }).waitFor();
    await screenshot('signin-1280x800');
    await page.getByRole('button', { name: 'Sign in as operator' }).click();
    await page.waitForSelector('main[data-view="overview"][data-state="ready"]');
    await expect(page.locator('.principal').textContent()).resolves.toContain('operator');
  });

  it('overview: KPI tiles show GetParkKpis; the balance plots the API and the seed', async () => {
    await open(`#/overview?park=${PARK}&day=${seed.day}&granularity=month`);
    const rpc = kpiTable(await getParkKpis(h, operator, PARK, 'month', month()));
    for (const name of [
      'renewable_electricity_share',
      'co2_per_tce',
      'platform_coverage',
      'co2_per_tce_ytd',
      'clean_energy_share',
    ]) {
      const tile = page.locator(`.tile[data-kpi="${name}"]`);
      const kpi = rpc[name]!;
      expect([name, await tile.getAttribute('data-value')]).toEqual([name, kpi.value ?? '']);
      expect([name, await tile.locator('.tile-value').textContent()]).toEqual([
        name,
        tileText(kpi.value, kpi.unit),
      ]);
    }
    // By hand from the seed: 9,440 of 28,420 kWh renewable (33.2 %, target 90 % not met); 2 of 3
    // energy-using enterprises reporting (66.7 %).
    expect(rpc.renewable_electricity_share!.value).toBe(decimalText(new Dec(9_440).div(28_420)));
    await expect(
      page.locator('.tile[data-kpi="renewable_electricity_share"] .tile-value').textContent(),
    ).resolves.toBe('33.2 %');
    await expect(
      page.locator('.tile[data-kpi="platform_coverage"]').textContent(),
    ).resolves.toMatch(/66\.7 %.*target ≥ 90 %.*target not met/);

    const overview = await api<Overview>(
      `/v1/dashboard/parks/${PARK}/overview?granularity=month&period=${month()}`,
    );
    for (const [tile, field] of [
      ['renewable_electricity_share', 'renewableShare'],
      ['co2_per_tce', 'co2PerTce'],
      ['platform_coverage', 'coverage'],
    ] as const) {
      const name = `trend-${tile}`;
      expect(await plotted(name)).toEqual({ [field]: overview.trend.map((p) => p[field]) });
      // A sparkline of the month to date: the seeded day may be its only point.
      await expectDrawn(name, 0.0005);
    }

    const balance = await api<Balance>(`/v1/dashboard/parks/${PARK}/balance?day=${seed.day}`);
    const series = await plotted('balance');
    const fields = [
      'gridImportKw',
      'directLineKw',
      'pvKw',
      'windKw',
      'storageKw',
      'plannedImportKw',
      'plannedLoadKw',
    ] as const;
    expect(series).toEqual(
      Object.fromEntries(fields.map((f) => [f, balance.intervals.map((i) => i[f])])),
    );
    // And against the seed itself: 4 x the kWh of each 15 minutes.
    const i = 62; // in b-grid's gap: a-grid alone
    expect(series.gridImportKw![i]).toBe(4 * VALUES.aGrid[i]!);
    expect(series.directLineKw).toEqual(VALUES.aDl.map((v) => 4 * v));
    expect(series.storageKw).toEqual(VALUES.discharge.map((v, k) => 4 * (v - VALUES.charge[k]!)));
    await expectDrawn('balance', 0.05);

    // The ranking: by CO2 per tce, then filtered and sorted by the reader.
    const rows = page.locator('table.ranking');
    await expect(rows.getAttribute('data-rows')).resolves.toBe('e-a,e-b,e-c');
    await page.getByLabel('Filter enterprises by name').fill('beta');
    await expect(rows.getAttribute('data-rows')).resolves.toBe('e-b');
    await page.getByLabel('Filter enterprises by name').fill('');
    await page.getByLabel('Sort by').selectOption('renewable_share');
    // Renewable share: e-b 3,360 / 10,110 = 0.3323 ahead of e-a 6,080 / 18,310 = 0.3321.
    await expect(rows.getAttribute('data-rows')).resolves.toBe('e-b,e-a,e-c');
    await page.getByLabel('Sort by').selectOption('intensity');
    await screenshot('overview-1280x800');
  });

  it('enterprise: series, footprint and CFE heat map plot the API; certificates and CBAM shown', async () => {
    await open(`#/enterprise/e-a?month=${month()}`);
    const view = await api<EnterpriseView>(`/v1/dashboard/enterprises/e-a?month=${month()}`);
    for (const commodity of ['electricity', 'natural_gas']) {
      const name = `series-${commodity}`;
      expect(await plotted(name)).toEqual(
        Object.fromEntries(
          view.series
            .filter((s) => s.commodity === commodity)
            .map((s) => [`${s.role}|${s.unit}`, s.values]),
        ),
      );
      await expectDrawn(name, 0.002);
    }
    const d = view.days.indexOf(seed.day);
    expect((await plotted('series-electricity'))['grid_import|kWh']![d]).toBe(12_230);
    expect(await plotted('footprint')).toEqual({
      scope1: view.footprint.scope1,
      scope2Location: view.footprint.scope2Location,
      scope2Market: view.footprint.scope2Market,
    });
    await expectDrawn('footprint', 0.002);
    const cells = view.heat.flatMap((hours, day) =>
      hours.flatMap((score, hour) => (score === null ? [] : [[hour, day, score]])),
    );
    expect(cells).toHaveLength(24);
    expect(await plotted('cfe-heatmap')).toEqual({ cfe: cells });
    await expectDrawn('cfe-heatmap', 0.005);
    await expect(
      page.locator('[data-certificate-kwh]').getAttribute('data-certificate-kwh'),
    ).resolves.toBe('2000');
    await expect(
      page.locator('table', { hasText: 'Certificate retirements' }).textContent(),
    ).resolves.toContain('GEC-0001, GEC-0002');
    await expect(page.locator('table', { hasText: '7601 10 00' }).textContent()).resolves.toContain(
      '1.7000',
    );
    await screenshot('enterprise-1280x800');
  });

  it('dispatch: plan, setpoints and SOC against actuals, and the violations', async () => {
    await open(`#/dispatch?park=${PARK}&day=${seed.day}`);
    const view = await api<DispatchView>(`/v1/dashboard/parks/${PARK}/dispatch?day=${seed.day}`);
    expect(await plotted('dispatch-import')).toEqual({
      plannedImportKw: view.plannedImportKw,
      actualImportKw: view.actualImportKw,
      plannedLoadKw: view.plannedLoadKw,
    });
    const battery = view.batteries[0]!;
    expect(await plotted('battery-bat-1-power')).toEqual({
      powerKw: battery.powerKw,
      setpointKw: battery.setpointKw,
    });
    expect(await plotted('battery-bat-1-soc')).toEqual({
      socPercent: battery.socPercent,
      meteredSocPercent: battery.meteredSocPercent,
    });
    // The seed: metered SOC as the meter sent it, the plan's 400 kWh + 25 kWh per charging
    // interval of 1,000 kWh.
    expect((await plotted('battery-bat-1-soc')).meteredSocPercent).toEqual(VALUES.soc);
    expect((await plotted('battery-bat-1-soc')).socPercent![8]).toBe(42.5);
    for (const name of ['dispatch-import', 'battery-bat-1-power', 'battery-bat-1-soc'])
      await expectDrawn(name);
    await expect(page.locator('table.violations tbody tr').count()).resolves.toBe(2);
    await expect(page.locator('table.setpoints').textContent()).resolves.toMatch(
      /acknowledged.*expired.*idle.*issued/,
    );
    await screenshot('dispatch-1280x800');
  });

  it('data quality: trend plots the API; the open gap and the silent meter are listed', async () => {
    await open(`#/quality?park=${PARK}&day=${seed.day}`);
    const view = await api<QualityView>(`/v1/dashboard/parks/${PARK}/quality?day=${seed.day}`);
    expect(await plotted('quality-trend')).toEqual({
      estimatedShare: view.trend.map((p) => p.estimatedShare),
      missingShare: view.trend.map((p) => p.missingShare),
    });
    // The seeded day: 4 estimated and 102 missing of 960 expected intervals.
    expect((await plotted('quality-trend')).missingShare!.at(-1)).toBe(102 / 960);
    await expectDrawn('quality-trend', 0.005);
    await expect(page.locator('[data-quality="missing"] .tile-value').textContent()).resolves.toBe(
      '10.6 %',
    );
    await expect(page.locator('table.gaps').textContent()).resolves.toContain('b-grid');
    await expect(page.locator('table.silent').textContent()).resolves.toContain('c-grid');
    await screenshot('quality-1280x800');
  });

  it('is usable at tablet width: nothing wider than the screen', async () => {
    await page.setViewportSize(TABLET);
    try {
      await open(`#/overview?park=${PARK}&day=${seed.day}`);
      const width = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
      );
      expect(width).toBeLessThanOrEqual(TABLET.width);
      await expectDrawn('balance', 0.05);
      await screenshot('overview-820x1180');
      await open(`#/enterprise/e-a?month=${month()}`);
      await screenshot('enterprise-820x1180');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('follows new data live: a late reading appears without reloading', async () => {
    await open(`#/overview?park=${PARK}&day=${seed.day}`);
    // Interval 62 of b-grid's gap arrives now: the page is told and fetches again.
    const at = seed.at(62);
    await h.publishReadings(METERS.bGrid, [[at, '70']]);
    await page.waitForFunction(
      ([expected]) =>
        (globalThis as unknown as PageGlobals).parkDashboard
          .chart('balance')
          ?.getOption()
          .series.find((s) => s.id === 'gridImportKw')?.data?.[62] === expected,
      [4 * (VALUES.aGrid[62]! + 70)],
      { timeout: 20_000 },
    );
  });
});

describe('as an enterprise user', () => {
  it('signs in with a pasted token and sees its own enterprise only', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('main[data-view="signin"]');
    const own = String((await h.bearer('enterprise', 'e-a')).get('authorization')[0]);
    await page.getByLabel('Bearer token').fill(own);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForSelector('main[data-route="#/enterprise/e-a"][data-state="ready"]');
    await expect(page.locator('nav a').allTextContents()).resolves.toEqual(['My enterprise']);
    await expect(page.locator('h2#enterprise-title').textContent()).resolves.toContain('Alpha');
  });

  it("cannot open another enterprise's page nor fetch its data", async () => {
    await open('#/enterprise/e-b', 'error');
    await expect(page.locator('[data-denied="true"]').textContent()).resolves.toMatch(
      /Not permitted: .*cannot access enterprise e-b/,
    );
    // Nothing of e-b's is drawn: no chart is left on the page.
    await expect(
      page.evaluate(() => (globalThis as unknown as PageGlobals).parkDashboard.charts()),
    ).resolves.toEqual([]);
    await screenshot('enterprise-user-denied-1280x800');
    // The page's own token, used as the page would: 403 for e-b's data and the park's views.
    const statuses = await page.evaluate(
      async (paths) => {
        const token = (
          globalThis as unknown as { sessionStorage: { getItem(k: string): string } }
        ).sessionStorage.getItem('park-dashboard-token');
        return Promise.all(
          paths.map(
            async (p) => (await fetch(p, { headers: { authorization: `Bearer ${token}` } })).status,
          ),
        );
      },
      [
        '/v1/dashboard/enterprises/e-b',
        `/v1/dashboard/enterprises/e-b/carbon?month=${month()}`,
        `/v1/dashboard/parks/${PARK}/overview`,
        `/v1/dashboard/parks/${PARK}/ranking`,
        '/v1/dashboard/enterprises/e-a',
      ],
    );
    expect(statuses).toEqual([403, 403, 403, 403, 200]);
    // Park-wide views send it back to its own page.
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).location.hash = '#/overview';
    });
    await page.waitForSelector('main[data-route="#/enterprise/e-a"][data-state="ready"]');
  });

  it('the development sign-in makes enterprise tokens too', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Enterprise').selectOption('e-b');
    await page.getByRole('button', { name: 'Sign in as this enterprise' }).click();
    await page.waitForSelector('main[data-route="#/enterprise/e-b"][data-state="ready"]');
    await expect(page.locator('.principal').textContent()).resolves.toContain('Beta Tools');
  });
});
