import { park } from '@park/contracts';
import { Dec, decimalText, localDate, startOfLocalDayAfter } from '@park/domain-primitives';
import { meterSpec, type MeterSpec } from '@park/testing';
import type { ReportingHarness } from './harness';
import {
  publishAcknowledgement,
  publishEnterpriseFlagged,
  publishPlan,
  publishSetpoint,
} from './reporting-events';

/**
 * A park seeded for the dashboard: yesterday (park time, so that every interval has ended and
 * the last ones fall in the last 24 h) fully metered, accounted and planned, with every kind of
 * record the dashboard reads. Every value comes from the small formulas below, so a test can
 * work out what each view must show on its own.
 *
 * Park `pd` (Asia/Shanghai). Enterprises: e-a (Chinese name; grid, direct line, on-site PV and
 * gas meters; installation inst-a), e-b (grid with a gap, wind), e-c (one grid meter, silent
 * since three days), e-op (not energy-using: the park's storage, charge, discharge and SOC).
 * Per 15-minute interval i of the day (0..95), kWh unless said:
 *   a-grid  100 + (i mod 12) x 5, interval 10 corrected from 150 to 140 (edited)
 *   a-dl    40 + (i mod 4) x 10          a-pv   max(0, 40 - 2 |i - 48|)
 *   a-gas   20 Nm3, intervals 40..43 estimated by metering
 *   b-grid  50 + (i mod 6) x 10, intervals 60..67 a reported gap of which 60 and 61 arrived late
 *   b-wind  30 + (i mod 3) x 5
 *   st-ch   25 in intervals 8..23        st-dis 30 in intervals 72..87
 *   soc-1   % after each interval: 40, +2.5 per charging interval, -3 per discharging one
 * Carbon's hours (per enterprise and hour h, intervals 4h..4h+3): electricity = all of its
 * electricity meters, grid = its grid meter, renewable = carbon-free = the rest; energy = 0.1229
 * kgce per kWh plus 1.32836 kgce per Nm3 of gas; Scope 1 = 2.162 kg per Nm3; Scope 2 = grid x
 * 0.5122 (location) and x 0.6096 (market).
 * Dispatch: a day-ahead plan (import 600 + (i mod 8) x 20 kW, load 900 + (i mod 8) x 20 kW,
 * bat-1 charging 100 kW in 8..23 and discharging 120 kW in 72..87 from 400 kWh), two
 * violations; an intraday plan from interval 48 (import + 50 kW); setpoints sp-1 (acknowledged),
 * sp-2 (expired into idle), sp-3 (issued). bat-1 has 1,000 kWh and SOC meter soc-1.
 */

export const PARK = 'pd';
export const TZ = 'Asia/Shanghai';
export const INTERVALS = 96;
const QUARTER_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;

export const ENTERPRISES = [
  { enterpriseId: 'e-a', name: '阿尔法铝业 Alpha Aluminium', energyUsing: true },
  { enterpriseId: 'e-b', name: 'Beta Tools', energyUsing: true },
  { enterpriseId: 'e-c', name: 'Gamma Castings', energyUsing: true },
  { enterpriseId: 'e-op', name: 'Park Energy Services', energyUsing: false },
];

const R = park.metering.v1.MeterRole;
export const METERS = {
  aGrid: meterSpec('a-grid', 'e-a', 'grid'),
  aDl: meterSpec('a-dl', 'e-a', 'direct_line', { sourceGeneratorId: 'wind-1' }),
  aPv: meterSpec('a-pv', 'e-a', 'pv'),
  aGas: meterSpec('a-gas', 'e-a', 'gas'),
  bGrid: meterSpec('b-grid', 'e-b', 'grid'),
  bWind: meterSpec('b-wind', 'e-b', 'wind'),
  cGrid: meterSpec('c-grid', 'e-c', 'grid'),
  soc: meterSpec('soc-1', 'e-op', 'soc'),
  charge: meterSpec('st-ch', 'e-op', 'grid', { role: R.METER_ROLE_STORAGE_CHARGE }),
  discharge: meterSpec('st-dis', 'e-op', 'grid', { role: R.METER_ROLE_STORAGE_DISCHARGE }),
} satisfies Record<string, MeterSpec>;

const range = <T>(f: (i: number) => T): T[] => Array.from({ length: INTERVALS }, (_, i) => f(i));
const charging = (i: number) => i >= 8 && i < 24;
const discharging = (i: number) => i >= 72 && i < 88;
export const GAP = { from: 60, to: 68, late: [60, 61] };
export const ESTIMATED = [40, 41, 42, 43];
export const CORRECTED = { interval: 10, from: '150', to: '140' };

