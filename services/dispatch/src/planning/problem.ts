// The input of the day-ahead planner: one horizon of equal intervals, the grid connection, the
// tariffs and carbon price, inflexible load, renewable generators, batteries and flexible loads.
//
// Units throughout: power kW, energy kWh, interval length in hours (0.25 for 15 min), prices
// CNY/kWh, carbon price CNY/t, grid factor kgCO2/kWh, battery degradation CNY/MWh of discharged
// energy. The planner works in floating point: it is an optimiser, not a ledger.

export type GeneratorKind = 'pv' | 'wind';

export interface PlanningGenerator {
  assetId: string;
  kind: GeneratorKind;
  /** Forecast available power per interval (kW, >= 0). */
  availableKw: number[];
}

export interface PlanningBattery {
  assetId: string;
  /** Usable capacity (kWh, > 0); the SOC fractions below refer to it. */
  energyKwh: number;
  maxChargeKw: number;
  maxDischargeKw: number;
  /** Share of the charging power that reaches the cells, in (0, 1]. */
  chargeEfficiency: number;
  /** Delivered power per unit of stored energy drawn, in (0, 1]. */
  dischargeEfficiency: number;
  socMinFraction: number;
  socMaxFraction: number;
  /** SOC at the start of the horizon; must lie within [socMinFraction, socMaxFraction]. */
  initialSocFraction: number;
  /** Minimum SOC at the end of the horizon; defaults to the initial SOC. */
  endSocMinFraction?: number;
  /** Wear cost per MWh discharged (CNY/MWh, >= 0). */
  degradationCnyPerMwh: number;
}

export interface PlanningFlexibleLoad {
  loadId: string;
  /** Energy that must be served within the window (kWh, >= 0). */
  energyKwh: number;
  /** First interval index of the window (inclusive). */
  windowStart: number;
  /** Interval index where the window ends (exclusive). */
  windowEnd: number;
  maxKw: number;
}

export interface PlanningProblem {
  /** Start of the first interval, ISO 8601. */
  start: string;
  intervalHours: number;
  importPriceCnyPerKwh: number[];
  exportPriceCnyPerKwh: number[];
  carbonPriceCnyPerTonne: number;
  /** Grid emission factor per interval, or one value for every interval (kgCO2/kWh). */
  gridFactorKgPerKwh: number | number[];
  importLimitKw: number;
  exportLimitKw: number;
  /** Inflexible load per interval (kW); its length is the interval count. */
  loadKw: number[];
  generators: PlanningGenerator[];
  batteries: PlanningBattery[];
  flexibleLoads: PlanningFlexibleLoad[];
  /** Cost of each curtailed kWh (CNY/kWh, >= 0). */
  curtailmentCnyPerKwh: number;
  /** When false, generators must feed in everything available (curtailment fixed to 0). */
  allowCurtailment: boolean;
  /** Wall-clock budget for all solver rounds together (s, > 0). */
  timeLimitSeconds: number;
  /** Relative MIP gap at which a mixed-integer round may stop (>= 0). */
  mipRelativeGap: number;
}

