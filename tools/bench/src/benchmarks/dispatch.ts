import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  buildLpModel,
  loadHighs,
  planDay,
  SIMULTANEOUS_THRESHOLD_KW,
  writeGlpsolModel,
  type PlanningBattery,
  type PlanningProblem,
  type PlanResult,
} from '@park/dispatch';
import { formatDuration } from '../format';
import { UsageError } from '../args';
import { defineBenchmark, type BenchResult } from '../types';
import { seededRandom } from '@park/simulator';

const INTERVALS = 96;
const INTERVAL_HOURS = 24 / INTERVALS;
/** The issue's target: 20 batteries planned (mixed-integer) within this. */
const TARGET_BATTERIES = 20;
const TARGET_MS = 1_000;
/** HiGHS and glpsol must agree on the LP optimum within this (relative). */
const LP_AGREEMENT = 1e-6;
/** The negative-price window (park-local hours): import is paid for, export costs. */
const NEGATIVE_FROM_HOUR = 12.5;
const NEGATIVE_TO_HOUR = 13.5;

/** A seed derived from a base seed and a stream number (so battery i is the same at any size). */
const substream = (seed: number, stream: number) =>
  (Math.imul(seed, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const between = (random: () => number, low: number, high: number) => low + (high - low) * random();

/** Time-of-use import price (CNY/kWh) at hour of day `hour`: valley, flat and peak. */
function touImportPrice(hour: number): number {
  if (hour < 7 || hour >= 23) return 0.31;
  if ((hour >= 8 && hour < 11) || (hour >= 17 && hour < 21)) return 1.02;
  return 0.62;
}

function syntheticBattery(seed: number, index: number): PlanningBattery {
  const random = seededRandom(substream(seed, 1_000 + index));
  const energyKwh = round3([500, 1_000, 2_000, 4_000][index % 4]! * between(random, 0.8, 1.2));
  const hours = [1, 2, 4][Math.floor(random() * 3)]!;
  const socMinFraction = round3(between(random, 0.05, 0.15));
  const socMaxFraction = round3(between(random, 0.9, 0.95));
  return {
    assetId: `bess-${String(index + 1).padStart(3, '0')}`,
    energyKwh,
    maxChargeKw: round3(energyKwh / hours),
    maxDischargeKw: round3(energyKwh / hours),
    chargeEfficiency: round3(between(random, 0.93, 0.97)),
    dischargeEfficiency: round3(between(random, 0.92, 0.96)),
    socMinFraction,
    socMaxFraction,
    initialSocFraction: round3(between(random, Math.max(0.2, socMinFraction), 0.8)),
    degradationCnyPerMwh: round3(between(random, 20, 80)),
  };
}

/** Load share of the shift under way at `hour`, with the dip of each shift change and lunch. */
function shiftLoad(hour: number): number {
  const shift = hour < 6 || hour >= 22 ? 0.45 : hour < 14 ? 0.95 : 0.8;
  const sinceChange = [6, 14, 22].map((change) => (hour - change + 24) % 24);
  const changing = sinceChange.some((since) => since < 0.5);
  const lunch = hour >= 12 && hour < 12.5;
  return shift * (changing ? 0.7 : 1) * (lunch ? 0.75 : 1);
}

/**
 * A deterministic day of 96 x 15 min with `batteries` batteries of varied sizes (energy 0.4 to
 * 4.8 MWh, 1, 2 or 4 hours of power, varied efficiencies, SOC limits and wear), scaled so the
 * batteries matter whatever their number: a PV bell curve under passing clouds peaking above the
 * load, wind as a bounded random walk, an industrial load in three shifts (with dips at the
 * shift changes and at lunch), two flexible loads (an EV depot in the evening, process heat
 * around noon) and a time-of-use tariff whose midday hour has negative prices (import paid for,
 * export charged), so that the relaxation charges and discharges full batteries at once to burn
 * energy in their losses: the planner must add binaries there.
 */
export function dispatchBenchProblem(options: {
  batteries: number;
  seed: number;
  timeLimitSeconds: number;
  mipRelativeGap: number;
}): PlanningProblem {
  const { seed } = options;
  const batteries = Array.from({ length: options.batteries }, (_, i) => syntheticBattery(seed, i));
  const batteryKw = batteries.reduce((sum, b) => sum + b.maxDischargeKw, 0);
  const peakLoadKw = 3_000 + 0.8 * batteryKw;
  const random = seededRandom(substream(seed, 0));
  const hours = Array.from({ length: INTERVALS }, (_, t) => (t + 0.5) * INTERVAL_HOURS);

  let cloud = 0.85;
  const pvKw = hours.map((hour) => {
    cloud = Math.min(1, Math.max(0.55, cloud + between(random, -0.08, 0.08)));
    if (hour < 5.5 || hour > 19.5) return 0;
    return round3(1.1 * peakLoadKw * cloud * Math.exp(-(((hour - 12.75) / 2.9) ** 2)));
  });
  let wind = 0.35;
  const windKw = hours.map(() => {
    wind = Math.min(0.95, Math.max(0.05, wind + between(random, -0.06, 0.06)));
    return round3(0.35 * peakLoadKw * wind);
  });
  const loadKw = hours.map((hour) =>
    round3(peakLoadKw * shiftLoad(hour) * between(random, 0.96, 1.04)),
  );
  const negative = (hour: number) => hour >= NEGATIVE_FROM_HOUR && hour < NEGATIVE_TO_HOUR;
  const at = (hour: number) => Math.round((hour / 24) * INTERVALS);
  return {
    start: '2025-06-02T00:00:00+08:00',
    intervalHours: INTERVAL_HOURS,
    importPriceCnyPerKwh: hours.map((hour) => (negative(hour) ? -0.9 : touImportPrice(hour))),
    // Feed-in never pays more than import costs, or the LP would import and export at once.
    exportPriceCnyPerKwh: hours.map((hour) => (negative(hour) ? -1 : 0.3)),
    carbonPriceCnyPerTonne: 80,
    gridFactorKgPerKwh: hours.map((hour) =>
      round3(0.58 + 0.05 * Math.cos((hour / 24) * 2 * Math.PI)),
    ),
    // A connection sized for the load and every battery charging at once.
    importLimitKw: round3(1.2 * peakLoadKw + batteryKw),
    exportLimitKw: round3(0.4 * peakLoadKw),
    loadKw,
    generators: [
      { assetId: 'pv-roof', kind: 'pv', availableKw: pvKw },
      { assetId: 'wind-north', kind: 'wind', availableKw: windKw },
    ],
    batteries,
    flexibleLoads: [
      {
        loadId: 'ev-depot',
        energyKwh: round3(0.5 * peakLoadKw),
        windowStart: at(18),
        windowEnd: INTERVALS,
        maxKw: round3(0.2 * peakLoadKw),
      },
      {
        loadId: 'process-heat',
        energyKwh: round3(0.3 * peakLoadKw),
        windowStart: at(10),
        windowEnd: at(16),
        maxKw: round3(0.15 * peakLoadKw),
      },
    ],
    curtailmentCnyPerKwh: 0.05,
    allowCurtailment: true,
    timeLimitSeconds: options.timeLimitSeconds,
    mipRelativeGap: options.mipRelativeGap,
  };
}

/** "3,20,100" -> [3, 20, 100]; each a whole number from 1 to 1,000. */
export function parseBatteryCounts(list: string): number[] {
  const counts = list.split(',').map((part) => part.trim());
  if (counts.length === 0 || counts.some((part) => !/^\d+$/.test(part))) {
    throw new UsageError(`--batteries must be a comma-separated list of counts (got ${list})`);
  }
  const numbers = counts.map(Number);
  const wrong = numbers.find((n) => n < 1 || n > 1_000);
  if (wrong !== undefined) throw new UsageError(`--batteries: ${wrong} is not within 1..1000`);
  return [...new Set(numbers)];
}

export type GlpsolStatus =
  'optimal' | 'gap_reached' | 'time_limit' | 'infeasible' | 'unbounded' | 'error';

export interface GlpsolOutcome {
  status: GlpsolStatus;
  /** glpsol's last status line, e.g. `OPTIMAL LP SOLUTION FOUND`. */
  statusLine: string;
  objective?: number;
  /** Relative gap of the last `mip = best >= bound` line (glpsol's own formula). */
  mipGap?: number;
  ms: number;
}

/** glpsol's status from its terminal output (its last line in capitals), and its MIP gap. */
export function parseGlpsolOutput(stdout: string): Omit<GlpsolOutcome, 'objective' | 'ms'> {
  const lines = stdout.split('\n').map((line) => line.trim());
  const statusLine = lines.filter((line) => /^[A-Z][A-Z ;]+$/.test(line)).pop() ?? '';
  let status: GlpsolStatus = 'error';
  if (/^(OPTIMAL LP|INTEGER OPTIMAL) SOLUTION FOUND$/.test(statusLine)) status = 'optimal';
  else if (statusLine.startsWith('RELATIVE MIP GAP TOLERANCE REACHED')) status = 'gap_reached';
  else if (statusLine.startsWith('TIME LIMIT EXCEEDED')) status = 'time_limit';
  else if (/NO (PRIMAL|INTEGER) FEASIBLE/.test(statusLine)) status = 'infeasible';
  else if (statusLine.includes('UNBOUNDED')) status = 'unbounded';
  const outcome: Omit<GlpsolOutcome, 'objective' | 'ms'> = { status, statusLine };
  // The branch-and-bound log: `+  699: mip =   2.092502559e+04 >=   2.092011077e+04 ...`.
  const progress = lines
    .map((line) => /mip =\s+(\S+)\s+>=\s+(\S+)/.exec(line))
    .filter((match) => match !== null)
    .pop();
  const best = Number(progress?.[1]);
  const bound = Number(progress?.[2]);
  if (Number.isFinite(best) && Number.isFinite(bound)) {
    outcome.mipGap = Math.abs(best - bound) / (Math.abs(best) + Number.EPSILON);
  }
  return outcome;
}

/** The objective from a solution written with `glpsol --write` (15 significant digits). */
export function parseGlpsolSolution(text: string): number | undefined {
  // `s bas ROWS COLS PRIM DUAL OBJ` for an LP, `s mip ROWS COLS STAT OBJ` for a MIP.
  const line = text.split('\n').find((l) => l.startsWith('s '));
  const fields = line?.trim().split(/\s+/) ?? [];
  const status = fields[1] === 'bas' || fields[1] === 'mip' ? fields[4] : undefined;
  // Status n (no feasible solution) or u (undefined): the objective means nothing.
  if (status !== 'f' && status !== 'o') return undefined;
  const objective = Number(fields[fields.length - 1]);
  return Number.isFinite(objective) ? objective : undefined;
}

/** Solves LP text with glpsol: the process timed from spawn to exit, the file written before. */
async function runGlpsol(
  dir: string,
  label: string,
  text: string,
  options: { timeLimitSeconds: number; mipRelativeGap?: number },
  signal: AbortSignal,
): Promise<GlpsolOutcome> {
  const lpPath = path.join(dir, `${label}.lp`);
  const solutionPath = path.join(dir, `${label}.sol`);
  const args = await writeGlpsolModel(text, lpPath, options);
  args.push('--write', solutionPath);
  const started = performance.now();
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
    (resolve, reject) => {
      const child = spawn('glpsol', args, { signal, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
      child.on('error', reject);
      child.on('close', (exitCode) =>
        resolve({ code: exitCode, stdout: Buffer.concat(out).toString('utf8') }),
      );
    },
  );
  const ms = performance.now() - started;
  const parsed = parseGlpsolOutput(stdout);
  if (code !== 0) {
    const last = stdout.trim().split('\n').pop() ?? '';
    return { status: 'error', statusLine: `exit code ${code}: ${parsed.statusLine || last}`, ms };
  }
  const objective = await readFile(solutionPath, 'utf8').then(parseGlpsolSolution, () => undefined);
  return { ...parsed, ...(objective === undefined ? {} : { objective }), ms };
}

function glpsolInstalled(): boolean {
  const probe = spawnSync('glpsol', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return !probe.error && probe.status === 0;
}

/** (battery, interval) pairs of a plan that charge and discharge at once. */
function simultaneous(plan: PlanResult): number {
  return plan.intervals.reduce(
    (sum, interval) =>
      sum +
      interval.batteries.filter(
        (b) => b.chargeKw > SIMULTANEOUS_THRESHOLD_KW && b.dischargeKw > SIMULTANEOUS_THRESHOLD_KW,
      ).length,
    0,
  );
}

const relativeDifference = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
const cny = (x: number | undefined) => (x === undefined ? 'none' : x.toFixed(4));
const gap = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(3)} %`);

interface Timed {
  plan: PlanResult;
  /** Median wall time of the runs. */
  ms: number;
  runs: number;
}

export const dispatchBenchmark = defineBenchmark({
  name: 'dispatch',
  description:
    "day-ahead plans of 96 x 15 min by the dispatch planner (HiGHS: the LP, then binaries only where it charges and discharges at once) vs GLPK's glpsol on the same CPLEX LP files",
  flags: {
    batteries: {
      kind: 'string',
      description: 'comma-separated battery counts, one synthetic problem each',
      default: '3,20,100',
    },
    seed: {
      kind: 'int',
      description: 'seed of the synthetic problems (same seed, same problems)',
      default: 1,
      min: 0,
      max: 2 ** 31 - 1,
    },
    'time-limit': {
      kind: 'number',
      description:
        "solver time limit per plan, s (the planner's for all its rounds; glpsol's --tmlim)",
      default: 10,
      min: 0.1,
      max: 3_600,
    },
    'mip-gap': {
      kind: 'number',
      description: 'relative MIP gap at which the mixed-integer solves may stop',
      default: 0.001,
      min: 0,
      max: 1,
    },
    repeats: {
      kind: 'int',
      description:
        'runs of each solve; the median time counts (a run at the time limit is not repeated)',
      default: 3,
      min: 1,
      max: 50,
    },
  },

  async run({ options, log, progress, signal }): Promise<BenchResult[]> {
    const sizes = parseBatteryCounts(options.batteries);
    const timeLimitSeconds = options['time-limit'];
    const mipRelativeGap = options['mip-gap'];
    const withGlpsol = glpsolInstalled();
    if (!withGlpsol) {
      log(
        'glpsol is not installed (Debian: apt-get install glpk-utils): only the planner is timed',
      );
    }

    // Loading and compiling the HiGHS WebAssembly, and growing its memory to the largest
    // model (one LP solve of the largest size), stay out of the times, as in a running service.
    await loadHighs();
    await planDay(
      dispatchBenchProblem({
        batteries: Math.max(...sizes),
        seed: options.seed,
        timeLimitSeconds,
        mipRelativeGap,
      }),
      { maxMipRounds: 0 },
    );

    /** The median of up to `repeats` runs; a run that reaches the time limit ends the series. */
    const timed = async (run: () => Promise<PlanResult>): Promise<Timed> => {
      const times: number[] = [];
      let plan: PlanResult | undefined;
      for (let i = 0; i < options.repeats; i++) {
        signal.throwIfAborted();
        const started = performance.now();
        plan = await run();
        times.push(performance.now() - started);
        if (plan.status === 'time_limit') break;
      }
      times.sort((a, b) => a - b);
      return { plan: plan!, ms: times[Math.floor((times.length - 1) / 2)]!, runs: times.length };
    };
    const timedGlpsol = async (
      run: () => Promise<GlpsolOutcome>,
    ): Promise<GlpsolOutcome & { runs: number }> => {
      const runs: GlpsolOutcome[] = [];
      for (let i = 0; i < options.repeats; i++) {
        signal.throwIfAborted();
        const outcome = await run();
        runs.push(outcome);
        if (outcome.status === 'time_limit' || outcome.status === 'error') break;
      }
      const median = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor((runs.length - 1) / 2)]!;
      return { ...runs[runs.length - 1]!, ms: median.ms, runs: runs.length };
    };

    const dir = await mkdtemp(path.join(os.tmpdir(), 'park-bench-dispatch-'));
    const results: BenchResult[] = [];
    const solves = progress('solve', sizes.length * (withGlpsol ? 4 : 2), 'solves');
    try {
      for (const batteries of sizes) {
        const problem = dispatchBenchProblem({
          batteries,
          seed: options.seed,
          timeLimitSeconds,
          mipRelativeGap,
        });
        const lpModel = buildLpModel(problem);
        const shape = `${batteries} batteries x ${INTERVALS} intervals: LP ${lpModel.rows.length} rows x ${lpModel.variables.length} columns`;

        // The relaxation: the planner without mixed-integer rounds.
        const lp = await timed(() => planDay(problem, { maxMipRounds: 0 }));
        solves.advance(1);
        const pairs = simultaneous(lp.plan);
        if (lp.plan.status !== 'optimal') {
          throw new Error(
            `${batteries} batteries: the LP ended ${lp.plan.status}: ${lp.plan.message}`,
          );
        }
        let glpsolLp: (GlpsolOutcome & { runs: number }) | undefined;
        if (withGlpsol) {
          glpsolLp = await timedGlpsol(() =>
            runGlpsol(dir, `lp-${batteries}`, lp.plan.lp, { timeLimitSeconds }, signal),
          );
          solves.advance(1);
        }

        // The planner's plan: the LP, then binaries where it charges and discharges at once.
        const mip = await timed(() => planDay(problem));
        solves.advance(1);
        let glpsolMip: (GlpsolOutcome & { runs: number }) | undefined;
        if (withGlpsol) {
          glpsolMip = await timedGlpsol(() =>
            runGlpsol(
              dir,
              `mip-${batteries}`,
              mip.plan.lp,
              mip.plan.binaries > 0 ? { timeLimitSeconds, mipRelativeGap } : { timeLimitSeconds },
              signal,
            ),
          );
          solves.advance(1);
        }

        // LP: both solvers must find the same optimum of the same file.
        const lpObjective = lp.plan.objective.totalCny;
        let lpAgreement = '';
        if (glpsolLp) {
          if (glpsolLp.status === 'optimal' && glpsolLp.objective !== undefined) {
            const difference = relativeDifference(lpObjective, glpsolLp.objective);
            if (difference > LP_AGREEMENT) {
              throw new Error(
                `${batteries} batteries: the LP optima differ by ${difference.toExponential(2)} (relative): HiGHS ${lpObjective}, glpsol ${glpsolLp.objective}`,
              );
            }
            lpAgreement = `agree within ${LP_AGREEMENT} (relative difference ${difference.toExponential(1)})`;
          } else {
            lpAgreement = `not compared: glpsol ended '${glpsolLp.statusLine}'`;
          }
        }
        log(
          `${batteries} batteries: LP ${formatDuration(lp.ms)} (glpsol ${glpsolLp ? formatDuration(glpsolLp.ms) : 'n/a'}), ` +
            `plan ${formatDuration(mip.ms)} ${mip.plan.status} with ${mip.plan.binaries} binaries (glpsol ${glpsolMip ? formatDuration(glpsolMip.ms) : 'n/a'})`,
        );

        const median = (runs: number) => (runs > 1 ? `median of ${runs} runs` : '1 run');
        const noGlpsol =
          'baseline: none, glpsol is not installed (Debian: apt-get install glpk-utils)';
        results.push({
          metric: `LP ${batteries} batteries`,
          unit: 'ms',
          subject: lp.ms,
          baseline: glpsolLp?.ms ?? 0,
          higherIsBetter: false,
          notes: [
            shape,
            `subject: planDay without mixed-integer rounds, HiGHS ${lp.plan.status} (${median(lp.runs)})`,
            glpsolLp
              ? `baseline: glpsol --cpxlp on the same LP file, process wall time, '${glpsolLp.statusLine}' (${median(glpsolLp.runs)})`
              : noGlpsol,
            glpsolLp
              ? `objective HiGHS ${cny(lpObjective)} vs glpsol ${cny(glpsolLp.objective)} CNY: ${lpAgreement}`
              : `objective HiGHS ${cny(lpObjective)} CNY`,
            `the LP charges and discharges at once in ${pairs} (battery, interval) pairs`,
          ].join('; '),
        });

        const plan = mip.plan;
        const left = simultaneous(plan);
        const targets: string[] = [];
        if (batteries === TARGET_BATTERIES) {
          targets.push(
            `target ${TARGET_BATTERIES} batteries <= ${formatDuration(TARGET_MS)}: ${mip.ms <= TARGET_MS ? 'MET' : 'NOT MET'} (${formatDuration(mip.ms)})`,
          );
        }
        if (batteries >= 100) {
          targets.push(
            `target ${batteries} batteries within the ${timeLimitSeconds} s time limit: ` +
              (plan.status === 'optimal'
                ? `MET (optimal in ${formatDuration(mip.ms)}, gap ${gap(plan.mipGap)})`
                : `NOT MET (${plan.status} after ${formatDuration(mip.ms)}, gap ${gap(plan.mipGap)})`),
          );
        }
        const glpsolMipArgs = plan.binaries > 0 ? ` --mipgap ${mipRelativeGap}` : '';
        results.push({
          metric: `MIP ${batteries} batteries`,
          unit: 'ms',
          subject: mip.ms,
          baseline: glpsolMip?.ms ?? 0,
          higherIsBetter: false,
          notes: [
            `subject: planDay, ${plan.rounds} HiGHS solves (the LP, then ${plan.rounds - 1} mixed-integer rounds adding binaries where a solution charges and discharges at once), ${plan.status}${plan.message ? ` (${plan.message})` : ''} (${median(mip.runs)})`,
            `${plan.binaries} binaries for the LP's ${pairs} simultaneous pairs, ${left} left in the plan, HiGHS gap ${gap(plan.mipGap)}`,
            glpsolMip
              ? `baseline: glpsol --cpxlp${glpsolMipArgs} on the planner's final model file (the same ${plan.binaries} binaries), '${glpsolMip.statusLine}', gap ${gap(glpsolMip.mipGap)} (${median(glpsolMip.runs)})`
              : noGlpsol,
            `objective HiGHS ${cny(plan.objective.totalCny)}` +
              (glpsolMip ? ` vs glpsol ${cny(glpsolMip.objective)}` : '') +
              ' CNY' +
              (glpsolMip?.objective === undefined
                ? ''
                : ` (relative difference ${relativeDifference(plan.objective.totalCny, glpsolMip.objective).toExponential(1)})`) +
              `, LP bound ${cny(lpObjective)}`,
            ...targets,
          ].join('; '),
        });
      }
      solves.finish();
      return results;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