/** Final metered values per interval (what the projections hold once everything arrived). */
export const VALUES = {
  aGrid: range((i) => (i === CORRECTED.interval ? 140 : 100 + (i % 12) * 5)),
  aDl: range((i) => 40 + (i % 4) * 10),
  aPv: range((i) => Math.max(0, 40 - 2 * Math.abs(i - 48))),
  aGas: range(() => 20),
  /** null where nothing arrived. */
  bGrid: range((i) =>
    i >= GAP.from && i < GAP.to && !GAP.late.includes(i) ? null : 50 + (i % 6) * 10,
  ),
  bWind: range((i) => 30 + (i % 3) * 5),
  charge: range((i) => (charging(i) ? 25 : 0)),
  discharge: range((i) => (discharging(i) ? 30 : 0)),
  soc: (() => {
    let soc = 40;
    return range((i) => {
      soc += (charging(i) ? 2.5 : 0) - (discharging(i) ? 3 : 0);
      return soc;
    });
  })(),
};

export const BATTERY = { batteryId: 'bat-1', energyKwh: 1000, socMeterId: 'soc-1' };

/** bat-1's plan per interval: power (discharge - charge) and SOC at the interval's end, kWh. */
export const PLANNED_BATTERY = (() => {
  let soc = 400;
  return range((i) => {
    const chargeKw = charging(i) ? 100 : 0;
    const dischargeKw = discharging(i) ? 120 : 0;
    soc += chargeKw / 4 - dischargeKw / 4;
    return { batteryId: BATTERY.batteryId, chargeKw, dischargeKw, socKwh: soc };
  });
})();

export const plannedImportKw = (i: number) => (i < 48 ? 600 : 650) + (i % 8) * 20;
export const plannedLoadKw = (i: number) => 900 + (i % 8) * 20;

export interface Seed {
  /** The seeded park-local day (yesterday) and its first instant. */
  day: string;
  dayStart: number;
  /** Interval i's start, ISO. */
  at(i: number): string;
}

/** Carbon's figures of one enterprise-hour, exactly as the seed publishes them. */
export function hourFigures(enterpriseId: 'e-a' | 'e-b', hour: number) {
  const sum = (values: (number | null)[]) =>
    values.slice(hour * 4, hour * 4 + 4).reduce<Dec>((s, v) => s.plus(v ?? 0), new Dec(0));
  const grid = sum(enterpriseId === 'e-a' ? VALUES.aGrid : VALUES.bGrid);
  const renewable =
    enterpriseId === 'e-a' ? sum(VALUES.aDl).plus(sum(VALUES.aPv)) : sum(VALUES.bWind);
  const gas = enterpriseId === 'e-a' ? sum(VALUES.aGas) : new Dec(0);
  const electricity = grid.plus(renewable);
  const t = (d: Dec) => decimalText(d);
  return {
    electricityKwh: t(electricity),
    gridKwh: t(grid),
    renewableKwh: t(renewable),
    carbonFreeKwh: t(renewable),
    energyKgce: t(electricity.times('0.1229').plus(gas.times('1.32836'))),
    scope1Kgco2e: t(gas.times('2.162')),
    scope2LocationKgco2e: t(grid.times('0.5122')),
    scope2MarketKgco2e: t(grid.times('0.6096')),
  };
}

