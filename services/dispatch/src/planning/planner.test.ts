import { checkPlan } from './check';
import { PENALTY_CNY_PER_KWH } from './lp-model';
import { loadHighs, planDay, type PlanResult } from './planner';
import type { PlanningBattery, PlanningProblem } from './problem';
import { dayScenario } from './test-support/scenarios';

// Absolute tolerance for hand-computed figures (CNY, kW, kWh): the solver works in floats.
const CLOSE = 6;

function battery(overrides: Partial<PlanningBattery> = {}): PlanningBattery {
  return {
    assetId: 'bat-1',
    energyKwh: 100,
    maxChargeKw: 50,
    maxDischargeKw: 50,
    chargeEfficiency: 0.9,
    dischargeEfficiency: 0.9,
    socMinFraction: 0.1,
    socMaxFraction: 0.9,
    initialSocFraction: 0.5,
    degradationCnyPerMwh: 0,
    ...overrides,
  };
}

function small(overrides: Partial<PlanningProblem>): PlanningProblem {
  const n = overrides.loadKw?.length ?? 4;
  return {
    start: '2025-06-01T00:00:00Z',
    intervalHours: 1,
    importPriceCnyPerKwh: Array.from({ length: n }, () => 0.5),
    exportPriceCnyPerKwh: Array.from({ length: n }, () => 0),
    carbonPriceCnyPerTonne: 0,
    gridFactorKgPerKwh: 0,
    importLimitKw: 1000,
    exportLimitKw: 0,
    loadKw: Array.from({ length: n }, () => 100),
    generators: [],
    batteries: [battery()],
    flexibleLoads: [],
    curtailmentCnyPerKwh: 0,
    allowCurtailment: true,
    timeLimitSeconds: 30,
    mipRelativeGap: 1e-6,
    ...overrides,
  };
}

const path = (r: PlanResult, key: 'chargeKw' | 'dischargeKw' | 'socKwh', b = 0) =>
  r.intervals.map((iv) => iv.batteries[b]?.[key]);

const withoutTime = ({ solveMs: _solveMs, ...rest }: PlanResult) => rest;

beforeAll(async () => {
  await loadHighs();
});

