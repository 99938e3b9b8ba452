import fc from 'fast-check';
import { checkPlan } from './check';
import { loadHighs, planDay, SIMULTANEOUS_THRESHOLD_KW } from './planner';
import type {
  PlanningBattery,
  PlanningFlexibleLoad,
  PlanningGenerator,
  PlanningProblem,
} from './problem';

/**
 * The day-ahead planner on small random feasible problems (issue 10): 3 to 8 intervals, one or
 * two batteries, up to two generators and a flexible load, prices that may go negative (where a
 * plain LP likes to charge and discharge at once). The grid connection always suffices, so no
 * slack is needed. Then the plan is optimal and the independent checker finds nothing: power
 * balance, SOC dynamics, SOC never below its minimum nor above its maximum, no negative stock
 * or power, the end SOC, the flexible energy, and no battery charging and discharging at once.
 */

const SEED = 20_251_015;
const TOLERANCE = 1e-6;

/** Numbers with at most 2 decimals, as a tariff or a forecast would have them. */
const amount = (min: number, max: number) =>
  fc.integer({ min: min * 100, max: max * 100 }).map((n) => n / 100);

function series(n: number, min: number, max: number): fc.Arbitrary<number[]> {
  return fc.array(amount(min, max), { minLength: n, maxLength: n });
}

function batteryArbitrary(index: number): fc.Arbitrary<PlanningBattery> {
  return fc
    .record({
      energyKwh: amount(20, 500),
      chargeRatio: amount(0, 1),
      dischargeRatio: amount(0, 1),
      chargeEfficiency: amount(0.8, 1),
      dischargeEfficiency: amount(0.8, 1),
      socMinFraction: amount(0, 0.3),
      socMaxFraction: amount(0.7, 1),
      initialShare: amount(0, 1),
      endShare: fc.option(amount(0, 1), { nil: undefined }),
      degradationCnyPerMwh: amount(0, 80),
    })
    .map((b) => {
      const initial = b.socMinFraction + (b.socMaxFraction - b.socMinFraction) * b.initialShare;
      return {
        assetId: `bess-${index}`,
        energyKwh: b.energyKwh,
        maxChargeKw: Math.round(b.energyKwh * b.chargeRatio * 100) / 100,
        maxDischargeKw: Math.round(b.energyKwh * b.dischargeRatio * 100) / 100,
        chargeEfficiency: b.chargeEfficiency,
        dischargeEfficiency: b.dischargeEfficiency,
        socMinFraction: b.socMinFraction,
        socMaxFraction: b.socMaxFraction,
        initialSocFraction: initial,
        // Reachable by staying idle: between the minimum and the initial SOC.
        ...(b.endShare !== undefined && {
          endSocMinFraction: b.socMinFraction + (initial - b.socMinFraction) * b.endShare,
        }),
        degradationCnyPerMwh: b.degradationCnyPerMwh,
      };
    });
}

function flexibleArbitrary(n: number, h: number): fc.Arbitrary<PlanningFlexibleLoad[]> {
  return fc.option(
    fc
      .record({
        from: fc.nat({ max: n - 1 }),
        length: fc.integer({ min: 1, max: n }),
        maxKw: amount(0, 200),
        fill: amount(0, 0.9),
      })
      .map(({ from, length, maxKw, fill }) => {
        const windowEnd = Math.min(from + length, n);
        // Servable within the window.
        const energyKwh = Math.floor(maxKw * h * (windowEnd - from) * fill * 100) / 100;
        return [{ loadId: 'flex-1', energyKwh, windowStart: from, windowEnd, maxKw }];
      }),
    { freq: 2, nil: [] },
  );
}

