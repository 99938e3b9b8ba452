// Day-ahead planning with HiGHS: solve the LP; where a battery would charge and discharge in the
// same interval, give just those (battery, interval) pairs a binary mode and re-solve as a MIP;
// repeat until no pair is left (bounded). The result is read back by variable name.
import highsLoader, { type Highs } from 'highs';
import { buildLpModel, PENALTY_CNY_PER_KWH, type LpModel, type ModeBinary } from './lp-model';
import {
  gridFactorAt,
  intervalCount,
  intervalStart,
  validatePlanningProblem,
  type PlanningProblem,
} from './problem';

export type PlanStatus = 'optimal' | 'time_limit' | 'infeasible' | 'error';

/** The objective split into its parts (CNY); totalCny is their sum. */
export interface PlanObjective {
  totalCny: number;
  /** Import cost minus export revenue. */
  energyCny: number;
  /** Imported kWh x grid factor / 1000 x carbon price. */
  carbonCny: number;
  /** Discharged kWh / 1000 x degradation cost. */
  batteryWearCny: number;
  curtailmentCny: number;
  /** Penalties on the slack variables (see PENALTY_CNY_PER_KWH and `violations`). */
  penaltyCny: number;
}

export interface PlannedInterval {
  start: string;
  importKw: number;
  exportKw: number;
  /** Imported kWh x grid factor (kgCO2); exports earn no credit. */
  emissionsKg: number;
  /**
   * Share of on-site consumption (inflexible load + flexible load + battery charging) covered by
   * on-site renewables used in the interval: min(1, sum usedKw / consumption); 0 when nothing is
   * consumed. Renewables are taken to serve on-site consumption before any export. Battery
   * discharge does not count as renewable: the energy was counted when it was charged.
   */
  renewableShare: number;
  generation: { assetId: string; usedKw: number; curtailedKw: number }[];
  /** socKwh is the stored energy at the END of the interval. */
  batteries: { assetId: string; chargeKw: number; dischargeKw: number; socKwh: number }[];
  /** Every flexible load, 0 outside its window. */
  flexible: { loadId: string; kw: number }[];
}

/** A slack variable in use: a constraint the plan could not meet, named and sized. */
export interface PlanViolation {
  /** The slack variable's name in the LP, e.g. `unserved_load_t012`. */
  name: string;
  /** What it means, for people. */
  constraint: string;
  interval?: number;
  assetId?: string;
  loadId?: string;
  sizeKwh: number;
}

export interface PlanResult {
  status: PlanStatus;
  /** Relative MIP gap of the final solve, when it was mixed-integer. */
  mipGap?: number;
  /** Number of mode binaries in the final model. */
  binaries: number;
  /** The (battery, interval) pairs that got a mode binary. */
  modeBinaries: { assetId: string; interval: number }[];
  /** Solver runs: 1 for the LP, plus one per mixed-integer round. */
  rounds: number;
  objective: PlanObjective;
  intervals: PlannedInterval[];
  violations: PlanViolation[];
  /** Why the plan is not a clean optimum, when it is not (time limit, rounds exhausted, ...). */
  message?: string;
  /** Wall-clock time of model building and all solver runs (not loading HiGHS), ms. */
  solveMs: number;
  /** The LP text of the final model (the one whose solution this is). */
  lp: string;
}

export interface PlanOptions {
  /**
   * Mixed-integer rounds allowed after the LP (default 5; 0 = return the LP solution as is).
   * The last allowed round gives every interval of the batteries concerned a binary.
   */
  maxMipRounds?: number;
}

/** Charge and discharge both above this (kW) in one interval count as simultaneous. */
export const SIMULTANEOUS_THRESHOLD_KW = 1e-6;
/** Slack values above this count as violations. */
export const VIOLATION_THRESHOLD = 1e-6;
/** Solver values smaller than this in magnitude are reported as 0. */
const ZERO_CLEANUP = 1e-9;
const DEFAULT_MAX_MIP_ROUNDS = 5;

let highsRuntime: Promise<Highs> | undefined;

/** The HiGHS runtime, loaded once per process. */
export function loadHighs(): Promise<Highs> {
  if (!highsRuntime) {
    highsRuntime = highsLoader().catch((error: unknown) => {
      highsRuntime = undefined;
      throw error;
    });
  }
  return highsRuntime;
}

interface SolveOutcome {
  status: PlanStatus;
  highsStatus: string;
  /** Column values by name, when HiGHS has a feasible primal solution. */
  values?: Map<string, number>;
  mipGap?: number;
}

