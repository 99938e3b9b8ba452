// The day-ahead plan as a linear programme, written as CPLEX LP text with readable names.
//
// The text keeps to the subset that both HiGHS and GLPK (`glpsol --cpxlp`) read: sections
// `Minimize`, `Subject To`, `Bounds`, `Binary`, `End`; every constraint starts on its own line with
// a label, has its variables on the left and one numeric constant on the right; each variable
// appears at most once per constraint; numbers are plain decimals (no exponent, no `inf`: a
// variable without an upper bound is simply not given one); names use only letters, digits and
// `_`, start with a lower-case prefix that is not a keyword, and stay well under 255 characters;
// continuation lines start with a sign, so no line but a section header starts with a keyword.
//
// Variables (t = interval index, zero-padded to at least three digits; h = interval hours):
//   import_tNNN, export_tNNN               grid exchange (kW), bounded by the connection limits
//   used_<g>_tNNN, curtailed_<g>_tNNN      generation used and curtailed (kW)
//   charge_<b>_tNNN, discharge_<b>_tNNN    battery power at the grid side (kW)
//   soc_<b>_tNNN                           stored energy at the END of interval t (kWh)
//   flex_<f>_tNNN                          flexible-load power, only inside its window (kW)
//   mode_<b>_tNNN                          1 = may charge, 0 = may discharge (only where needed)
//   unserved_load_tNNN                     slack: load that cannot be served (kW)
//   surplus_tNNN                           slack: generation that can go nowhere (kW)
//   end_soc_shortfall_<b>                  slack: energy missing from the end SOC (kWh)
//   flexible_shortfall_<f>                 slack: flexible energy not served in its window (kWh)
//
// Objective (CNY): sum over t of h x [import x (price + factor x carbonPrice / 1000)
//   - export x feed-in price + discharge x degradation / 1000 + curtailed x curtailment cost
//   + (unserved + surplus) x penalty] + shortfalls x penalty.
import { writeFile } from 'node:fs/promises';
import { endSocMinFraction, gridFactorAt, intervalCount, type PlanningProblem } from './problem';

/**
 * Penalties on the slack variables (CNY per kWh of slack). They dwarf any tariff, so a slack is
 * used only when nothing else can meet the constraint; their order says what gives way first: the
 * end-of-horizon SOC target, then flexible energy, and only then inflexible load (or the balance
 * the other way round, when generation can go nowhere).
 */
export const PENALTY_CNY_PER_KWH = Object.freeze({
  unservedLoad: 10_000,
  surplus: 10_000,
  flexibleShortfall: 5_000,
  endSocShortfall: 2_000,
});

export type VariableRole =
  | { kind: 'import' | 'export' | 'unserved_load' | 'surplus'; interval: number }
  | { kind: 'used' | 'curtailed'; assetId: string; interval: number }
  | { kind: 'charge' | 'discharge' | 'soc' | 'mode'; assetId: string; interval: number }
  | { kind: 'flexible'; loadId: string; interval: number }
  | { kind: 'end_soc_shortfall'; assetId: string }
  | { kind: 'flexible_shortfall'; loadId: string };

export interface LpVariable {
  name: string;
  lower: number;
  /** Number.POSITIVE_INFINITY when unbounded above (then no upper bound is written). */
  upper: number;
  /** Objective coefficient (CNY per unit of the variable). */
  cost: number;
  binary: boolean;
  role: VariableRole;
}

export interface LpTerm {
  variable: string;
  coefficient: number;
}

export interface LpRow {
  name: string;
  terms: LpTerm[];
  sense: '<=' | '>=' | '=';
  rhs: number;
}

/** A (battery, interval) pair that gets a binary charge/discharge mode. */
export interface ModeBinary {
  batteryIndex: number;
  interval: number;
}

/** Variable names by position in the problem, so solutions can be read back without parsing. */
export interface LpNames {
  import: string[];
  export: string[];
  unservedLoad: string[];
  surplus: string[];
  generators: { assetId: string; lpId: string; used: string[]; curtailed: string[] }[];
  batteries: {
    assetId: string;
    lpId: string;
    charge: string[];
    discharge: string[];
    soc: string[];
    endSocShortfall: string;
  }[];
  flexibleLoads: {
    loadId: string;
    lpId: string;
    /** undefined outside the load's window. */
    kw: (string | undefined)[];
    shortfall: string;
  }[];
}