/** Raised by validatePlanningProblem with every problem found, not just the first. */
export class PlanningProblemError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid planning problem: ${issues.join('; ')}`);
    this.name = 'PlanningProblemError';
  }
}

/** The number of intervals in the horizon: the length of loadKw. */
export function intervalCount(problem: PlanningProblem): number {
  return problem.loadKw.length;
}

/** The grid emission factor of interval t (kgCO2/kWh), broadcasting a single value. */
export function gridFactorAt(problem: PlanningProblem, t: number): number {
  const f = problem.gridFactorKgPerKwh;
  return typeof f === 'number' ? f : (f[t] ?? Number.NaN);
}

/** The minimum end-of-horizon SOC fraction of a battery (defaults to its initial SOC). */
export function endSocMinFraction(battery: PlanningBattery): number {
  return battery.endSocMinFraction ?? battery.initialSocFraction;
}

/** ISO timestamp of the start of interval t. */
export function intervalStart(problem: PlanningProblem, t: number): string {
  return new Date(Date.parse(problem.start) + t * problem.intervalHours * 3_600_000).toISOString();
}

/** Largest magnitude accepted for any number, so that the LP text never needs an exponent. */
const MAX_MAGNITUDE = 1e12;

/** Checks a problem and throws PlanningProblemError listing everything wrong with it. */
export function validatePlanningProblem(problem: PlanningProblem): void {
  const issues: string[] = [];
  const finite = (what: string, x: unknown): x is number => {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      issues.push(`${what} must be a finite number (got ${String(x)})`);
      return false;
    }
    if (Math.abs(x) > MAX_MAGNITUDE) {
      issues.push(`${what} must not exceed ${MAX_MAGNITUDE} in magnitude (got ${x})`);
      return false;
    }
    return true;
  };
  const nonNegative = (what: string, x: unknown) => {
    if (finite(what, x) && x < 0) issues.push(`${what} must be >= 0 (got ${x})`);
  };
  const positive = (what: string, x: unknown) => {
    if (finite(what, x) && x <= 0) issues.push(`${what} must be > 0 (got ${x})`);
  };
  const fraction = (what: string, x: unknown) => {
    if (finite(what, x) && (x < 0 || x > 1)) issues.push(`${what} must lie in [0, 1] (got ${x})`);
  };
  const efficiency = (what: string, x: unknown) => {
    if (finite(what, x) && (x <= 0 || x > 1)) issues.push(`${what} must lie in (0, 1] (got ${x})`);
  };

  const n = Array.isArray(problem.loadKw) ? problem.loadKw.length : 0;
  if (!Array.isArray(problem.loadKw) || n === 0) {
    issues.push('loadKw must be a non-empty array (its length is the interval count)');
  }
  const series = (what: string, xs: unknown, check: (what: string, x: unknown) => void) => {
    if (!Array.isArray(xs)) {
      issues.push(`${what} must be an array of ${n} values (one per interval)`);
      return;
    }
    if (xs.length !== n) {
      issues.push(`${what} has ${xs.length} values; expected ${n} (one per interval)`);
    }
    xs.forEach((x, t) => check(`${what}[${t}]`, x));
  };

  if (typeof problem.start !== 'string' || Number.isNaN(Date.parse(problem.start))) {
    issues.push(`start must be an ISO 8601 timestamp (got ${String(problem.start)})`);
  }
  positive('intervalHours', problem.intervalHours);
  series('loadKw', problem.loadKw, nonNegative);
  series('importPriceCnyPerKwh', problem.importPriceCnyPerKwh, finite);
  series('exportPriceCnyPerKwh', problem.exportPriceCnyPerKwh, finite);
  nonNegative('carbonPriceCnyPerTonne', problem.carbonPriceCnyPerTonne);
  if (typeof problem.gridFactorKgPerKwh === 'number') {
    nonNegative('gridFactorKgPerKwh', problem.gridFactorKgPerKwh);
  } else {
    series('gridFactorKgPerKwh', problem.gridFactorKgPerKwh, nonNegative);
  }
  nonNegative('importLimitKw', problem.importLimitKw);
  nonNegative('exportLimitKw', problem.exportLimitKw);
  nonNegative('curtailmentCnyPerKwh', problem.curtailmentCnyPerKwh);
  if (typeof problem.allowCurtailment !== 'boolean')
    issues.push('allowCurtailment must be a boolean');
  positive('timeLimitSeconds', problem.timeLimitSeconds);
  nonNegative('mipRelativeGap', problem.mipRelativeGap);

  const assetIds = new Set<string>();
  const uniqueId = (what: string, id: unknown, seen: Set<string>) => {
    if (typeof id !== 'string' || id.length === 0) {
      issues.push(`${what} must be a non-empty string`);
      return;
    }
    if (seen.has(id)) issues.push(`${what} '${id}' is used more than once`);
    seen.add(id);
  };

  if (!Array.isArray(problem.generators)) issues.push('generators must be an array');
  (problem.generators ?? []).forEach((g, i) => {
    const at = `generators[${i}]`;
    uniqueId(`${at}.assetId`, g.assetId, assetIds);
    if (g.kind !== 'pv' && g.kind !== 'wind') {
      issues.push(`${at}.kind must be 'pv' or 'wind' (got ${String(g.kind)})`);
    }
    series(`${at}.availableKw`, g.availableKw, nonNegative);
  });

  if (!Array.isArray(problem.batteries)) issues.push('batteries must be an array');
  (problem.batteries ?? []).forEach((b, i) => {
    const at = `batteries[${i}]`;
    uniqueId(`${at}.assetId`, b.assetId, assetIds);
    positive(`${at}.energyKwh`, b.energyKwh);
    nonNegative(`${at}.maxChargeKw`, b.maxChargeKw);
    nonNegative(`${at}.maxDischargeKw`, b.maxDischargeKw);
    efficiency(`${at}.chargeEfficiency`, b.chargeEfficiency);
    efficiency(`${at}.dischargeEfficiency`, b.dischargeEfficiency);
    fraction(`${at}.socMinFraction`, b.socMinFraction);
    fraction(`${at}.socMaxFraction`, b.socMaxFraction);
    fraction(`${at}.initialSocFraction`, b.initialSocFraction);
    if (b.endSocMinFraction !== undefined) fraction(`${at}.endSocMinFraction`, b.endSocMinFraction);
    nonNegative(`${at}.degradationCnyPerMwh`, b.degradationCnyPerMwh);
    if (b.socMinFraction > b.socMaxFraction) {
      issues.push(
        `${at}.socMinFraction (${b.socMinFraction}) must not exceed socMaxFraction (${b.socMaxFraction})`,
      );
    } else if (b.initialSocFraction < b.socMinFraction || b.initialSocFraction > b.socMaxFraction) {
      issues.push(
        `${at}.initialSocFraction (${b.initialSocFraction}) must lie within [socMinFraction, socMaxFraction] = [${b.socMinFraction}, ${b.socMaxFraction}]`,
      );
    }
  });

  if (!Array.isArray(problem.flexibleLoads)) issues.push('flexibleLoads must be an array');
  const loadIds = new Set<string>();
  (problem.flexibleLoads ?? []).forEach((f, i) => {
    const at = `flexibleLoads[${i}]`;
    uniqueId(`${at}.loadId`, f.loadId, loadIds);
    nonNegative(`${at}.energyKwh`, f.energyKwh);
    nonNegative(`${at}.maxKw`, f.maxKw);
    const windowOk =
      Number.isInteger(f.windowStart) &&
      Number.isInteger(f.windowEnd) &&
      f.windowStart >= 0 &&
      f.windowStart < f.windowEnd &&
      f.windowEnd <= n;
    if (!windowOk) {
      issues.push(
        `${at} window [${String(f.windowStart)}, ${String(f.windowEnd)}) must be integer interval indices with 0 <= windowStart < windowEnd <= ${n}`,
      );
    }
  });

  if (issues.length > 0) throw new PlanningProblemError(issues);
}
