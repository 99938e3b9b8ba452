import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildLpModel,
  formatNumber,
  glpsolArgs,
  PENALTY_CNY_PER_KWH,
  sanitizeLpName,
  writeGlpsolModel,
} from './lp-model';
import { loadHighs, planDay } from './planner';
import type { PlanningProblem } from './problem';
import { dayScenario } from './test-support/scenarios';

function tiny(): PlanningProblem {
  return {
    start: '2025-06-01T00:00:00Z',
    intervalHours: 0.25,
    importPriceCnyPerKwh: [0.3, 1.2],
    exportPriceCnyPerKwh: [0.1, 0.1],
    carbonPriceCnyPerTonne: 100,
    gridFactorKgPerKwh: [0.5, 0.6],
    importLimitKw: 500,
    exportLimitKw: 0,
    loadKw: [100, 120],
    generators: [{ assetId: 'PV #1', kind: 'pv', availableKw: [40, 0] }],
    batteries: [
      {
        assetId: 'bat-1',
        energyKwh: 200,
        maxChargeKw: 100,
        maxDischargeKw: 80,
        chargeEfficiency: 0.95,
        dischargeEfficiency: 0.9,
        socMinFraction: 0.1,
        socMaxFraction: 0.9,
        initialSocFraction: 0.5,
        degradationCnyPerMwh: 40,
      },
      {
        assetId: 'bat_1',
        energyKwh: 100,
        maxChargeKw: 50,
        maxDischargeKw: 50,
        chargeEfficiency: 0.9,
        dischargeEfficiency: 0.9,
        socMinFraction: 0,
        socMaxFraction: 1,
        initialSocFraction: 0.5,
        endSocMinFraction: 0.6,
        degradationCnyPerMwh: 0,
      },
    ],
    flexibleLoads: [
      { loadId: 'ev.depot', energyKwh: 20, windowStart: 1, windowEnd: 2, maxKw: 100 },
    ],
    curtailmentCnyPerKwh: 0.02,
    allowCurtailment: false,
    timeLimitSeconds: 10,
    mipRelativeGap: 1e-6,
  };
}

describe('buildLpModel', () => {
  it('uses readable, sanitised, unique names and maps them back to the asset ids', () => {
    const m = buildLpModel(tiny());
    expect(m.names.batteries.map((b) => [b.assetId, b.lpId])).toEqual([
      ['bat-1', 'bat_1'],
      ['bat_1', 'bat_1_2'],
    ]);
    expect(m.names.generators[0]?.lpId).toBe('PV__1');
    expect(m.names.import).toEqual(['import_t000', 'import_t001']);
    expect(m.names.batteries[0]?.charge).toEqual(['charge_bat_1_t000', 'charge_bat_1_t001']);
    expect(m.names.batteries[1]?.endSocShortfall).toBe('end_soc_shortfall_bat_1_2');
    expect(m.names.flexibleLoads[0]?.kw).toEqual([undefined, 'flex_ev_depot_t001']);
    expect(m.roles.get('discharge_bat_1_2_t001')).toEqual({
      kind: 'discharge',
      assetId: 'bat_1',
      interval: 1,
    });
    expect(m.roles.get('unserved_load_t001')).toEqual({ kind: 'unserved_load', interval: 1 });
    expect(m.roles.get('flexible_shortfall_ev_depot')).toEqual({
      kind: 'flexible_shortfall',
      loadId: 'ev.depot',
    });
    const names = m.variables.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z][A-Za-z0-9_]*$/);
  });

  it('widens the interval tag beyond 1000 intervals', () => {
    const p = dayScenario({ batteries: 0, intervals: 1440 });
    expect(buildLpModel(p).names.import[1439]).toBe('import_t1439');
  });

  it('writes the objective, the balance, SOC dynamics and the slacks as described', () => {
    const { text } = buildLpModel(tiny());
    // Import at t0: 0.25 h x (0.3 + 0.5 kg/kWh x 100 CNY/t / 1000) = 0.25 x 0.35 = 0.0875.
    expect(text).toContain(' cost: + 0.0875 import_t000 + 0.315 import_t001');
    // Slacks cost 0.25 h x 10000 per kW; shortfalls 2000 / 5000 per kWh.
    expect(text).toContain(`+ ${0.25 * PENALTY_CNY_PER_KWH.unservedLoad} unserved_load_t000`);
    expect(text).toContain(`+ ${PENALTY_CNY_PER_KWH.endSocShortfall} end_soc_shortfall_bat_1`);
    expect(text).toContain(
      `+ ${PENALTY_CNY_PER_KWH.flexibleShortfall} flexible_shortfall_ev_depot`,
    );
    expect(text).toContain(
      ' balance_t001: + used_PV__1_t001 + import_t001 + discharge_bat_1_t001 + discharge_bat_1_2_t001\n' +
        '    + unserved_load_t001 - charge_bat_1_t001 - charge_bat_1_2_t001 - flex_ev_depot_t001\n' +
        '    - export_t001 - surplus_t001 = 120',
    );
    // soc_t = soc_{t-1} + 0.95 x 0.25 x charge - 0.25 / 0.9 x discharge, start 100 kWh.
    expect(text).toContain(
      ' soc_dyn_bat_1_t000: + soc_bat_1_t000 - 0.2375 charge_bat_1_t000\n' +
        '    + 0.2777777777777778 discharge_bat_1_t000 = 100',
    );
    expect(text).toContain(
      ' soc_end_bat_1_2: + soc_bat_1_2_t001 + end_soc_shortfall_bat_1_2 >= 60',
    );
    expect(text).toContain(
      ' flex_energy_ev_depot: + 0.25 flex_ev_depot_t001 + flexible_shortfall_ev_depot = 20',
    );
    // Curtailment not allowed: fixed to 0. Limits as bounds.
    expect(text).toContain(' curtailed_PV__1_t000 = 0');
    expect(text).toContain(' 0 <= import_t000 <= 500');
    expect(text).toContain(' export_t000 = 0');
    expect(text).toContain(' 20 <= soc_bat_1_t000 <= 180');
    expect(text).not.toMatch(/\d[eE][+-]?\d/);
    expect(text).not.toMatch(/\binf/i);
    expect(text).not.toContain('Binary');
    for (const line of text.split('\n')) expect(line.length).toBeLessThan(255);
  });

  it('lets curtailment float when allowed, at its cost', () => {
    const { text } = buildLpModel({ ...tiny(), allowCurtailment: true });
    expect(text).not.toContain('curtailed_PV__1_t000 = 0');
    expect(text).toContain('+ 0.005 curtailed_PV__1_t000');
  });

  it('adds mode binaries only for the pairs asked for', () => {
    const m = buildLpModel(tiny(), {
      modeBinaries: [
        { batteryIndex: 1, interval: 1 },
        { batteryIndex: 0, interval: 0 },
        { batteryIndex: 0, interval: 0 },
        { batteryIndex: 5, interval: 0 },
      ],
    });
    expect(m.modeBinaries).toEqual([
      { batteryIndex: 0, interval: 0 },
      { batteryIndex: 1, interval: 1 },
    ]);
    expect(m.text).toContain(
      ' mode_charge_bat_1_t000: + charge_bat_1_t000 - 100 mode_bat_1_t000 <= 0',
    );
    expect(m.text).toContain(
      ' mode_discharge_bat_1_t000: + discharge_bat_1_t000 + 80 mode_bat_1_t000 <= 80',
    );
    expect(m.text).toContain('Binary\n mode_bat_1_t000 mode_bat_1_2_t001\nEnd\n');
  });
});