export interface LpModel {
  variables: LpVariable[];
  rows: LpRow[];
  names: LpNames;
  /** Every variable name mapped back to what it is (asset ids are the original ones). */
  roles: ReadonlyMap<string, VariableRole>;
  /** The mode binaries in the model, sorted by battery then interval. */
  modeBinaries: ModeBinary[];
  /** The model as CPLEX LP text, accepted by HiGHS and by `glpsol --cpxlp`. */
  text: string;
}

export interface BuildLpOptions {
  /** (battery, interval) pairs that get a binary mode; others stay continuous. */
  modeBinaries?: Iterable<ModeBinary>;
}

const MAX_ID_LENGTH = 64;

/** Turns an asset or load id into an LP-legal name fragment: letters, digits and `_` only. */
export function sanitizeLpName(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_]/g, '_').slice(0, MAX_ID_LENGTH);
  return cleaned.length > 0 ? cleaned : 'x';
}

/** Assigns each id a unique sanitised fragment, deterministically in the order given. */
function assignLpIds(ids: readonly string[]): Map<string, string> {
  const taken = new Set<string>();
  const result = new Map<string, string>();
  for (const id of ids) {
    const base = sanitizeLpName(id);
    let candidate = base;
    for (let k = 2; taken.has(candidate); k += 1) candidate = `${base}_${k}`;
    taken.add(candidate);
    result.set(id, candidate);
  }
  return result;
}

