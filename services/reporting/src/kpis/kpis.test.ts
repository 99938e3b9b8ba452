import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { failure, meterSpec, unary } from '@park/testing';
import { startReportingHarness, type ReportingHarness } from '../test-support/harness';
import {
  getParkKpis,
  kpiTable,
  publishAllocation,
  publishEnterpriseFlagged,
  publishPlan,
  type KpiView,
} from '../test-support/reporting-events';

/**
 * A seeded month (June 2023, park p1 in Asia/Shanghai, UTC+8, size band below 200k tce: threshold
 * 0.2 tCO2/tce) on the topics reporting reads, and the KPIs, rankings and plan versus actual the
 * service answers, against figures worked out by hand below. Park-time boundaries:
 *   June 2023  = [2023-05-31T16:00Z, 2023-06-30T16:00Z)
 *   year 2023  = [2022-12-31T16:00Z, 2023-12-31T16:00Z)
 *   2023-06-30 = [2023-06-29T16:00Z, 2023-06-30T16:00Z); 2023-07-01 = [2023-06-30T16:00Z, 2023-07-01T16:00Z)
 *
 * Enterprises: ent-1 (a Chinese name), ent-2, ent-4, ent-5 energy-using; ent-3 not energy-using.
 *
 * Hourly emissions (carbon's HourlyEmissionsAccounted; kWh, kgce, kgCO2e):
 *   hour                  ent  park day   elec  grid  ren   cfe   energy  s1   s2 loc  s2 mkt
 *   A 2023-05-31T16:00Z   1    06-01     1000   200   800   800    200     0   116     100
 *   B 2023-06-15T04:00Z   1    06-15     3000  1000  2000  1800    500    50   580     410
 *   C 2023-05-31T15:00Z   2    05-31      500   500     0     0    300    20   290     280
 *   D 2023-06-30T15:00Z   2    06-30     2000   800  1200  1000    400    30   900     920
 *       of which internal transfer (heat from ent-1):            100          50      50
 *   E 2023-06-30T16:00Z   2    07-01     1000  1000     0     0    500    10   580     540
 *   F 2023-03-10T02:00Z   4    03-10      500   500     0     0    200     0   290     240
 *   G 2023-06-20T02:00Z   4    06-20     2000     0  2000  2000   1000   150     0       0
 *
 * Park boundary figures (internal transfers taken out, so that heat counts once):
 *   June (A B D G): energy 200 + 500 + (400 - 100) + 1000 = 2000 kgce
 *                   CO2 market = s1 (0 + 50 + 30 + 150 = 230) + s2 mkt (100 + 410 + (920 - 50) + 0 = 1380) = 1610 kg
 *                   CO2 location = 230 + (116 + 580 + (900 - 50) + 0 = 1546) = 1776 kg
 *                   electricity 1000 + 3000 + 2000 + 2000 = 8000 kWh, renewable 800 + 2000 + 1200 + 2000 = 6000 kWh
 *   YTD to end of June (+ C F): energy 2000 + 300 + 200 = 2500; CO2 market 1610 + (20 + 280) + (0 + 240) = 2150
 *                   CO2 location 1776 + (20 + 290) + (0 + 290) = 2376
 *   Year (+ E):     energy 2500 + 500 = 3000; CO2 market 2150 + (10 + 540) = 2700;
 *                   electricity 8000 + 500 + 500 + 1000 = 10000, renewable 6000
 */

jest.setTimeout(120_000);

const v1 = park.reporting.v1;
const PARK = 'p1';
const CHINESE_NAME = '沈阳华晨铝业有限公司';

const ENTERPRISES = [
  { enterpriseId: 'ent-1', name: CHINESE_NAME, energyUsing: true },
  { enterpriseId: 'ent-2', name: 'Liaoning Beta Castings', energyUsing: true },
  { enterpriseId: 'ent-3', name: 'Gamma Property Services', energyUsing: false },
  { enterpriseId: 'ent-4', name: 'Delta Tools', energyUsing: true },
  { enterpriseId: 'ent-5', name: 'Epsilon Glass', energyUsing: true },
];

