import { planDay, validatePlanningProblem } from '@park/dispatch';
import {
  dispatchBenchProblem,
  parseBatteryCounts,
  parseGlpsolOutput,
  parseGlpsolSolution,
} from './dispatch';

const settings = { seed: 1, timeLimitSeconds: 10, mipRelativeGap: 0.001 };

describe('the synthetic dispatch problems', () => {
  it('are valid and the same for the same seed', () => {
    const problem = dispatchBenchProblem({ batteries: 20, ...settings });
    expect(() => validatePlanningProblem(problem)).not.toThrow();
    expect(problem.loadKw).toHaveLength(96);
    expect(dispatchBenchProblem({ batteries: 20, ...settings })).toEqual(problem);
    expect(dispatchBenchProblem({ batteries: 20, ...settings, seed: 2 })).not.toEqual(problem);
    // Battery i is the same whatever the number of batteries.
    expect(dispatchBenchProblem({ batteries: 3, ...settings }).batteries).toEqual(
      problem.batteries.slice(0, 3),
    );
    expect(new Set(problem.batteries.map((b) => b.energyKwh)).size).toBe(20);
    expect(problem.importPriceCnyPerKwh.filter((price) => price < 0)).toHaveLength(4);
  });

  it('make the relaxation charge and discharge at once, so the planner adds binaries', async () => {
    const problem = dispatchBenchProblem({ batteries: 3, ...settings });
    const lp = await planDay(problem, { maxMipRounds: 0 });
    const simultaneous = lp.intervals.flatMap((interval) =>
      interval.batteries.filter((b) => b.chargeKw > 1e-6 && b.dischargeKw > 1e-6),
    );
    expect(simultaneous.length).toBeGreaterThan(0);
    const plan = await planDay(problem);
    expect(plan.status).toBe('optimal');
    expect(plan.binaries).toBeGreaterThan(0);
    expect(plan.objective.totalCny).toBeGreaterThanOrEqual(lp.objective.totalCny - 1e-6);
  });
});

describe('--batteries', () => {
  it('takes a comma-separated list of counts', () => {
    expect(parseBatteryCounts('3,20,100')).toEqual([3, 20, 100]);
    expect(parseBatteryCounts(' 5 , 5')).toEqual([5]);
    expect(() => parseBatteryCounts('3,,20')).toThrow(/comma-separated/);
    expect(() => parseBatteryCounts('0')).toThrow(/1\.\.1000/);
  });
});

describe("glpsol's output", () => {
  it('gives the status and the gap of the last branch-and-bound line', () => {
    const stdout = [
      '*   619: obj =   2.091980127e+04 inf =   2.827e-13 (0) 2',
      'OPTIMAL LP SOLUTION FOUND',
      'Integer optimization begins...',
      '+   619: mip =     not found yet >=              -inf        (1; 0)',
      '+   699: mip =   2.000000000e+04 >=   1.990000000e+04   0.5% (33; 7)',
      'TIME LIMIT EXCEEDED; SEARCH TERMINATED',
      'Time used:   10.0 secs',
    ].join('\n');
    const parsed = parseGlpsolOutput(stdout);
    expect(parsed).toMatchObject({
      status: 'time_limit',
      statusLine: 'TIME LIMIT EXCEEDED; SEARCH TERMINATED',
    });
    expect(parsed.mipGap).toBeCloseTo(0.005, 12);
    expect(parseGlpsolOutput('OPTIMAL LP SOLUTION FOUND\nTime used: 0.0 secs\n')).toEqual({
      status: 'optimal',
      statusLine: 'OPTIMAL LP SOLUTION FOUND',
    });
    expect(parseGlpsolOutput('LP HAS NO PRIMAL FEASIBLE SOLUTION').status).toBe('infeasible');
    expect(parseGlpsolOutput('RELATIVE MIP GAP TOLERANCE REACHED; SEARCH TERMINATED').status).toBe(
      'gap_reached',
    );
  });

  it('gives the objective of a --write solution when there is a feasible one', () => {
    expect(parseGlpsolSolution('c Problem:\nc\ns bas 2230 6598 f f 16125.3447161995\n')).toBe(
      16125.3447161995,
    );
    expect(parseGlpsolSolution('s mip 653 1721 o 20925.0255923802\n')).toBe(20925.0255923802);
    expect(parseGlpsolSolution('s mip 653 1721 n 0\n')).toBeUndefined();
    expect(parseGlpsolSolution('')).toBeUndefined();
  });
});