describe('formatNumber', () => {
  it('writes plain decimals, never exponents', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(1 / 3)).toBe('0.3333333333333333');
    expect(formatNumber(1e-7)).toBe('0.0000001');
    expect(formatNumber(-2.5e-8)).toBe('-0.000000025');
    expect(formatNumber(1e21)).toBe('1000000000000000000000');
    expect(() => formatNumber(Number.POSITIVE_INFINITY)).toThrow();
  });

  it('sanitises ids', () => {
    expect(sanitizeLpName('bat-1')).toBe('bat_1');
    expect(sanitizeLpName('')).toBe('x');
    expect(sanitizeLpName('储能1')).toBe('__1');
    expect(sanitizeLpName('a'.repeat(100))).toHaveLength(64);
  });
});

const glpsolAvailable = spawnSync('glpsol', ['--version']).status === 0;

/** Solves LP text with glpsol and returns its objective. */
async function glpsolObjective(text: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'plan-glpsol-'));
  try {
    const lpPath = join(dir, 'plan.lp');
    const solutionPath = join(dir, 'plan.sol');
    const args = await writeGlpsolModel(text, lpPath, { timeLimitSeconds: 30, solutionPath });
    expect(readFileSync(lpPath, 'utf8')).toBe(text);
    execFileSync('glpsol', args, { stdio: 'pipe' });
    const solution = readFileSync(solutionPath, 'utf8');
    const match = /Objective:\s+\S+\s+=\s+(\S+)/.exec(solution);
    if (!match?.[1]) throw new Error(`no objective in glpsol output:\n${solution}`);
    return Number(match[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the same LP text in glpsol', () => {
  beforeAll(async () => {
    await loadHighs();
  });

  it('builds glpsol arguments', () => {
    expect(glpsolArgs('/tmp/p.lp', { timeLimitSeconds: 2.5, mipRelativeGap: 0.001 })).toEqual([
      '--cpxlp',
      '/tmp/p.lp',
      '--tmlim',
      '3',
      '--mipgap',
      '0.001',
    ]);
  });

  (glpsolAvailable ? it : it.skip)(
    'is accepted by glpsol --cpxlp with the objective HiGHS found (LP and MIP)',
    async () => {
      // A MIP: the negative-price case gets a mode binary.
      const negative: PlanningProblem = {
        ...tiny(),
        importPriceCnyPerKwh: [-0.5, 1],
        allowCurtailment: true,
        batteries: tiny().batteries.map((b) => ({
          ...b,
          initialSocFraction: 0.9,
          socMaxFraction: 1,
        })),
      };
      for (const problem of [tiny(), negative, dayScenario({ batteries: 3 })]) {
        const plan = await planDay(problem);
        expect(plan.status).toBe('optimal');
        const objective = await glpsolObjective(plan.lp);
        // glpsol prints 10 significant digits.
        expect(Math.abs(objective - plan.objective.totalCny)).toBeLessThanOrEqual(
          1e-6 * Math.max(1, Math.abs(objective)),
        );
      }
      expect((await planDay(negative)).binaries).toBeGreaterThan(0);
    },
  );
});