export async function seedDashboardPark(h: ReportingHarness, now = Date.now()): Promise<Seed> {
  const dayStart = startOfLocalDayAfter(now, -1, TZ);
  const day = localDate(dayStart, TZ);
  const at = (i: number) => new Date(dayStart + i * QUARTER_MS).toISOString();
  const series = (values: (number | null)[], skip: number[] = []): [string, string][] =>
    values.flatMap((v, i) => (v === null || skip.includes(i) ? [] : [[at(i), String(v)]]));

  await h.publishPark(PARK, { timeZone: TZ });
  for (const enterprise of ENTERPRISES) {
    await publishEnterpriseFlagged(h, { ...enterprise, parkId: PARK });
  }
  for (const meter of Object.values(METERS)) await h.publishMeter(meter);
  await h.publishInstallation({
    installationId: 'inst-a',
    enterpriseId: 'e-a',
    name: 'Alpha smelter',
  });

  // Readings as metering publishes them (see the table above).
  await h.publishReadings(
    METERS.aGrid,
    series(VALUES.aGrid).map(([s, v], i) => [s, i === CORRECTED.interval ? CORRECTED.from : v]),
  );
  await h.publishCorrection(METERS.aGrid, at(CORRECTED.interval), CORRECTED.from, CORRECTED.to);
  await h.publishReadings(METERS.aDl, series(VALUES.aDl));
  await h.publishReadings(METERS.aPv, series(VALUES.aPv));
  await h.publishReadings(METERS.aGas, series(VALUES.aGas, ESTIMATED));
  await h.publishEstimates(
    METERS.aGas,
    ESTIMATED.map((i) => [at(i), String(VALUES.aGas[i])]),
  );
  await h.publishReadings(METERS.bGrid, series(VALUES.bGrid, GAP.late));
  await h.publishGap(METERS.bGrid, {
    start: at(GAP.from),
    end: at(GAP.to),
    missingIntervals: GAP.to - GAP.from,
  });
  await h.publishReadings(
    METERS.bGrid,
    GAP.late.map((i) => [at(i), String(VALUES.bGrid[i])]),
  );
  await h.publishReadings(METERS.bWind, series(VALUES.bWind));
  await h.publishReadings(METERS.charge, series(VALUES.charge));
  await h.publishReadings(METERS.discharge, series(VALUES.discharge));
  await h.publishReadings(METERS.soc, series(VALUES.soc));
  // e-c's meter reported once, three days before the day.
  await h.publishReadings(METERS.cGrid, [
    [new Date(dayStart - 3 * 86_400_000 + 2 * HOUR_MS).toISOString(), '10'],
  ]);

  for (const enterpriseId of ['e-a', 'e-b'] as const) {
    await h.publishHours(
      enterpriseId,
      Array.from({ length: 24 }, (_, hour) => ({
        hourStart: new Date(dayStart + hour * HOUR_MS).toISOString(),
        change: hourFigures(enterpriseId, hour),
      })),
    );
  }

  const interval = (i: number) => ({
    start: at(i),
    importKw: plannedImportKw(i),
    loadKw: plannedLoadKw(i),
    emissionsKg: 0,
    renewableShare: 0.3,
    batteries: [PLANNED_BATTERY[i]!],
  });
  await publishPlan(h, {
    planId: 'plan-da',
    parkId: PARK,
    day,
    issuedAt: new Date(dayStart - 12 * HOUR_MS).toISOString(),
    kind: 'day_ahead',
    intervals: range((i) => i).map(interval),
    violations: [
      {
        name: 'unserved_load_t080',
        constraint: 'load not served at interval 80',
        interval: 80,
        assetId: '',
        sizeKwh: 12.5,
      },
      {
        name: 'soc_end_bat-1',
        constraint: 'end-of-horizon SOC below the starting SOC',
        interval: -1,
        assetId: 'bat-1',
        sizeKwh: 40,
      },
    ],
    notes: ['no wind forecast submitted: wind counted as zero'],
  });
  await publishPlan(h, {
    planId: 'plan-id',
    parkId: PARK,
    day,
    issuedAt: new Date(dayStart + 11 * HOUR_MS).toISOString(),
    kind: 'intraday',
    intervals: range((i) => i)
      .filter((i) => i >= 48)
      .map(interval),
  });

  const setpoints = [
    {
      setpointId: 'sp-1',
      planId: 'plan-da',
      powerKw: -100,
      from: 8,
      to: 24,
      status: 'acknowledged',
    },
    { setpointId: 'sp-2', planId: 'plan-id', powerKw: 120, from: 72, to: 88, status: 'expired' },
    { setpointId: 'sp-3', planId: 'plan-id', powerKw: 0, from: 88, to: 96, status: 'issued' },
  ];
  for (const sp of setpoints) {
    await publishSetpoint(
      h,
      {
        setpointId: sp.setpointId,
        assetId: BATTERY.batteryId,
        planId: sp.planId,
        powerKw: sp.powerKw,
        validFrom: at(sp.from),
        validUntil: new Date(dayStart + sp.to * QUARTER_MS).toISOString(),
      },
      sp.status === 'expired' ? 'idle' : undefined,
    );
  }
  await publishAcknowledgement(h, {
    setpointId: 'sp-1',
    assetId: BATTERY.batteryId,
    acknowledgedAt: new Date(dayStart + 8 * QUARTER_MS + 60_000).toISOString(),
  });
  await h.server.projections.caughtUp(60_000);
  return { day, dayStart, at };
}

/** The carbon and dispatch stand-ins' data for the seeded park. */
export const CARBON_DATA = {
  installations: { 'inst-a': 'e-a' },
  cbam: () => ({
    goods: [
      park.carbon.v1.CbamGood.fromPartial({
        processId: 'proc-smelting',
        cnCode: '7601 10 00',
        sector: 'aluminium',
        route: 'primary electrolysis',
        netMassTonnes: { value: '12.5' },
        directSee: { value: '1.7' },
        indirectSee: { value: '0' },
        totalSee: { value: '1.7' },
      }),
    ],
  }),
};

export function carbonCertificates(dayStart: number) {
  return {
    'e-a': {
      certificateKwh: '2000',
      renewableShare: '0.55',
      cfeScore: '0.5',
      coverage: [
        {
          intervalStart: new Date(dayStart).toISOString(),
          kwh: '2000',
          serials: ['GEC-0001', 'GEC-0002'],
        },
      ],
    },
  };
}