describe('planDay: one battery, four 1-hour intervals, derived by hand', () => {
  // Prices 0.3 / 0.4 / 1.2 / 1.0 CNY/kWh (distinct, so the optimum is unique), feed-in 0.1,
  // carbon 100 CNY/t x 0.5 kg/kWh = +0.05 CNY per imported kWh, so effective import prices
  // 0.35 / 0.45 / 1.25 / 1.05. Battery 100 kWh, 50 kW both ways, 0.9 each way, SOC 10..90 kWh,
  // start 50 kWh, end >= 50 kWh, wear 100 CNY/MWh = 0.1 CNY per kWh discharged. Load 100 kW.
  //
  // One kWh bought at t0 stores 0.9 and delivers 0.81 at t2: 0.81 x 1.25 - 0.81 x 0.1 - 0.35
  // = +0.58 CNY, so the battery fills at t0 and empties at t2. Headroom 90 - 50 = 40 kWh:
  //   t0 charge 40 / 0.9 = 44.444 kW (<= 50), SOC 90;  t1 idle, SOC 90;
  //   t2 discharge 40 x 0.9 = 36 kW (<= 50), SOC 50;   t3 idle, SOC 50 (the end target).
  // Going below 50 at t2 and refilling at t3 loses: 0.9 x 1.25 - 0.09 = 1.035 < 1.05 / 0.9.
  // Exporting never pays (0.1 < any import price). Imports 144.444 / 100 / 64 / 100 kW.
  //   energy  = 144.444 x 0.3 + 100 x 0.4 + 64 x 1.2 + 100 x 1.0 = 43.333 + 40 + 76.8 + 100
  //           = 260.1333
  //   carbon  = (144.444 + 100 + 64 + 100) kWh x 0.5 kg / 1000 x 100 = 204.222 kg -> 20.4222
  //   wear    = 36 kWh / 1000 x 100 = 3.6
  //   total   = 284.1556
  const problem = small({
    importPriceCnyPerKwh: [0.3, 0.4, 1.2, 1.0],
    exportPriceCnyPerKwh: [0.1, 0.1, 0.1, 0.1],
    exportLimitKw: 100,
    carbonPriceCnyPerTonne: 100,
    gridFactorKgPerKwh: 0.5,
    batteries: [battery({ degradationCnyPerMwh: 100 })],
  });

  it('charges in the cheap hour, discharges in the dear one, with the hand-computed objective', async () => {
    const r = await planDay(problem);
    expect(r.status).toBe('optimal');
    expect(r.rounds).toBe(1);
    expect(r.binaries).toBe(0);
    expect(r.violations).toEqual([]);
    const expected = {
      charge: [400 / 9, 0, 0, 0],
      discharge: [0, 0, 36, 0],
      soc: [90, 90, 50, 50],
      importKw: [100 + 400 / 9, 100, 64, 100],
      emissionsKg: [(100 + 400 / 9) * 0.5, 50, 32, 50],
    };
    path(r, 'chargeKw').forEach((x, t) => expect(x).toBeCloseTo(expected.charge[t] ?? NaN, CLOSE));
    path(r, 'dischargeKw').forEach((x, t) =>
      expect(x).toBeCloseTo(expected.discharge[t] ?? NaN, CLOSE),
    );
    path(r, 'socKwh').forEach((x, t) => expect(x).toBeCloseTo(expected.soc[t] ?? NaN, CLOSE));
    r.intervals.forEach((iv, t) => {
      expect(iv.importKw).toBeCloseTo(expected.importKw[t] ?? NaN, CLOSE);
      expect(iv.exportKw).toBeCloseTo(0, CLOSE);
      expect(iv.emissionsKg).toBeCloseTo(expected.emissionsKg[t] ?? NaN, CLOSE);
    });
    expect(r.intervals.map((iv) => iv.start)).toEqual([
      '2025-06-01T00:00:00.000Z',
      '2025-06-01T01:00:00.000Z',
      '2025-06-01T02:00:00.000Z',
      '2025-06-01T03:00:00.000Z',
    ]);
    expect(r.objective.energyCny).toBeCloseTo(260.133333, CLOSE - 1);
    expect(r.objective.carbonCny).toBeCloseTo(20.422222, CLOSE - 1);
    expect(r.objective.batteryWearCny).toBeCloseTo(3.6, CLOSE);
    expect(r.objective.curtailmentCny).toBe(0);
    expect(r.objective.penaltyCny).toBe(0);
    expect(r.objective.totalCny).toBeCloseTo(284.155556, CLOSE - 1);
    expect(checkPlan(problem, r)).toEqual([]);
  });

  it('works in 15-minute intervals too (same day compressed: powers x 4)', async () => {
    // With h = 0.25 every energy above is reached with four times the power, which the limits
    // must then allow: 50 -> 200 kW. Objective and SOC path are unchanged; load 100 kW x 0.25 h
    // per interval is a quarter of the energy, so use 400 kW load to keep the same kWh.
    const quarter = {
      ...problem,
      intervalHours: 0.25,
      loadKw: [400, 400, 400, 400],
      batteries: [battery({ degradationCnyPerMwh: 100, maxChargeKw: 200, maxDischargeKw: 200 })],
    };
    const r = await planDay(quarter);
    path(r, 'socKwh').forEach((x, t) => expect(x).toBeCloseTo([90, 90, 50, 50][t] ?? NaN, CLOSE));
    expect(path(r, 'chargeKw')[0]).toBeCloseTo((4 * 400) / 9, CLOSE);
    expect(path(r, 'dischargeKw')[2]).toBeCloseTo(144, CLOSE);
    expect(r.objective.totalCny).toBeCloseTo(284.155556, CLOSE - 1);
    expect(checkPlan(quarter, r)).toEqual([]);
  });
});