const problemArbitrary: fc.Arbitrary<PlanningProblem> = fc
  .record({
    n: fc.integer({ min: 3, max: 8 }),
    h: fc.constantFrom(0.25, 0.5, 1),
    batteries: fc.integer({ min: 1, max: 2 }),
    generators: fc.integer({ min: 0, max: 2 }),
    allowCurtailment: fc.boolean(),
  })
  .chain(({ n, h, batteries, generators, allowCurtailment }) =>
    fc.record({
      n: fc.constant(n),
      h: fc.constant(h),
      allowCurtailment: fc.constant(allowCurtailment),
      loadKw: series(n, 0, 400),
      importPrice: series(n, -0.5, 1.5),
      exportDiscount: series(n, 0, 0.5),
      carbonPrice: amount(0, 100),
      gridFactor: fc.oneof(amount(0.3, 0.9), series(n, 0.3, 0.9)),
      exportLimit: amount(0, 800),
      curtailmentCost: amount(0, 0.2),
      generators: fc.tuple(
        ...Array.from({ length: generators }, (_, i) =>
          fc.record({
            assetId: fc.constant(`gen-${i}`),
            kind: fc.constantFrom<PlanningGenerator['kind']>('pv', 'wind'),
            availableKw: series(n, 0, 600),
          }),
        ),
      ),
      batteries: fc.tuple(...Array.from({ length: batteries }, (_, i) => batteryArbitrary(i))),
      flexible: flexibleArbitrary(n, h),
    }),
  )
  .map((p): PlanningProblem => {
    const flexibleMax = p.flexible.reduce((s, f) => s + f.maxKw, 0);
    const generationMax = Math.max(
      0,
      ...Array.from({ length: p.n }, (_, t) =>
        p.generators.reduce((s, g) => s + (g.availableKw[t] ?? 0), 0),
      ),
    );
    const dischargeMax = p.batteries.reduce((s, b) => s + b.maxDischargeKw, 0);
    return {
      start: '2025-06-01T00:00:00+08:00',
      intervalHours: p.h,
      // Feed-in never pays more than import costs.
      importPriceCnyPerKwh: p.importPrice,
      exportPriceCnyPerKwh: p.importPrice.map(
        (price, t) => Math.round((price - (p.exportDiscount[t] ?? 0)) * 100) / 100,
      ),
      carbonPriceCnyPerTonne: p.carbonPrice,
      gridFactorKgPerKwh: p.gridFactor,
      // Enough to serve every load from the grid alone.
      importLimitKw: Math.ceil(Math.max(...p.loadKw) + flexibleMax) + 1,
      // Without curtailment, enough to feed in everything the generators and batteries give.
      exportLimitKw: p.allowCurtailment
        ? p.exportLimit
        : Math.ceil(generationMax + dischargeMax) + 1,
      loadKw: p.loadKw,
      generators: p.generators,
      batteries: p.batteries,
      flexibleLoads: p.flexible,
      curtailmentCnyPerKwh: p.curtailmentCost,
      allowCurtailment: p.allowCurtailment,
      timeLimitSeconds: 30,
      mipRelativeGap: 1e-6,
    };
  });

beforeAll(async () => {
  await loadHighs();
});

describe('planDay on small random feasible problems', () => {
  it('is optimal, needs no slack, and the checker finds nothing broken', async () => {
    await fc.assert(
      fc.asyncProperty(problemArbitrary, async (problem) => {
        const result = await planDay(problem);
        expect(result.status).toBe('optimal');
        expect(result.message).toBeUndefined();
        expect(result.violations).toEqual([]);
        expect(checkPlan(problem, result, TOLERANCE)).toEqual([]);

        // The same, said directly: SOC within its limits, nothing negative, one direction only.
        result.intervals.forEach((interval) => {
          expect(interval.importKw).toBeGreaterThanOrEqual(-TOLERANCE);
          expect(interval.exportKw).toBeGreaterThanOrEqual(-TOLERANCE);
          for (const f of interval.flexible) expect(f.kw).toBeGreaterThanOrEqual(-TOLERANCE);
          problem.batteries.forEach((b, i) => {
            const planned = interval.batteries[i]!;
            expect(planned.socKwh).toBeGreaterThanOrEqual(
              b.socMinFraction * b.energyKwh - TOLERANCE,
            );
            expect(planned.socKwh).toBeLessThanOrEqual(b.socMaxFraction * b.energyKwh + TOLERANCE);
            expect(planned.chargeKw).toBeGreaterThanOrEqual(-TOLERANCE);
            expect(planned.dischargeKw).toBeGreaterThanOrEqual(-TOLERANCE);
            expect(
              planned.chargeKw > SIMULTANEOUS_THRESHOLD_KW &&
                planned.dischargeKw > SIMULTANEOUS_THRESHOLD_KW,
            ).toBe(false);
          });
        });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