/** Builds the planning model for a (validated) problem. */
export function buildLpModel(problem: PlanningProblem, options: BuildLpOptions = {}): LpModel {
  const n = intervalCount(problem);
  const h = problem.intervalHours;
  const width = Math.max(3, String(n - 1).length);
  const tag = (t: number) => `t${String(t).padStart(width, '0')}`;
  const lpIds = assignLpIds([
    ...problem.generators.map((g) => g.assetId),
    ...problem.batteries.map((b) => b.assetId),
  ]);
  const loadLpIds = assignLpIds(problem.flexibleLoads.map((f) => f.loadId));
  const lpIdOf = (map: Map<string, string>, id: string) => map.get(id) ?? sanitizeLpName(id);

  const variables: LpVariable[] = [];
  const roles = new Map<string, VariableRole>();
  const add = (
    name: string,
    role: VariableRole,
    bounds: { lower?: number; upper?: number; cost?: number; binary?: boolean } = {},
  ): string => {
    variables.push({
      name,
      lower: bounds.lower ?? 0,
      upper: bounds.upper ?? Number.POSITIVE_INFINITY,
      cost: bounds.cost ?? 0,
      binary: bounds.binary ?? false,
      role,
    });
    roles.set(name, role);
    return name;
  };
  const range = (count: number) => Array.from({ length: count }, (_, t) => t);

  // Grid exchange and the balance slacks.
  const names: LpNames = {
    import: range(n).map((t) =>
      add(
        `import_${tag(t)}`,
        { kind: 'import', interval: t },
        {
          upper: problem.importLimitKw,
          cost:
            h *
            ((problem.importPriceCnyPerKwh[t] ?? 0) +
              (gridFactorAt(problem, t) * problem.carbonPriceCnyPerTonne) / 1000),
        },
      ),
    ),
    export: range(n).map((t) =>
      add(
        `export_${tag(t)}`,
        { kind: 'export', interval: t },
        { upper: problem.exportLimitKw, cost: -h * (problem.exportPriceCnyPerKwh[t] ?? 0) },
      ),
    ),
    unservedLoad: range(n).map((t) =>
      add(
        `unserved_load_${tag(t)}`,
        { kind: 'unserved_load', interval: t },
        { cost: h * PENALTY_CNY_PER_KWH.unservedLoad },
      ),
    ),
    surplus: range(n).map((t) =>
      add(
        `surplus_${tag(t)}`,
        { kind: 'surplus', interval: t },
        { cost: h * PENALTY_CNY_PER_KWH.surplus },
      ),
    ),
    generators: [],
    batteries: [],
    flexibleLoads: [],
  };

  for (const g of problem.generators) {
    const lpId = lpIdOf(lpIds, g.assetId);
    names.generators.push({
      assetId: g.assetId,
      lpId,
      used: range(n).map((t) =>
        add(`used_${lpId}_${tag(t)}`, { kind: 'used', assetId: g.assetId, interval: t }),
      ),
      curtailed: range(n).map((t) =>
        add(
          `curtailed_${lpId}_${tag(t)}`,
          { kind: 'curtailed', assetId: g.assetId, interval: t },
          problem.allowCurtailment
            ? { cost: h * problem.curtailmentCnyPerKwh }
            : { upper: 0, cost: h * problem.curtailmentCnyPerKwh },
        ),
      ),
    });
  }

  for (const b of problem.batteries) {
    const lpId = lpIdOf(lpIds, b.assetId);
    const assetId = b.assetId;
    names.batteries.push({
      assetId,
      lpId,
      charge: range(n).map((t) =>
        add(
          `charge_${lpId}_${tag(t)}`,
          { kind: 'charge', assetId, interval: t },
          { upper: b.maxChargeKw },
        ),
      ),
      discharge: range(n).map((t) =>
        add(
          `discharge_${lpId}_${tag(t)}`,
          { kind: 'discharge', assetId, interval: t },
          { upper: b.maxDischargeKw, cost: (h * b.degradationCnyPerMwh) / 1000 },
        ),
      ),
      soc: range(n).map((t) =>
        add(
          `soc_${lpId}_${tag(t)}`,
          { kind: 'soc', assetId, interval: t },
          { lower: b.socMinFraction * b.energyKwh, upper: b.socMaxFraction * b.energyKwh },
        ),
      ),
      endSocShortfall: add(
        `end_soc_shortfall_${lpId}`,
        { kind: 'end_soc_shortfall', assetId },
        { cost: PENALTY_CNY_PER_KWH.endSocShortfall },
      ),
    });
  }

  for (const f of problem.flexibleLoads) {
    const lpId = lpIdOf(loadLpIds, f.loadId);
    names.flexibleLoads.push({
      loadId: f.loadId,
      lpId,
      kw: range(n).map((t) =>
        t >= f.windowStart && t < f.windowEnd
          ? add(
              `flex_${lpId}_${tag(t)}`,
              { kind: 'flexible', loadId: f.loadId, interval: t },
              { upper: f.maxKw },
            )
          : undefined,
      ),
      shortfall: add(
        `flexible_shortfall_${lpId}`,
        { kind: 'flexible_shortfall', loadId: f.loadId },
        { cost: PENALTY_CNY_PER_KWH.flexibleShortfall },
      ),
    });
  }

  // Mode binaries: only for the pairs asked for, and only where both directions are possible.
  const modeKeys = new Set<string>();
  const modeBinaries: ModeBinary[] = [];
  for (const m of options.modeBinaries ?? []) {
    const b = problem.batteries[m.batteryIndex];
    if (!b || m.interval < 0 || m.interval >= n || !Number.isInteger(m.interval)) continue;
    if (b.maxChargeKw <= 0 || b.maxDischargeKw <= 0) continue;
    const key = `${m.batteryIndex}:${m.interval}`;
    if (modeKeys.has(key)) continue;
    modeKeys.add(key);
    modeBinaries.push({ batteryIndex: m.batteryIndex, interval: m.interval });
  }
  modeBinaries.sort((x, y) => x.batteryIndex - y.batteryIndex || x.interval - y.interval);

  const rows: LpRow[] = [];
  const row = (name: string, terms: [string, number][], sense: LpRow['sense'], rhs: number) => {
    rows.push({
      name,
      terms: terms
        .filter(([, c]) => c !== 0)
        .map(([variable, coefficient]) => ({ variable, coefficient })),
      sense,
      rhs,
    });
  };

  // Power balance: sources = sinks, with the two slacks closing any gap.
  for (let t = 0; t < n; t += 1) {
    const terms: [string, number][] = [];
    for (const g of names.generators) terms.push([at(g.used, t), 1]);
    terms.push([at(names.import, t), 1]);
    for (const b of names.batteries) terms.push([at(b.discharge, t), 1]);
    terms.push([at(names.unservedLoad, t), 1]);
    for (const b of names.batteries) terms.push([at(b.charge, t), -1]);
    for (const f of names.flexibleLoads) {
      const v = f.kw[t];
      if (v !== undefined) terms.push([v, -1]);
    }
    terms.push([at(names.export, t), -1]);
    terms.push([at(names.surplus, t), -1]);
    row(`balance_${tag(t)}`, terms, '=', problem.loadKw[t] ?? 0);
  }

  // Generation: used + curtailed = available.
  problem.generators.forEach((g, i) => {
    const gn = at(names.generators, i);
    for (let t = 0; t < n; t += 1) {
      row(
        `avail_${gn.lpId}_${tag(t)}`,
        [
          [at(gn.used, t), 1],
          [at(gn.curtailed, t), 1],
        ],
        '=',
        g.availableKw[t] ?? 0,
      );
    }
  });

  // SOC dynamics and the end-of-horizon target.
  problem.batteries.forEach((b, i) => {
    const bn = at(names.batteries, i);
    for (let t = 0; t < n; t += 1) {
      const terms: [string, number][] = [[at(bn.soc, t), 1]];
      if (t > 0) terms.push([at(bn.soc, t - 1), -1]);
      terms.push([at(bn.charge, t), -b.chargeEfficiency * h]);
      terms.push([at(bn.discharge, t), h / b.dischargeEfficiency]);
      row(
        `soc_dyn_${bn.lpId}_${tag(t)}`,
        terms,
        '=',
        t === 0 ? b.initialSocFraction * b.energyKwh : 0,
      );
    }
    row(
      `soc_end_${bn.lpId}`,
      [
        [at(bn.soc, n - 1), 1],
        [bn.endSocShortfall, 1],
      ],
      '>=',
      endSocMinFraction(b) * b.energyKwh,
    );
  });

  // Flexible loads: the window's energy, short by at most the (penalised) shortfall.
  problem.flexibleLoads.forEach((f, i) => {
    const fn = at(names.flexibleLoads, i);
    const terms: [string, number][] = [];
    for (const v of fn.kw) if (v !== undefined) terms.push([v, h]);
    terms.push([fn.shortfall, 1]);
    row(`flex_energy_${fn.lpId}`, terms, '=', f.energyKwh);
  });

  // Mode binaries: charge <= maxCharge x mode, discharge <= maxDischarge x (1 - mode).
  for (const m of modeBinaries) {
    const b = at(problem.batteries, m.batteryIndex);
    const bn = at(names.batteries, m.batteryIndex);
    const mode = add(
      `mode_${bn.lpId}_${tag(m.interval)}`,
      { kind: 'mode', assetId: b.assetId, interval: m.interval },
      { upper: 1, binary: true },
    );
    row(
      `mode_charge_${bn.lpId}_${tag(m.interval)}`,
      [
        [at(bn.charge, m.interval), 1],
        [mode, -b.maxChargeKw],
      ],
      '<=',
      0,
    );
    row(
      `mode_discharge_${bn.lpId}_${tag(m.interval)}`,
      [
        [at(bn.discharge, m.interval), 1],
        [mode, b.maxDischargeKw],
      ],
      '<=',
      b.maxDischargeKw,
    );
  }

  const header = [
    `\\ Day-ahead dispatch plan: ${n} intervals of ${formatNumber(h)} h from ${problem.start}`,
    `\\ ${problem.generators.length} generators, ${problem.batteries.length} batteries, ${problem.flexibleLoads.length} flexible loads, ${modeBinaries.length} mode binaries`,
    '\\ Units: power kW, energy kWh, objective CNY',
  ];
  const text = toCplexLp(variables, rows, header);
  return { variables, rows, names, roles, modeBinaries, text };
}

