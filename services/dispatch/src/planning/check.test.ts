import { checkPlan } from './check';
import { loadHighs, planDay, type PlanResult } from './planner';
import type { PlanningProblem } from './problem';

// The checker must catch what it claims to catch: start from a clean plan, break one thing.
const problem: PlanningProblem = {
  start: '2025-06-01T00:00:00Z',
  intervalHours: 1,
  importPriceCnyPerKwh: [0.3, 0.4, 1.2, 1.0],
  exportPriceCnyPerKwh: [0.1, 0.1, 0.1, 0.1],
  carbonPriceCnyPerTonne: 0,
  gridFactorKgPerKwh: 0.5,
  importLimitKw: 200,
  exportLimitKw: 50,
  loadKw: [100, 100, 100, 100],
  generators: [{ assetId: 'pv-1', kind: 'pv', availableKw: [0, 30, 30, 0] }],
  batteries: [
    {
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
    },
  ],
  flexibleLoads: [{ loadId: 'ev', energyKwh: 20, windowStart: 0, windowEnd: 2, maxKw: 20 }],
  curtailmentCnyPerKwh: 0,
  allowCurtailment: false,
  timeLimitSeconds: 10,
  mipRelativeGap: 1e-6,
};

let clean: PlanResult;
beforeAll(async () => {
  await loadHighs();
  clean = await planDay(problem);
});

function tampered(change: (r: PlanResult) => void): PlanResult {
  const copy = structuredClone(clean);
  change(copy);
  return copy;
}

const constraints = (r: PlanResult) => checkPlan(problem, r).map((b) => b.constraint);

describe('checkPlan', () => {
  it('passes the clean plan', () => {
    expect(clean.status).toBe('optimal');
    expect(checkPlan(problem, clean)).toEqual([]);
  });

  it('catches a broken power balance', () => {
    const r = tampered((x) => {
      const iv = x.intervals[1];
      if (iv) iv.importKw += 0.001;
    });
    expect(constraints(r)).toEqual(['power_balance']);
  });

  it('catches broken SOC dynamics (and the follow-on in the next interval)', () => {
    const r = tampered((x) => {
      const b = x.intervals[0]?.batteries[0];
      if (b) b.socKwh -= 1;
    });
    expect(constraints(r)).toEqual(['soc_dynamics', 'soc_dynamics']);
  });

  it('catches SOC outside its limits and a missed end SOC', () => {
    const r = tampered((x) => {
      const b = x.intervals[3]?.batteries[0];
      if (b) b.socKwh = 5;
    });
    expect(constraints(r)).toEqual(['soc_dynamics', 'soc_limits', 'end_soc']);
  });

  it('catches import and export beyond the limits', () => {
    const r = tampered((x) => {
      const [a, b] = x.intervals;
      if (a && b) {
        a.importKw = 250;
        b.exportKw = 60;
      }
    });
    expect(constraints(r)).toEqual([
      'import_limit',
      'power_balance',
      'export_limit',
      'power_balance',
    ]);
  });

  it('catches simultaneous charge and discharge', () => {
    const r = tampered((x) => {
      const b = x.intervals[1]?.batteries[0];
      if (b) {
        // Charging and discharging 9 kW each keeps the balance, but not the SOC.
        b.chargeKw += 9;
        b.dischargeKw += 9;
      }
    });
    expect(constraints(r)).toContain('simultaneous_charge_discharge');
  });

  it('catches curtailment when it is not allowed and flexible energy gone missing', () => {
    const r = tampered((x) => {
      const g = x.intervals[1]?.generation[0];
      if (g) {
        g.usedKw -= 5;
        g.curtailedKw += 5;
      }
      const f = x.intervals[0]?.flexible[0];
      if (f) f.kw = 0;
    });
    expect(constraints(r)).toEqual([
      'power_balance',
      'curtailment_not_allowed',
      'power_balance',
      'flexible_energy',
    ]);
  });

  it('accepts a gap only as large as the declared violation', () => {
    const r = tampered((x) => {
      const iv = x.intervals[2];
      if (iv) iv.importKw -= 3;
      x.violations.push({
        name: 'unserved_load_t002',
        constraint: 'load not served at interval 2',
        interval: 2,
        sizeKwh: 3,
      });
    });
    expect(checkPlan(problem, r)).toEqual([]);
    const wrongSize = tampered((x) => {
      const iv = x.intervals[2];
      if (iv) iv.importKw -= 3;
      x.violations.push({ name: 'unserved_load_t002', constraint: '', interval: 2, sizeKwh: 2 });
    });
    expect(constraints(wrongSize)).toEqual(['power_balance']);
  });
});