describe('planDay: 96 intervals, 3 batteries, PV and wind', () => {
  const problem = dayScenario({ batteries: 3 });

  it('meets every constraint to 1e-6 by the independent check and holds the end SOC', async () => {
    const r = await planDay(problem);
    expect(r.status).toBe('optimal');
    expect(r.intervals).toHaveLength(96);
    expect(r.violations).toEqual([]);
    expect(checkPlan(problem, r, 1e-6)).toEqual([]);
    const last = r.intervals[95];
    problem.batteries.forEach((b, i) => {
      expect(last?.batteries[i]?.socKwh).toBeGreaterThanOrEqual(
        b.initialSocFraction * b.energyKwh - 1e-6,
      );
    });
    // The batteries are used, and the plan is sensible: shares in [0, 1], parts add up.
    expect(r.intervals.some((iv) => iv.batteries.some((b) => b.dischargeKw > 1))).toBe(true);
    for (const iv of r.intervals) {
      expect(iv.renewableShare).toBeGreaterThanOrEqual(0);
      expect(iv.renewableShare).toBeLessThanOrEqual(1);
    }
    const o = r.objective;
    expect(o.totalCny).toBeCloseTo(
      o.energyCny + o.carbonCny + o.batteryWearCny + o.curtailmentCny + o.penaltyCny,
      9,
    );
  });

  it('gives the same result for the same input', async () => {
    const first = await planDay(problem);
    const second = await planDay(structuredClone(problem));
    expect(withoutTime(second)).toEqual(withoutTime(first));
    expect(JSON.stringify(withoutTime(second))).toBe(JSON.stringify(withoutTime(first)));
  });
});

describe('planDay: where the pure LP would charge and discharge at once', () => {
  it('negative import price: binaries only where needed, hand-checked constrained optimum', async () => {
    // Two 1-hour intervals. t0: import price -0.5 (paid to consume), t1: 1.0. Load 10 kW, import
    // limit 100, no export. Battery 100 kWh, 40 kW both ways, 0.9 each way, SOC 0..100, start
    // 90 kWh, end >= 90 kWh, no wear.
    // Pure LP at t0: charge 40 and discharge d with 90 + 40 x 0.9 - d / 0.9 <= 100, so d = 23.4;
    //   import 10 + 40 - 23.4 = 26.6 (more paid consumption than charging alone allows).
    //   t1: SOC 100 -> 90 delivers 9 kW, import 1. LP objective -0.5 x 26.6 + 1 = -12.3.
    // Without simultaneity t0 can only charge up to the headroom: 10 / 0.9 = 11.111 kW, import
    //   21.111; t1 as before. Objective -0.5 x (10 + 100/9) + 1 = -95/9 + 1 = -86/9 = -9.5556.
    const problem = small({
      loadKw: [10, 10],
      importPriceCnyPerKwh: [-0.5, 1.0],
      exportPriceCnyPerKwh: [0, 0],
      importLimitKw: 100,
      batteries: [
        battery({
          maxChargeKw: 40,
          maxDischargeKw: 40,
          socMinFraction: 0,
          socMaxFraction: 1,
          initialSocFraction: 0.9,
        }),
      ],
    });

    const lpOnly = await planDay(problem, { maxMipRounds: 0 });
    expect(lpOnly.objective.totalCny).toBeCloseTo(-12.3, CLOSE);
    expect(path(lpOnly, 'chargeKw')[0]).toBeCloseTo(40, CLOSE);
    expect(path(lpOnly, 'dischargeKw')[0]).toBeCloseTo(23.4, CLOSE);
    expect(checkPlan(problem, lpOnly).map((b) => b.constraint)).toEqual([
      'simultaneous_charge_discharge',
    ]);

    const r = await planDay(problem);
    expect(r.status).toBe('optimal');
    expect(r.rounds).toBe(2);
    expect(r.binaries).toBe(1);
    expect(r.modeBinaries).toEqual([{ assetId: 'bat-1', interval: 0 }]);
    expect(r.lp).toMatch(/^Binary\n mode_bat_1_t000\n/m);
    expect(r.mipGap).toBeDefined();
    expect(checkPlan(problem, r)).toEqual([]);
    expect(path(r, 'chargeKw')[0]).toBeCloseTo(100 / 9, CLOSE);
    expect(path(r, 'dischargeKw')[0]).toBe(0);
    expect(path(r, 'dischargeKw')[1]).toBeCloseTo(9, CLOSE);
    expect(r.intervals[0]?.importKw).toBeCloseTo(10 + 100 / 9, CLOSE);
    expect(r.objective.totalCny).toBeCloseTo(-86 / 9, CLOSE);
  });

  it('surplus PV with curtailment disallowed and an export limit: surplus named and sized', async () => {
    // t0: PV 100 kW, load 10, export limit 20 at feed-in 0.2, curtailment not allowed; t1: no PV,
    // load 10, import 1.0. Battery 100 kWh, 50 kW both ways, 0.9 each way, SOC 0..100, start 90
    // (end >= 90), no wear.
    // Pure LP at t0 burns energy: charge 50, discharge 31.5 (90 + 45 - 35 = 100), absorbing 18.5.
    // Without simultaneity: charge 10 / 0.9 = 11.111 kW; surplus 100 - 10 - 20 - 11.111
    //   = 58.889 kW x 1 h = 530/9 kWh. t1: SOC 100 -> 90 delivers 9 kW, import 1.
    //   energy = -20 x 0.2 + 1 x 1.0 = -3; penalty = 530/9 x 10000 = 588888.889;
    //   total = 588885.889.
    const problem = small({
      loadKw: [10, 10],
      importPriceCnyPerKwh: [1.0, 1.0],
      exportPriceCnyPerKwh: [0.2, 0.2],
      exportLimitKw: 20,
      allowCurtailment: false,
      generators: [{ assetId: 'pv-1', kind: 'pv', availableKw: [100, 0] }],
      batteries: [battery({ socMinFraction: 0, socMaxFraction: 1, initialSocFraction: 0.9 })],
    });
    const lpOnly = await planDay(problem, { maxMipRounds: 0 });
    expect(path(lpOnly, 'chargeKw')[0]).toBeCloseTo(50, CLOSE);
    expect(path(lpOnly, 'dischargeKw')[0]).toBeCloseTo(31.5, CLOSE);

    const r = await planDay(problem);
    expect(r.status).toBe('optimal');
    expect(r.modeBinaries).toEqual([{ assetId: 'bat-1', interval: 0 }]);
    expect(checkPlan(problem, r)).toEqual([]);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ name: 'surplus_t000', interval: 0 });
    expect(r.violations[0]?.sizeKwh).toBeCloseTo(530 / 9, CLOSE);
    expect(r.intervals[0]?.generation[0]?.curtailedKw).toBe(0);
    expect(r.intervals[0]?.exportKw).toBeCloseTo(20, CLOSE);
    expect(r.objective.energyCny).toBeCloseTo(-3, CLOSE);
    expect(r.objective.penaltyCny).toBeCloseTo((530 / 9) * PENALTY_CNY_PER_KWH.surplus, 4);
    expect(r.objective.totalCny).toBeCloseTo(588885.888889, 4);
  });

  it('the 96-interval day with negative midday prices never charges and discharges at once', async () => {
    const problem = dayScenario({ batteries: 3, negativeMiddayPrices: true });
    const r = await planDay(problem);
    expect(r.status).toBe('optimal');
    expect(r.binaries).toBeGreaterThan(0);
    // Binaries only in the negative-price stretch (11:00-14:00 local = intervals 44..55).
    for (const m of r.modeBinaries) {
      expect(m.interval).toBeGreaterThanOrEqual(44);
      expect(m.interval).toBeLessThan(56);
    }
    expect(checkPlan(problem, r)).toEqual([]);
  });
});