function at<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined) throw new Error(`internal error: index ${i} out of range`);
  return x;
}

/**
 * A number as a plain decimal, never with an exponent (both readers accept exponents, but plain
 * decimals keep the file readable). The shortest round-trip form is used whenever it has no
 * exponent, so the text carries exactly the doubles of the model.
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} into an LP file`);
  if (x === 0) return '0';
  const s = String(x);
  if (!/e/i.test(s)) return s;
  if (Math.abs(x) >= 1) return BigInt(Math.round(x)).toString();
  return x.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

const LINE_WIDTH = 100;

/** Appends `tokens` to `lines`, wrapping before LINE_WIDTH; `first` prefixes the first line. */
function wrap(lines: string[], first: string, tokens: readonly string[]): void {
  let line = first;
  for (const token of tokens) {
    if (line.trim().length > 0 && line.length + 1 + token.length > LINE_WIDTH) {
      lines.push(line);
      line = '   ';
    }
    line += ` ${token}`;
  }
  lines.push(line);
}

function termTokens(terms: readonly LpTerm[]): string[] {
  return terms.map(({ variable, coefficient }) => {
    const sign = coefficient < 0 ? '-' : '+';
    const magnitude = Math.abs(coefficient);
    return magnitude === 1
      ? `${sign} ${variable}`
      : `${sign} ${formatNumber(magnitude)} ${variable}`;
  });
}