function solveOnce(
  highs: Highs,
  text: string,
  options: Readonly<Record<string, number | boolean | string>>,
  mixedInteger: boolean,
): SolveOutcome {
  const codes = highs.constants.modelStatus;
  const model = highs.createModel({ format: 'lp', data: text });
  try {
    model.options.set(options);
    const { modelStatus } = model.run();
    const highsStatus =
      Object.entries(codes).find(([, code]) => code === modelStatus)?.[0] ?? `${modelStatus}`;
    const status: PlanStatus =
      modelStatus === codes.optimal
        ? 'optimal'
        : modelStatus === codes.timeLimit
          ? 'time_limit'
          : modelStatus === codes.infeasible || modelStatus === codes.unboundedOrInfeasible
            ? 'infeasible'
            : 'error';
    const feasible =
      Number(model.info.get('primal_solution_status')) === highs.constants.solutionStatus.feasible;
    if (!feasible || status === 'infeasible' || status === 'error') return { status, highsStatus };
    const { colValue } = model.getSolution();
    const values = new Map<string, number>();
    const { numCols } = model.getDimensions();
    for (let i = 0; i < numCols; i += 1) {
      const x = colValue[i] ?? 0;
      values.set(model.getColName(i), Math.abs(x) < ZERO_CLEANUP ? 0 : x);
    }
    const outcome: SolveOutcome = { status, highsStatus, values };
    if (mixedInteger) {
      const gap = Number(model.info.get('mip_gap'));
      if (Number.isFinite(gap)) outcome.mipGap = gap;
    }
    return outcome;
  } finally {
    model.dispose();
  }
}

/** (battery, interval) pairs where the solution charges and discharges at once. */
/** The run of neighbouring intervals around `t` with t's import and export prices: [from, to]. */
function samePriceRun(problem: PlanningProblem, t: number): [number, number] {
  const same = (u: number) =>
    problem.importPriceCnyPerKwh[u] === problem.importPriceCnyPerKwh[t] &&
    problem.exportPriceCnyPerKwh[u] === problem.exportPriceCnyPerKwh[t];
  let from = t;
  let to = t;
  while (from > 0 && same(from - 1)) from -= 1;
  while (to < problem.importPriceCnyPerKwh.length - 1 && same(to + 1)) to += 1;
  return [from, to];
}

function simultaneousPairs(model: LpModel, values: ReadonlyMap<string, number>): ModeBinary[] {
  const pairs: ModeBinary[] = [];
  model.names.batteries.forEach((b, batteryIndex) => {
    b.charge.forEach((chargeName, interval) => {
      const discharge = b.discharge[interval];
      if (discharge === undefined) return;
      if (
        (values.get(chargeName) ?? 0) > SIMULTANEOUS_THRESHOLD_KW &&
        (values.get(discharge) ?? 0) > SIMULTANEOUS_THRESHOLD_KW
      ) {
        pairs.push({ batteryIndex, interval });
      }
    });
  });
  return pairs;
}

/**
 * Plans the horizon. Throws PlanningProblemError for an invalid problem; everything else (time
 * limit, solver trouble, impossible constraints) comes back in the result.
 */