describe('planDay: an impossible case comes back as a plan with named violations', () => {
  // Two 30-minute intervals. Loads 100 and 250 kW, import limit 100, PV 30 kW both intervals.
  // Battery 100 kWh at 50 % (50 kWh), SOC >= 10 kWh, 50 kW discharge, 0.9 efficiency.
  // At t1 the most that can be supplied is 100 (grid) + 30 (PV) + 50 (battery, power-limited:
  // 50 kW x 0.5 h / 0.9 = 27.78 kWh of the 40 kWh above the minimum) = 180 kW, so
  // unserved = 250 - 180 = 70 kW x 0.5 h = 35 kWh.
  const base = small({
    intervalHours: 0.5,
    loadKw: [100, 250],
    importPriceCnyPerKwh: [0.5, 0.5],
    exportPriceCnyPerKwh: [0, 0],
    importLimitKw: 100,
    generators: [{ assetId: 'pv-1', kind: 'pv', availableKw: [30, 30] }],
  });

  it('sizes unserved load by hand (end SOC allowed down to the minimum)', async () => {
    const problem = { ...base, batteries: [battery({ endSocMinFraction: 0.1 })] };
    const r = await planDay(problem);
    expect(r.status).toBe('optimal');
    expect(r.violations).toHaveLength(1);
    const [v] = r.violations;
    expect(v?.name).toBe('unserved_load_t001');
    expect(v?.constraint).toBe('load not served at interval 1 (2025-06-01T00:30:00.000Z)');
    expect(v?.interval).toBe(1);
    expect(v?.sizeKwh).toBeCloseTo(35, CLOSE);
    expect(r.objective.penaltyCny).toBeCloseTo(35 * PENALTY_CNY_PER_KWH.unservedLoad, 4);
    expect(path(r, 'dischargeKw')[1]).toBeCloseTo(50, CLOSE);
    expect(r.intervals[1]?.importKw).toBeCloseTo(100, CLOSE);
    expect(checkPlan(problem, r)).toEqual([]);
  });

  it('serves load before the end SOC target: both shortfalls named and sized', async () => {
    // End SOC >= start (50 kWh). Serving 1 kWh of load from the battery costs 1/0.9 kWh of end
    // SOC at 2000 CNY/kWh = 2222 < 10000 unserved, so it still discharges 50 kW at t1: unserved
    // 35 kWh as above. To limit the end shortfall it charges at t0 with the 100 + 30 - 100 = 30 kW
    // spare (15 kWh x 0.5 CNY = 7.5 CNY against 13.5 kWh x 2000): +30 x 0.5 x 0.9 = +13.5 kWh.
    // End SOC = 50 + 13.5 - 50 x 0.5 / 0.9 = 50 + 13.5 - 27.778 = 35.722 kWh;
    // shortfall = 27.778 - 13.5 = 257/18 = 14.278 kWh.
    const r = await planDay(base);
    expect(path(r, 'chargeKw')[0]).toBeCloseTo(30, CLOSE);
    expect(path(r, 'socKwh')[1]).toBeCloseTo(50 + 13.5 - 250 / 9, CLOSE);
    expect(r.status).toBe('optimal');
    expect(r.violations.map((v) => v.name)).toEqual([
      'unserved_load_t001',
      'end_soc_shortfall_bat_1',
    ]);
    expect(r.violations[0]?.sizeKwh).toBeCloseTo(35, CLOSE);
    expect(r.violations[1]).toMatchObject({ assetId: 'bat-1' });
    expect(r.violations[1]?.sizeKwh).toBeCloseTo(257 / 18, CLOSE);
    expect(checkPlan(base, r)).toEqual([]);
  });

  it('names a flexible load that cannot get its energy in its window', async () => {
    // Window = intervals 0..1, 40 kW max x 0.5 h x 2 = 40 kWh possible of 50 wanted: 10 short.
    const problem = small({
      intervalHours: 0.5,
      loadKw: [0, 0, 0],
      flexibleLoads: [
        { loadId: 'ev.depot', energyKwh: 50, windowStart: 0, windowEnd: 2, maxKw: 40 },
      ],
    });
    const r = await planDay(problem);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({
      name: 'flexible_shortfall_ev_depot',
      loadId: 'ev.depot',
    });
    expect(r.violations[0]?.sizeKwh).toBeCloseTo(10, CLOSE);
    expect(r.intervals.map((iv) => iv.flexible[0]?.kw)).toEqual([40, 40, 0]);
    expect(checkPlan(problem, r)).toEqual([]);
  });
});