function toCplexLp(variables: readonly LpVariable[], rows: readonly LpRow[], header: string[]) {
  const lines: string[] = [...header, 'Minimize'];
  const objective = variables
    .filter((v) => v.cost !== 0)
    .map((v) => ({ variable: v.name, coefficient: v.cost }));
  wrap(lines, ' cost:', termTokens(objective));

  lines.push('Subject To');
  for (const r of rows) {
    const tokens = termTokens(r.terms);
    const last = tokens.pop();
    // The sense and right-hand side share a line with the last term.
    wrap(lines, ` ${r.name}:`, [...tokens, `${last ?? '0'} ${r.sense} ${formatNumber(r.rhs)}`]);
  }

  lines.push('Bounds');
  for (const v of variables) {
    if (v.binary) continue;
    if (v.upper === v.lower) {
      lines.push(` ${v.name} = ${formatNumber(v.lower)}`);
    } else if (Number.isFinite(v.upper)) {
      lines.push(` ${formatNumber(v.lower)} <= ${v.name} <= ${formatNumber(v.upper)}`);
    } else if (v.lower !== 0) {
      lines.push(` ${v.name} >= ${formatNumber(v.lower)}`);
    }
  }

  const binaries = variables.filter((v) => v.binary).map((v) => v.name);
  if (binaries.length > 0) {
    lines.push('Binary');
    wrap(lines, '', binaries);
  }
  lines.push('End', '');
  return lines.join('\n');
}

/** Command-line arguments for GLPK's `glpsol` to solve an LP file written by writeGlpsolModel. */
export function glpsolArgs(
  lpPath: string,
  options: { timeLimitSeconds?: number; mipRelativeGap?: number; solutionPath?: string } = {},
): string[] {
  const args = ['--cpxlp', lpPath];
  if (options.timeLimitSeconds !== undefined) {
    args.push('--tmlim', String(Math.max(1, Math.ceil(options.timeLimitSeconds))));
  }
  if (options.mipRelativeGap !== undefined) {
    args.push('--mipgap', formatNumber(options.mipRelativeGap));
  }
  if (options.solutionPath !== undefined) args.push('--output', options.solutionPath);
  return args;
}

/**
 * Writes the model text (an LpModel's `text`, or a PlanResult's `lp`) to `lpPath` for
 * `glpsol --cpxlp` and returns the glpsol arguments for it: the same text HiGHS solved.
 */
export async function writeGlpsolModel(
  lpText: string,
  lpPath: string,
  options: { timeLimitSeconds?: number; mipRelativeGap?: number; solutionPath?: string } = {},
): Promise<string[]> {
  await writeFile(lpPath, lpText, 'utf8');
  return glpsolArgs(lpPath, options);
}