export async function planDay(
  problem: PlanningProblem,
  options: PlanOptions = {},
): Promise<PlanResult> {
  validatePlanningProblem(problem);
  const highs = await loadHighs();
  const started = performance.now();
  const maxMipRounds = Math.max(0, Math.floor(options.maxMipRounds ?? DEFAULT_MAX_MIP_ROUNDS));
  const n = intervalCount(problem);

  const modes: ModeBinary[] = [];
  const modeKeys = new Set<string>();
  const addMode = (m: ModeBinary) => {
    const key = `${m.batteryIndex}:${m.interval}`;
    if (modeKeys.has(key)) return false;
    modeKeys.add(key);
    modes.push(m);
    return true;
  };

  let rounds = 0;
  let accepted:
    { model: LpModel; outcome: SolveOutcome & { values: Map<string, number> } } | undefined;
  let status: PlanStatus;
  let message: string | undefined;
  let lastModel: LpModel | undefined;

  while (true) {
    const remaining = problem.timeLimitSeconds - (performance.now() - started) / 1000;
    if (rounds > 0 && remaining <= 0) {
      status = 'time_limit';
      message = `time limit reached before mixed-integer round ${rounds}; the plan is round ${rounds}'s solution, which charges and discharges a battery at once`;
      break;
    }
    const model = buildLpModel(problem, { modeBinaries: modes });
    lastModel = model;
    const mixedInteger = model.modeBinaries.length > 0;
    const solverOptions: Record<string, number | boolean | string> = {
      output_flag: false,
      time_limit: Math.max(remaining, 1e-3),
      random_seed: 0,
    };
    if (mixedInteger) solverOptions.mip_rel_gap = problem.mipRelativeGap;
    const outcome = solveOnce(highs, model.text, solverOptions, mixedInteger);
    rounds += 1;

    if (!outcome.values) {
      status = outcome.status === 'optimal' ? 'error' : outcome.status;
      if (accepted) {
        message = `round ${rounds} ended with HiGHS status '${outcome.highsStatus}' and no solution; the plan is round ${rounds - 1}'s solution, which charges and discharges a battery at once`;
      } else {
        message = `HiGHS status '${outcome.highsStatus}' without a solution`;
      }
      break;
    }
    accepted = { model, outcome: { ...outcome, values: outcome.values } };
    status = outcome.status;
    if (outcome.status !== 'optimal') {
      message = `HiGHS status '${outcome.highsStatus}': the best solution found is returned`;
      break;
    }

    const pairs = simultaneousPairs(model, outcome.values).filter(
      (p) => !modeKeys.has(`${p.batteryIndex}:${p.interval}`),
    );
    if (pairs.length === 0) break;
    const mipRoundsDone = rounds - 1;
    if (mipRoundsDone >= maxMipRounds) {
      message = `${pairs.length} (battery, interval) pairs charge and discharge at once after ${mipRoundsDone} mixed-integer rounds (limit ${maxMipRounds})`;
      break;
    }
    if (mipRoundsDone === maxMipRounds - 1 && maxMipRounds >= 2) {
      // Last round: close the question for the batteries concerned, every interval.
      const concerned = [...new Set(pairs.map((p) => p.batteryIndex))];
      for (const batteryIndex of concerned) {
        for (let interval = 0; interval < n; interval += 1) addMode({ batteryIndex, interval });
      }
    } else {
      // At a price of zero or below, the LP's reason to run a battery both ways (energy that pays
      // to be burnt) holds across the whole run of intervals with that price, and moves to the
      // next interval of the run when one is closed: close the run at once, saving a solve per
      // interval. Elsewhere (a local surplus) only the interval itself.
      for (const pair of pairs) {
        const [from, to] =
          (problem.importPriceCnyPerKwh[pair.interval] ?? 0) <= 0
            ? samePriceRun(problem, pair.interval)
            : [pair.interval, pair.interval];
        for (let interval = from; interval <= to; interval += 1) {
          addMode({ batteryIndex: pair.batteryIndex, interval });
        }
      }
    }
  }

  const solveMs = performance.now() - started;
  if (!accepted) {
    return {
      status,
      binaries: lastModel?.modeBinaries.length ?? 0,
      modeBinaries: describeModes(problem, lastModel),
      rounds,
      objective: {
        totalCny: 0,
        energyCny: 0,
        carbonCny: 0,
        batteryWearCny: 0,
        curtailmentCny: 0,
        penaltyCny: 0,
      },
      intervals: [],
      violations: [],
      ...(message === undefined ? {} : { message }),
      solveMs,
      lp: lastModel?.text ?? '',
    };
  }
  const { model, outcome } = accepted;
  const left = simultaneousPairs(model, outcome.values).length;
  if (left > 0 && message !== undefined && !message.includes('at once')) {
    message = `${message}; ${left} (battery, interval) pairs charge and discharge at once`;
  }
  const result = readPlan(problem, model, outcome.values);
  return {
    status,
    ...(outcome.mipGap === undefined ? {} : { mipGap: outcome.mipGap }),
    binaries: model.modeBinaries.length,
    modeBinaries: describeModes(problem, model),
    rounds,
    objective: result.objective,
    intervals: result.intervals,
    violations: result.violations,
    ...(message === undefined ? {} : { message }),
    solveMs,
    lp: model.text,
  };
}

function describeModes(problem: PlanningProblem, model: LpModel | undefined) {
  return (model?.modeBinaries ?? []).map((m) => ({
    assetId: problem.batteries[m.batteryIndex]?.assetId ?? '',
    interval: m.interval,
  }));
}