describe('planDay: scale', () => {
  it('stops at the time limit with a plan, a status and a reason', async () => {
    // Negative midday prices for 20 batteries make a hard MIP; 1.5 s is far too little for it.
    const problem = {
      ...dayScenario({ batteries: 20, negativeMiddayPrices: true }),
      timeLimitSeconds: 1.5,
    };
    const r = await planDay(problem);
    expect(r.status).toBe('time_limit');
    expect(r.intervals).toHaveLength(96);
    expect(r.rounds).toBeGreaterThanOrEqual(2);
    // The reason names the time limit, or the charging and discharging at once it left.
    expect(r.message).toMatch(
      /charge and discharge at once|charges and discharges a battery at once|timeLimit/,
    );
    expect(r.solveMs).toBeLessThan(10_000);
  });

  it('20 batteries x 96 intervals solve well under a second (asserted < 5 s)', async () => {
    const problem = dayScenario({ batteries: 20 });
    const r = await planDay(problem);
    console.log(
      `20 batteries x 96 intervals: ${r.solveMs.toFixed(0)} ms, ${r.rounds} round(s), ${r.binaries} binaries`,
    );
    expect(r.status).toBe('optimal');
    expect(r.solveMs).toBeLessThan(5000);
    expect(checkPlan(problem, r)).toEqual([]);
  });
});
