// An independent check of a plan against the physics of its problem, computed from the result's
// numbers alone (never from the LP text or the solver): the power balance, generation limits,
// SOC dynamics and limits, the end SOC, import and export limits, battery and flexible-load power
// limits, flexible energy, and no battery charging and discharging in the same interval.
//
// A gap the planner declared as a violation (unserved load, surplus, end SOC or flexible
// shortfall) is accepted when its declared size matches the gap; anything else is reported.
import type { PlanResult } from './planner';
import { endSocMinFraction, intervalCount, type PlanningProblem } from './problem';

export interface BrokenConstraint {
  /** Which rule: 'power_balance', 'soc_dynamics', 'soc_limits', ... */
  constraint: string;
  interval?: number;
  assetId?: string;
  loadId?: string;
  /** By how much it is broken (kW or kWh, per the rule). */
  excess: number;
  message: string;
}

/** Lists every constraint the plan breaks by more than `tolerance` (absolute, kW or kWh). */
export function checkPlan(
  problem: PlanningProblem,
  result: PlanResult,
  tolerance = 1e-6,
): BrokenConstraint[] {
  const broken: BrokenConstraint[] = [];
  const report = (b: BrokenConstraint) => broken.push(b);
  const n = intervalCount(problem);
  const h = problem.intervalHours;

  if (result.intervals.length !== n) {
    report({
      constraint: 'interval_count',
      excess: Math.abs(result.intervals.length - n),
      message: `the plan has ${result.intervals.length} intervals; the problem has ${n}`,
    });
    return broken;
  }

  const declaredAt = (prefix: string, t: number) =>
    result.violations
      .filter((v) => v.interval === t && v.name.startsWith(prefix))
      .reduce((s, v) => s + v.sizeKwh, 0);
  const above = (x: number, limit: number) => x > limit + tolerance;
  const negative = (x: number) => x < -tolerance;

  const soc = problem.batteries.map((b) => b.initialSocFraction * b.energyKwh);
  const flexibleEnergy = problem.flexibleLoads.map(() => 0);

  result.intervals.forEach((iv, t) => {
    // Grid connection.
    if (negative(iv.importKw) || above(iv.importKw, problem.importLimitKw)) {
      report({
        constraint: 'import_limit',
        interval: t,
        excess: Math.max(-iv.importKw, iv.importKw - problem.importLimitKw),
        message: `import ${iv.importKw} kW outside [0, ${problem.importLimitKw}] at interval ${t}`,
      });
    }
    if (negative(iv.exportKw) || above(iv.exportKw, problem.exportLimitKw)) {
      report({
        constraint: 'export_limit',
        interval: t,
        excess: Math.max(-iv.exportKw, iv.exportKw - problem.exportLimitKw),
        message: `export ${iv.exportKw} kW outside [0, ${problem.exportLimitKw}] at interval ${t}`,
      });
    }

    // Generation: used + curtailed = available, both >= 0, no curtailment unless allowed.
    let generationKw = 0;
    problem.generators.forEach((g) => {
      const planned = iv.generation.find((x) => x.assetId === g.assetId);
      const used = planned?.usedKw ?? 0;
      const curtailed = planned?.curtailedKw ?? 0;
      const available = g.availableKw[t] ?? 0;
      generationKw += used;
      const gap = Math.abs(used + curtailed - available);
      if (!planned || gap > tolerance || negative(used) || negative(curtailed)) {
        report({
          constraint: 'generation',
          interval: t,
          assetId: g.assetId,
          excess: Math.max(gap, -used, -curtailed),
          message: `${g.assetId}: used ${used} + curtailed ${curtailed} kW vs available ${available} kW at interval ${t}`,
        });
      }
      if (!problem.allowCurtailment && curtailed > tolerance) {
        report({
          constraint: 'curtailment_not_allowed',
          interval: t,
          assetId: g.assetId,
          excess: curtailed,
          message: `${g.assetId} curtails ${curtailed} kW at interval ${t} although curtailment is not allowed`,
        });
      }
    });

    // Batteries: power limits, no simultaneous charge and discharge, SOC dynamics and limits.
    let chargeKw = 0;
    let dischargeKw = 0;
    problem.batteries.forEach((b, i) => {
      const planned = iv.batteries.find((x) => x.assetId === b.assetId);
      if (!planned) {
        report({
          constraint: 'battery_missing',
          interval: t,
          assetId: b.assetId,
          excess: 0,
          message: `${b.assetId} missing at interval ${t}`,
        });
        return;
      }
      const { chargeKw: c, dischargeKw: d, socKwh } = planned;
      chargeKw += c;
      dischargeKw += d;
      if (negative(c) || above(c, b.maxChargeKw)) {
        report({
          constraint: 'charge_limit',
          interval: t,
          assetId: b.assetId,
          excess: Math.max(-c, c - b.maxChargeKw),
          message: `${b.assetId} charges ${c} kW outside [0, ${b.maxChargeKw}] at interval ${t}`,
        });
      }
      if (negative(d) || above(d, b.maxDischargeKw)) {
        report({
          constraint: 'discharge_limit',
          interval: t,
          assetId: b.assetId,
          excess: Math.max(-d, d - b.maxDischargeKw),
          message: `${b.assetId} discharges ${d} kW outside [0, ${b.maxDischargeKw}] at interval ${t}`,
        });
      }
      if (c > tolerance && d > tolerance) {
        report({
          constraint: 'simultaneous_charge_discharge',
          interval: t,
          assetId: b.assetId,
          excess: Math.min(c, d),
          message: `${b.assetId} charges ${c} kW and discharges ${d} kW at interval ${t}`,
        });
      }
      const previous = soc[i] ?? 0;
      const expected = previous + c * b.chargeEfficiency * h - (d / b.dischargeEfficiency) * h;
      if (Math.abs(socKwh - expected) > tolerance) {
        report({
          constraint: 'soc_dynamics',
          interval: t,
          assetId: b.assetId,
          excess: Math.abs(socKwh - expected),
          message: `${b.assetId}: SOC ${socKwh} kWh at the end of interval ${t}; ${previous} + ${c} x ${b.chargeEfficiency} x ${h} - ${d} / ${b.dischargeEfficiency} x ${h} = ${expected}`,
        });
      }
      const min = b.socMinFraction * b.energyKwh;
      const max = b.socMaxFraction * b.energyKwh;
      if (socKwh < min - tolerance || socKwh > max + tolerance) {
        report({
          constraint: 'soc_limits',
          interval: t,
          assetId: b.assetId,
          excess: Math.max(min - socKwh, socKwh - max),
          message: `${b.assetId}: SOC ${socKwh} kWh outside [${min}, ${max}] at interval ${t}`,
        });
      }
      soc[i] = socKwh;
    });

    // Flexible loads: within [0, maxKw] inside the window, 0 outside.
    let flexibleKw = 0;
    problem.flexibleLoads.forEach((f, i) => {
      const kw = iv.flexible.find((x) => x.loadId === f.loadId)?.kw ?? 0;
      flexibleKw += kw;
      flexibleEnergy[i] = (flexibleEnergy[i] ?? 0) + kw * h;
      const inWindow = t >= f.windowStart && t < f.windowEnd;
      const limit = inWindow ? f.maxKw : 0;
      if (negative(kw) || kw > limit + tolerance) {
        report({
          constraint: 'flexible_power',
          interval: t,
          loadId: f.loadId,
          excess: Math.max(-kw, kw - limit),
          message: `${f.loadId} draws ${kw} kW at interval ${t}; allowed [0, ${limit}]`,
        });
      }
    });

    // Power balance, closed only by declared unserved load or surplus.
    const residualKw =
      generationKw +
      iv.importKw +
      dischargeKw -
      (problem.loadKw[t] ?? 0) -
      flexibleKw -
      chargeKw -
      iv.exportKw;
    const declaredKw = (declaredAt('surplus_', t) - declaredAt('unserved_load_', t)) / h;
    if (Math.abs(residualKw - declaredKw) > tolerance) {
      report({
        constraint: 'power_balance',
        interval: t,
        excess: Math.abs(residualKw - declaredKw),
        message: `supply minus demand is ${residualKw} kW at interval ${t}; declared surplus minus unserved load is ${declaredKw} kW`,
      });
    }
  });

  // End of horizon.
  problem.batteries.forEach((b, i) => {
    const target = endSocMinFraction(b) * b.energyKwh;
    const end = soc[i] ?? 0;
    const declaredShortfall = result.violations
      .filter((v) => v.assetId === b.assetId && v.name.startsWith('end_soc_shortfall_'))
      .reduce((s, v) => s + v.sizeKwh, 0);
    if (end + declaredShortfall < target - tolerance) {
      report({
        constraint: 'end_soc',
        assetId: b.assetId,
        excess: target - end - declaredShortfall,
        message: `${b.assetId} ends at ${end} kWh; the minimum is ${target} kWh (declared shortfall ${declaredShortfall} kWh)`,
      });
    }
  });

  // Flexible energy within the window, short only by the declared shortfall.
  problem.flexibleLoads.forEach((f, i) => {
    const served = flexibleEnergy[i] ?? 0;
    const declaredShortfall = result.violations
      .filter((v) => v.loadId === f.loadId && v.name.startsWith('flexible_shortfall_'))
      .reduce((s, v) => s + v.sizeKwh, 0);
    if (Math.abs(served + declaredShortfall - f.energyKwh) > tolerance) {
      report({
        constraint: 'flexible_energy',
        loadId: f.loadId,
        excess: Math.abs(served + declaredShortfall - f.energyKwh),
        message: `${f.loadId} is served ${served} kWh (+ declared shortfall ${declaredShortfall}); it needs ${f.energyKwh} kWh`,
      });
    }
  });

  return broken;
}