const meters = {
  grid1: meterSpec('m-1g', 'ent-1', 'grid'),
  line1: meterSpec('m-1d', 'ent-1', 'direct_line'),
  grid2: meterSpec('m-2g', 'ent-2', 'grid'),
  grid3: meterSpec('m-3g', 'ent-3', 'grid'),
  grid4: meterSpec('m-4g', 'ent-4', 'grid'),
  grid5: meterSpec('m-5g', 'ent-5', 'grid'),
};

/** The month of events on the harness's topics; resolves once every projection applied them. */
async function seed(h: ReportingHarness): Promise<void> {
  await h.publishPark(PARK);
  for (const enterprise of ENTERPRISES)
    await publishEnterpriseFlagged(h, { ...enterprise, parkId: PARK });
  for (const meter of Object.values(meters)) await h.publishMeter(meter);

  // Readings (kWh per 15-minute interval). Interval ends, for coverage:
  //   m-1g ends 06-30T15:45Z, 16:00Z (June), 06-30T16:15Z, 07-01T08:15Z (July)
  //   m-2g ends 06-30T10:15Z (June), 07-01T03:15Z (July)
  //   m-3g (ent-3, not energy-using) ends 06-30T12:15Z, 07-01T12:15Z
  //   m-4g ends 06-29T15:00Z only: 25 h before the end of June (06-30T16:00Z)
  //   m-5g ends 06-30T16:15Z only: July's first interval, after the end of June
  await h.publishReadings(meters.grid1, [
    ['2023-06-15T04:00:00Z', '400'],
    ['2023-06-15T04:15:00Z', '300'],
    ['2023-06-30T15:30:00Z', '100'],
    ['2023-06-30T15:45:00Z', '100'],
  ]);
  await h.publishReadings(meters.grid1, [
    ['2023-06-30T16:00:00Z', '100'],
    ['2023-07-01T08:00:00Z', '100'],
  ]);
  await h.publishReadings(meters.line1, [
    ['2023-06-15T04:00:00Z', '600'],
    ['2023-06-15T04:15:00Z', '600'],
  ]);
  await h.publishReadings(meters.grid2, [
    ['2023-06-15T04:00:00Z', '200'],
    ['2023-06-15T04:15:00Z', '100'],
    ['2023-06-30T10:00:00Z', '50'],
  ]);
  await h.publishReadings(meters.grid2, [['2023-07-01T03:00:00Z', '50']]);
  await h.publishReadings(meters.grid3, [
    ['2023-06-30T12:00:00Z', '10'],
    ['2023-07-01T12:00:00Z', '10'],
  ]);
  await h.publishReadings(meters.grid4, [['2023-06-29T14:45:00Z', '20']]);
  await h.publishReadings(meters.grid5, [['2023-06-30T16:00:00Z', '20']]);

  // Hours A to G of the table above.
  await h.publishHours('ent-1', [
    {
      hourStart: '2023-05-31T16:00:00Z',
      change: {
        electricityKwh: '1000',
        gridKwh: '200',
        renewableKwh: '800',
        carbonFreeKwh: '800',
        energyKgce: '200',
        scope2LocationKgco2e: '116',
        scope2MarketKgco2e: '100',
      },
    },
    {
      hourStart: '2023-06-15T04:00:00Z',
      change: {
        electricityKwh: '3000',
        gridKwh: '1000',
        renewableKwh: '2000',
        carbonFreeKwh: '1800',
        energyKgce: '500',
        scope1Kgco2e: '50',
        scope2LocationKgco2e: '580',
        scope2MarketKgco2e: '410',
      },
    },
  ]);
  await h.publishHours('ent-2', [
    {
      hourStart: '2023-05-31T15:00:00Z',
      change: {
        electricityKwh: '500',
        gridKwh: '500',
        energyKgce: '300',
        scope1Kgco2e: '20',
        scope2LocationKgco2e: '290',
        scope2MarketKgco2e: '280',
      },
    },
    {
      hourStart: '2023-06-30T15:00:00Z',
      change: {
        electricityKwh: '2000',
        gridKwh: '800',
        renewableKwh: '1200',
        carbonFreeKwh: '1000',
        energyKgce: '400',
        scope1Kgco2e: '30',
        scope2LocationKgco2e: '900',
        scope2MarketKgco2e: '920',
      },
      internal: { energyKgce: '100', scope2LocationKgco2e: '50', scope2MarketKgco2e: '50' },
    },
  ]);
  await h.publishHours('ent-2', [
    {
      hourStart: '2023-06-30T16:00:00Z',
      change: {
        electricityKwh: '1000',
        gridKwh: '1000',
        energyKgce: '500',
        scope1Kgco2e: '10',
        scope2LocationKgco2e: '580',
        scope2MarketKgco2e: '540',
      },
    },
  ]);
  await h.publishHours('ent-4', [
    {
      hourStart: '2023-03-10T02:00:00Z',
      change: {
        electricityKwh: '500',
        gridKwh: '500',
        energyKgce: '200',
        scope2LocationKgco2e: '290',
        scope2MarketKgco2e: '240',
      },
    },
    {
      hourStart: '2023-06-20T02:00:00Z',
      change: {
        electricityKwh: '2000',
        renewableKwh: '2000',
        carbonFreeKwh: '2000',
        energyKgce: '1000',
        scope1Kgco2e: '150',
      },
    },
  ]);

  // Direct line L1 (kWh per interval; the line's metered and exported energy ride on every
  // consumer's record of the interval). 04:15Z is re-allocated: revision 2 replaces revision 1.
  const line = { parkId: PARK, lineId: 'L1' };
  await publishAllocation(h, {
    ...line,
    enterpriseId: 'ent-1',
    intervalStart: '2023-06-15T04:00:00Z',
    allocatedKwh: '600',
    lineMeteredKwh: '1500',
    lineExportedKwh: '100',
    revision: 1,
  });
  await publishAllocation(h, {
    ...line,
    enterpriseId: 'ent-2',
    intervalStart: '2023-06-15T04:00:00Z',
    allocatedKwh: '800',
    lineMeteredKwh: '1500',
    lineExportedKwh: '100',
    revision: 1,
  });
  await publishAllocation(h, {
    ...line,
    enterpriseId: 'ent-1',
    intervalStart: '2023-06-15T04:15:00Z',
    allocatedKwh: '300',
    lineMeteredKwh: '1000',
    lineExportedKwh: '300',
    revision: 1,
  });
  await publishAllocation(h, {
    ...line,
    enterpriseId: 'ent-1',
    intervalStart: '2023-06-15T04:15:00Z',
    allocatedKwh: '500',
    lineMeteredKwh: '1000',
    lineExportedKwh: '150',
    revision: 2,
  });
  await publishAllocation(h, {
    ...line,
    enterpriseId: 'ent-2',
    intervalStart: '2023-06-30T16:00:00Z',
    allocatedKwh: '600',
    lineMeteredKwh: '1500',
    lineExportedKwh: '150',
    revision: 1,
  });

  // The day-ahead plan of 2023-06-15, then an intraday plan from 04:15Z on.
  await publishPlan(h, {
    planId: 'plan-0615-da',
    parkId: PARK,
    day: '2023-06-15',
    issuedAt: '2023-06-14T12:00:00Z',
    kind: 'day_ahead',
    intervals: [
      { start: '2023-06-15T04:00:00Z', importKw: 3000, emissionsKg: 400, renewableShare: 0.5 },
      { start: '2023-06-15T04:15:00Z', importKw: 2000, emissionsKg: 300, renewableShare: 0.6 },
      { start: '2023-06-15T04:30:00Z', importKw: 1000, emissionsKg: 150, renewableShare: 0.7 },
    ],
  });
  await publishPlan(h, {
    planId: 'plan-0615-id',
    parkId: PARK,
    day: '2023-06-15',
    issuedAt: '2023-06-15T04:05:00Z',
    kind: 'intraday',
    intervals: [
      { start: '2023-06-15T04:15:00Z', importKw: 1600, emissionsKg: 240, renewableShare: 0.55 },
      { start: '2023-06-15T04:30:00Z', importKw: 800, emissionsKg: 120, renewableShare: 0.65 },
    ],
  });
  await h.server.projections.caughtUp(60_000);
}