/** Turns a solution into intervals, the objective split and the named violations. */
function readPlan(
  problem: PlanningProblem,
  model: LpModel,
  values: ReadonlyMap<string, number>,
): Pick<PlanResult, 'objective' | 'intervals' | 'violations'> {
  const n = intervalCount(problem);
  const h = problem.intervalHours;
  const names = model.names;
  const v = (name: string | undefined) => (name === undefined ? 0 : (values.get(name) ?? 0));
  const objective: PlanObjective = {
    totalCny: 0,
    energyCny: 0,
    carbonCny: 0,
    batteryWearCny: 0,
    curtailmentCny: 0,
    penaltyCny: 0,
  };
  const violations: PlanViolation[] = [];
  const intervals: PlannedInterval[] = [];

  for (let t = 0; t < n; t += 1) {
    const start = intervalStart(problem, t);
    const importKw = v(names.import[t]);
    const exportKw = v(names.export[t]);
    const factor = gridFactorAt(problem, t);
    const generation = names.generators.map((g) => ({
      assetId: g.assetId,
      usedKw: v(g.used[t]),
      curtailedKw: v(g.curtailed[t]),
    }));
    const batteries = names.batteries.map((b) => ({
      assetId: b.assetId,
      chargeKw: v(b.charge[t]),
      dischargeKw: v(b.discharge[t]),
      socKwh: v(b.soc[t]),
    }));
    const flexible = names.flexibleLoads.map((f) => ({ loadId: f.loadId, kw: v(f.kw[t]) }));

    const renewableKw = generation.reduce((s, g) => s + g.usedKw, 0);
    const consumptionKw =
      (problem.loadKw[t] ?? 0) +
      flexible.reduce((s, f) => s + f.kw, 0) +
      batteries.reduce((s, b) => s + b.chargeKw, 0);
    const renewableShare = consumptionKw > 0 ? Math.min(1, renewableKw / consumptionKw) : 0;
    const emissionsKg = importKw * h * factor;

    objective.energyCny +=
      h *
      (importKw * (problem.importPriceCnyPerKwh[t] ?? 0) -
        exportKw * (problem.exportPriceCnyPerKwh[t] ?? 0));
    objective.carbonCny += (emissionsKg / 1000) * problem.carbonPriceCnyPerTonne;
    problem.batteries.forEach((b, i) => {
      objective.batteryWearCny +=
        (((batteries[i]?.dischargeKw ?? 0) * h) / 1000) * b.degradationCnyPerMwh;
    });
    objective.curtailmentCny +=
      generation.reduce((s, g) => s + g.curtailedKw, 0) * h * problem.curtailmentCnyPerKwh;

    const unserved = v(names.unservedLoad[t]);
    const surplus = v(names.surplus[t]);
    objective.penaltyCny +=
      h * (unserved * PENALTY_CNY_PER_KWH.unservedLoad + surplus * PENALTY_CNY_PER_KWH.surplus);
    if (unserved > VIOLATION_THRESHOLD) {
      violations.push({
        name: names.unservedLoad[t] ?? '',
        constraint: `load not served at interval ${t} (${start})`,
        interval: t,
        sizeKwh: unserved * h,
      });
    }
    if (surplus > VIOLATION_THRESHOLD) {
      violations.push({
        name: names.surplus[t] ?? '',
        constraint: `generation that can be neither used, stored, exported nor curtailed at interval ${t} (${start})`,
        interval: t,
        sizeKwh: surplus * h,
      });
    }
    intervals.push({
      start,
      importKw,
      exportKw,
      emissionsKg,
      renewableShare,
      generation,
      batteries,
      flexible,
    });
  }

  problem.batteries.forEach((b, i) => {
    const name = names.batteries[i]?.endSocShortfall;
    const shortfall = v(name);
    objective.penaltyCny += shortfall * PENALTY_CNY_PER_KWH.endSocShortfall;
    if (shortfall > VIOLATION_THRESHOLD && name !== undefined) {
      violations.push({
        name,
        constraint: `battery ${b.assetId} ends the horizon below its minimum end state of charge`,
        assetId: b.assetId,
        sizeKwh: shortfall,
      });
    }
  });
  problem.flexibleLoads.forEach((f, i) => {
    const name = names.flexibleLoads[i]?.shortfall;
    const shortfall = v(name);
    objective.penaltyCny += shortfall * PENALTY_CNY_PER_KWH.flexibleShortfall;
    if (shortfall > VIOLATION_THRESHOLD && name !== undefined) {
      violations.push({
        name,
        constraint: `flexible load ${f.loadId} not fully served within intervals ${f.windowStart} to ${f.windowEnd - 1}`,
        loadId: f.loadId,
        sizeKwh: shortfall,
      });
    }
  });

  objective.totalCny =
    objective.energyCny +
    objective.carbonCny +
    objective.batteryWearCny +
    objective.curtailmentCny +
    objective.penaltyCny;
  return { objective, intervals, violations };
}
