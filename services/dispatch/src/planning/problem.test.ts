import {
  endSocMinFraction,
  gridFactorAt,
  intervalStart,
  PlanningProblemError,
  validatePlanningProblem,
  type PlanningProblem,
} from './problem';
import { dayScenario } from './test-support/scenarios';

function issuesOf(problem: PlanningProblem): readonly string[] {
  try {
    validatePlanningProblem(problem);
    return [];
  } catch (error) {
    if (error instanceof PlanningProblemError) return error.issues;
    throw error;
  }
}

describe('validatePlanningProblem', () => {
  it('accepts a well-formed day', () => {
    expect(issuesOf(dayScenario({ batteries: 3 }))).toEqual([]);
  });

  it('names series whose length does not match the interval count', () => {
    const p = dayScenario({ batteries: 1 });
    p.importPriceCnyPerKwh = p.importPriceCnyPerKwh.slice(1);
    p.gridFactorKgPerKwh = [0.5, 0.5];
    const g = p.generators[0];
    if (g) g.availableKw = [...g.availableKw, 1];
    expect(issuesOf(p)).toEqual([
      'importPriceCnyPerKwh has 95 values; expected 96 (one per interval)',
      'gridFactorKgPerKwh has 2 values; expected 96 (one per interval)',
      'generators[0].availableKw has 97 values; expected 96 (one per interval)',
    ]);
  });

  it('checks fractions, efficiencies and the SOC range of each battery', () => {
    const p = dayScenario({ batteries: 2 });
    const [a, b] = p.batteries;
    if (!a || !b) throw new Error('scenario');
    a.socMaxFraction = 1.2;
    a.chargeEfficiency = 0;
    a.dischargeEfficiency = 1.01;
    b.socMinFraction = 0.5;
    b.initialSocFraction = 0.3;
    b.endSocMinFraction = -0.1;
    expect(issuesOf(p)).toEqual([
      'batteries[0].chargeEfficiency must lie in (0, 1] (got 0)',
      'batteries[0].dischargeEfficiency must lie in (0, 1] (got 1.01)',
      'batteries[0].socMaxFraction must lie in [0, 1] (got 1.2)',
      'batteries[1].endSocMinFraction must lie in [0, 1] (got -0.1)',
      'batteries[1].initialSocFraction (0.3) must lie within [socMinFraction, socMaxFraction] = [0.5, 0.95]',
    ]);
  });

  it('checks windows, ids, limits and solver settings', () => {
    const p = dayScenario({ batteries: 1 });
    p.flexibleLoads.push({
      loadId: 'ev-depot',
      energyKwh: 1,
      windowStart: 90,
      windowEnd: 97,
      maxKw: 1,
    });
    p.batteries.push({
      ...(p.batteries[0] as NonNullable<(typeof p.batteries)[0]>),
      assetId: 'wind-1',
    });
    p.importLimitKw = -1;
    p.intervalHours = 0;
    p.timeLimitSeconds = Number.NaN;
    p.start = 'yesterday';
    expect(issuesOf(p)).toEqual([
      'start must be an ISO 8601 timestamp (got yesterday)',
      'intervalHours must be > 0 (got 0)',
      'importLimitKw must be >= 0 (got -1)',
      'timeLimitSeconds must be a finite number (got NaN)',
      "batteries[1].assetId 'wind-1' is used more than once",
      "flexibleLoads[2].loadId 'ev-depot' is used more than once",
      'flexibleLoads[2] window [90, 97) must be integer interval indices with 0 <= windowStart < windowEnd <= 96',
    ]);
  });

  it('rejects an empty horizon', () => {
    const p = { ...dayScenario({ batteries: 0 }), loadKw: [] };
    expect(issuesOf(p)[0]).toBe(
      'loadKw must be a non-empty array (its length is the interval count)',
    );
  });
});

describe('helpers', () => {
  it('broadcasts a single grid factor and defaults the end SOC to the initial SOC', () => {
    const p = { ...dayScenario({ batteries: 1 }), gridFactorKgPerKwh: 0.55 };
    expect(gridFactorAt(p, 0)).toBe(0.55);
    expect(gridFactorAt(p, 95)).toBe(0.55);
    const [b] = p.batteries;
    expect(b && endSocMinFraction(b)).toBe(0.3);
    expect(b && endSocMinFraction({ ...b, endSocMinFraction: 0.2 })).toBe(0.2);
  });

  it('dates intervals from the start', () => {
    const p = dayScenario({ batteries: 0 });
    expect(intervalStart(p, 0)).toBe('2025-05-31T16:00:00.000Z');
    expect(intervalStart(p, 95)).toBe('2025-06-01T15:45:00.000Z');
  });
});