const NATIONAL = { unit: 'tCO2/tce', target: '0.2', comparison: '<=' } as const;
const RENEWABLE = { unit: 'fraction', target: '0.9', comparison: '>=' } as const;
const COVERAGE = { unit: 'fraction', target: '0.9', comparison: '>=' } as const;
const SELF_USE = { unit: 'fraction', target: '0.6', comparison: '>=' } as const;
const FEED_IN = { unit: 'fraction', target: '0.2', comparison: '<=' } as const;
const CONSUMER = { unit: 'fraction', target: '0.3', comparison: '>=' } as const;
const CLEAN = { unit: 'fraction', comparison: '', status: 'none' } as const;

let h: ReportingHarness;
let operator: grpc.Metadata;

beforeAll(async () => {
  h = await startReportingHarness('kpis');
  operator = await h.bearer('operator');
  await seed(h);
});
afterAll(() => h?.stop());

describe('GetParkKpis equals the hand computation', () => {
  it('month 2023-06: national indicator, YTD, clean and renewable shares, coverage, direct line', async () => {
    const response = await getParkKpis(h, operator, PARK, 'month', '2023-06');
    expect(response.sizeBand).toBe('below_200k_tce');
    expect(response.scope2Method).toBe('market');
    const expected: Record<string, KpiView> = {
      // 1610 kgCO2 / 2000 kgce = 0.805 tCO2/tce > 0.2
      co2_per_tce: { value: '0.805', ...NATIONAL, status: 'not_met' },
      // 2150 / 2500 = 0.86 (hours of March and of 31 May, park time, count; July's does not)
      co2_per_tce_ytd: { value: '0.86', ...NATIONAL, status: 'not_met' },
      // 6000 kWh x 0.1229 kgce/kWh = 737.4 kgce; 737.4 / 2000 = 0.3687
      clean_energy_share: { value: '0.3687', ...CLEAN },
      // 6000 / 8000 = 0.75 < 0.9
      renewable_electricity_share: { value: '0.75', ...RENEWABLE, status: 'not_met' },
      // As of the end of June (06-30T16:00Z), data in (06-29T16:00Z, 06-30T16:00Z]:
      // ent-1 yes (15:45Z, 16:00Z), ent-2 yes (10:15Z), ent-4 no (25 h before),
      // ent-5 no (its only interval ends after June); ent-3 is not energy-using. 2 / 4 = 0.5
      platform_coverage: { value: '0.5', ...COVERAGE, status: 'not_met' },
      // L1 in June: metered 1500 + 1000 = 2500, exported 100 + 150 (revision 2) = 250,
      // allocated 600 + 800 + 500 (revision 2) = 1900. 1900 / 2500 = 0.76 >= 0.6
      'direct_line_self_use:L1': { value: '0.76', ...SELF_USE, status: 'met' },
      // 250 / 2500 = 0.1 <= 0.2
      'direct_line_feed_in:L1': { value: '0.1', ...FEED_IN, status: 'met' },
      // ent-1: (600 + 500) / its June electricity (1000 + 3000) = 1100 / 4000 = 0.275 < 0.3
      'direct_line_consumer_share:L1:ent-1': { value: '0.275', ...CONSUMER, status: 'not_met' },
      // ent-2: 800 / 2000 (hour D) = 0.4 >= 0.3
      'direct_line_consumer_share:L1:ent-2': { value: '0.4', ...CONSUMER, status: 'met' },
    };
    expect(response.kpis.map((kpi) => kpi.name)).toEqual(Object.keys(expected));
    expect(kpiTable(response)).toEqual(expected);
  });

  it('year 2023: every hour of the year, coverage as of the end of the year', async () => {
    const response = await getParkKpis(h, operator, PARK, 'year', '2023');
    expect(kpiTable(response)).toEqual({
      // 2700 / 3000 = 0.9
      co2_per_tce: { value: '0.9', ...NATIONAL, status: 'not_met' },
      // the year is over: YTD is the whole year, 0.9
      co2_per_tce_ytd: { value: '0.9', ...NATIONAL, status: 'not_met' },
      // 737.4 / 3000 = 0.2458
      clean_energy_share: { value: '0.2458', ...CLEAN },
      // 6000 / 10000 = 0.6
      renewable_electricity_share: { value: '0.6', ...RENEWABLE, status: 'not_met' },
      // nothing reported in the 24 h before 2023-12-31T16:00Z: 0 / 4
      platform_coverage: { value: '0', ...COVERAGE, status: 'not_met' },
      // + the interval of 07-01: metered 2500 + 1500 = 4000, exported 250 + 150 = 400,
      // allocated 1900 + 600 = 2500. 2500 / 4000 = 0.625
      'direct_line_self_use:L1': { value: '0.625', ...SELF_USE, status: 'met' },
      // 400 / 4000 = 0.1
      'direct_line_feed_in:L1': { value: '0.1', ...FEED_IN, status: 'met' },
      // 1100 / 4000 = 0.275
      'direct_line_consumer_share:L1:ent-1': { value: '0.275', ...CONSUMER, status: 'not_met' },
      // (800 + 600) / (500 + 2000 + 1000) = 1400 / 3500 = 0.4
      'direct_line_consumer_share:L1:ent-2': { value: '0.4', ...CONSUMER, status: 'met' },
    });
  });

  it('day 2023-06-30 (park time) holds 15:00Z but not 16:00Z', async () => {
    const response = await getParkKpis(h, operator, PARK, 'day', '2023-06-30');
    expect(kpiTable(response)).toEqual({
      // hour D only, internal part out: energy 400 - 100 = 300, CO2 30 + (920 - 50) = 900; 900 / 300 = 3
      co2_per_tce: { value: '3', ...NATIONAL, status: 'not_met' },
      // Jan 1 to the end of 2023-06-30: the same hours as June's YTD, 2150 / 2500 = 0.86
      co2_per_tce_ytd: { value: '0.86', ...NATIONAL, status: 'not_met' },
      // 1200 x 0.1229 = 147.48; 147.48 / 300 = 0.4916
      clean_energy_share: { value: '0.4916', ...CLEAN },
      // 1200 / 2000 = 0.6
      renewable_electricity_share: { value: '0.6', ...RENEWABLE, status: 'not_met' },
      // the same instant as June's end: 0.5 (no direct-line interval on the day)
      platform_coverage: { value: '0.5', ...COVERAGE, status: 'not_met' },
    });
  });

  it('day 2023-07-01 (park time) starts at 2023-06-30T16:00Z', async () => {
    const response = await getParkKpis(h, operator, PARK, 'day', '2023-07-01');
    expect(kpiTable(response)).toEqual({
      // hour E only: (10 + 540) / 500 = 1.1
      co2_per_tce: { value: '1.1', ...NATIONAL, status: 'not_met' },
      // to the end of 07-01: June's YTD + E = 2700 / 3000 = 0.9
      co2_per_tce_ytd: { value: '0.9', ...NATIONAL, status: 'not_met' },
      // 0 renewable: 0 / 500 and 0 / 1000
      clean_energy_share: { value: '0', ...CLEAN },
      renewable_electricity_share: { value: '0', ...RENEWABLE, status: 'not_met' },
      // data in (06-30T16:00Z, 07-01T16:00Z]: ent-1 (06-30T16:15Z, 07-01T08:15Z), ent-2
      // (07-01T03:15Z), ent-5 (06-30T16:15Z); ent-4 not. 3 / 4 = 0.75
      platform_coverage: { value: '0.75', ...COVERAGE, status: 'not_met' },
      // the 06-30T16:00Z interval: 600 / 1500 = 0.4 < 0.6
      'direct_line_self_use:L1': { value: '0.4', ...SELF_USE, status: 'not_met' },
      // 150 / 1500 = 0.1
      'direct_line_feed_in:L1': { value: '0.1', ...FEED_IN, status: 'met' },
      // 600 / ent-2's electricity that day (hour E, 1000) = 0.6
      'direct_line_consumer_share:L1:ent-2': { value: '0.6', ...CONSUMER, status: 'met' },
    });
  });

  it('day 2023-06-20: the national indicator met', async () => {
    const kpis = kpiTable(await getParkKpis(h, operator, PARK, 'day', '2023-06-20'));
    // hour G only: 150 / 1000 = 0.15 <= 0.2; 2000 / 2000 renewable
    expect(kpis.co2_per_tce).toEqual({ value: '0.15', ...NATIONAL, status: 'met' });
    expect(kpis.renewable_electricity_share).toEqual({ value: '1', ...RENEWABLE, status: 'met' });
  });

  it('an unknown park is NOT_FOUND, a malformed period INVALID_ARGUMENT', async () => {
    expect((await failure(getParkKpis(h, operator, 'p-unknown', 'month', '2023-06'))).code).toBe(
      grpc.status.NOT_FOUND,
    );
    expect((await failure(getParkKpis(h, operator, PARK, 'month', '2023-6'))).code).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
  });
});

describe('the Scope 2 method is configuration', () => {
  let located: ReportingHarness;
  beforeAll(async () => {
    located = await startReportingHarness('kpis_location', { REPORTING_SCOPE2_METHOD: 'location' });
    await seed(located);
  });
  afterAll(() => located?.stop());

  it('location-based: June 1776 / 2000 = 0.888, YTD 2376 / 2500 = 0.9504', async () => {
    const response = await getParkKpis(
      located,
      await located.bearer('operator'),
      PARK,
      'month',
      '2023-06',
    );
    expect(response.scope2Method).toBe('location');
    const kpis = kpiTable(response);
    expect(kpis.co2_per_tce).toEqual({ value: '0.888', ...NATIONAL, status: 'not_met' });
    expect(kpis.co2_per_tce_ytd).toEqual({ value: '0.9504', ...NATIONAL, status: 'not_met' });
    expect(response.kpis[0]!.label).toBe('CO2 per tce (location-based Scope 2)');
  });
});

describe('ListEnterpriseRanking', () => {
  const ranking = (md: grpc.Metadata, order: park.reporting.v1.RankingOrder, nameFilter = '') =>
    unary<park.reporting.v1.ListEnterpriseRankingResponse>((done) =>
      h.client.listEnterpriseRanking(
        { parkId: PARK, month: '2023-06', order, nameFilter },
        md,
        done,
      ),
    );
  const d = (value: string) => ({ value });
  // June, per energy-using enterprise (not the park boundary: an enterprise's own figures):
  //   ent-1 (A B): energy 700 kgce = 0.7 tce, CO2 (0 + 100) + (50 + 410) = 560; 560 / 700 = 0.8;
  //                renewable (800 + 2000) / (1000 + 3000) = 0.7
  //   ent-2 (D):   energy 400 = 0.4 tce, CO2 30 + 920 = 950; 950 / 400 = 2.375; renewable 1200 / 2000 = 0.6
  //   ent-4 (G):   energy 1000 = 1 tce, CO2 150; 0.15; renewable 2000 / 2000 = 1
  //   ent-5:       no data: ranks last, energy 0
  //   ent-3 is not energy-using: not ranked.
  const ENT_4 = {
    enterpriseId: 'ent-4',
    enterpriseName: 'Delta Tools',
    intensityTco2PerTce: d('0.15'),
    renewableShare: d('1'),
    energyTce: d('1'),
  };
  const ENT_1 = {
    enterpriseId: 'ent-1',
    enterpriseName: CHINESE_NAME,
    intensityTco2PerTce: d('0.8'),
    renewableShare: d('0.7'),
    energyTce: d('0.7'),
  };
  const ENT_2 = {
    enterpriseId: 'ent-2',
    enterpriseName: 'Liaoning Beta Castings',
    intensityTco2PerTce: d('2.375'),
    renewableShare: d('0.6'),
    energyTce: d('0.4'),
  };
  const ENT_5 = {
    enterpriseId: 'ent-5',
    enterpriseName: 'Epsilon Glass',
    intensityTco2PerTce: undefined,
    renewableShare: undefined,
    energyTce: d('0'),
  };

  it('by intensity, lowest first: ent-4 0.15, ent-1 0.8, ent-2 2.375, ent-5 without data', async () => {
    const { entries } = await ranking(operator, v1.RankingOrder.RANKING_ORDER_INTENSITY);
    expect(entries).toEqual([
      { rank: 1, ...ENT_4 },
      { rank: 2, ...ENT_1 },
      { rank: 3, ...ENT_2 },
      { rank: 4, ...ENT_5 },
    ]);
  });

  it('by renewable share, highest first: ent-4 1, ent-1 0.7, ent-2 0.6, ent-5', async () => {
    const { entries } = await ranking(operator, v1.RankingOrder.RANKING_ORDER_RENEWABLE_SHARE);
    expect(entries.map((entry) => [entry.rank, entry.enterpriseId])).toEqual([
      [1, 'ent-4'],
      [2, 'ent-1'],
      [3, 'ent-2'],
      [4, 'ent-5'],
    ]);
  });

  it('an operator filters by name and keeps the ranks', async () => {
    const { entries } = await ranking(operator, v1.RankingOrder.RANKING_ORDER_INTENSITY, 'Beta');
    expect(entries).toEqual([{ rank: 3, ...ENT_2 }]);
  });

  it('an enterprise token sees where it stands and only its own name', async () => {
    const own = await h.bearer('enterprise', 'ent-1');
    // The name filter is an operator's tool: an enterprise cannot probe names with it.
    const { entries } = await ranking(own, v1.RankingOrder.RANKING_ORDER_INTENSITY, 'Delta');
    expect(entries.map((entry) => [entry.rank, entry.enterpriseId, entry.enterpriseName])).toEqual([
      [1, '', ''],
      [2, 'ent-1', CHINESE_NAME],
      [3, '', ''],
      [4, '', ''],
    ]);
    expect(entries[1]).toEqual({ rank: 2, ...ENT_1 });
    const names = entries.map((entry) => entry.enterpriseName).join('|');
    for (const other of ['Delta Tools', 'Liaoning Beta Castings', 'Epsilon Glass'])
      expect(names).not.toContain(other);
  });
});

describe('GetPlanVsActual', () => {
  it('2023-06-15: the plan in force per interval beside metered import, emissions and renewable share', async () => {
    const answer = await unary<park.reporting.v1.GetPlanVsActualResponse>((done) =>
      h.client.getPlanVsActual({ parkId: PARK, day: '2023-06-15' }, operator, done),
    );
    // The intraday plan (issued 04:05Z) replaced the day-ahead one from 04:15Z on.
    expect(answer.planId).toBe('plan-0615-id');
    // Metered (kWh): 04:00Z grid 400 (m-1g) + 200 (m-2g) = 600, direct line 600 -> total 1200;
    //                04:15Z grid 300 + 100 = 400, direct line 600 -> total 1000.
    // Hour 04:00Z: accounted location-based emissions 580 kg (hour B), grid import of the hour
    // 600 + 400 = 1000 kWh, shared by interval: 580 x 600 / 1000 = 348, 580 x 400 / 1000 = 232.
    expect(answer.intervals).toEqual([
      {
        start: new Date('2023-06-15T04:00:00Z'),
        plannedImportKwh: 750, // 3000 kW x 0.25 h (day-ahead)
        actualImportKwh: { value: '600' },
        plannedEmissionsKg: 400,
        actualEmissionsKg: { value: '348' },
        plannedRenewableShare: 0.5,
        actualRenewableShare: { value: '0.5' }, // 600 / 1200
      },
      {
        start: new Date('2023-06-15T04:15:00Z'),
        plannedImportKwh: 400, // 1600 kW x 0.25 h (intraday)
        actualImportKwh: { value: '400' },
        plannedEmissionsKg: 240,
        actualEmissionsKg: { value: '232' },
        plannedRenewableShare: 0.55,
        actualRenewableShare: { value: '0.6' }, // 600 / 1000
      },
      {
        start: new Date('2023-06-15T04:30:00Z'),
        plannedImportKwh: 200, // 800 kW x 0.25 h (intraday)
        actualImportKwh: undefined,
        plannedEmissionsKg: 120,
        actualEmissionsKg: undefined,
        plannedRenewableShare: 0.65,
        actualRenewableShare: undefined,
      },
    ]);
  });

  it('a day without a plan is NOT_FOUND', async () => {
    const error = await failure(
      unary((done) =>
        h.client.getPlanVsActual({ parkId: PARK, day: '2023-06-16' }, operator, done),
      ),
    );
    expect(error.code).toBe(grpc.status.NOT_FOUND);
  });
});
