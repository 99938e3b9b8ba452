import { Dec, Violations, decimalText, parseDecimal } from '@park/domain-primitives';
import { classifyCnCode, type CbamSector } from './annex-one';

/**
 * Embedded emissions of an installation's CBAM goods for a reporting period (DESIGN.md, Products
 * and CBAM). A production process's emissions go to everything it made by mass, and the share of
 * non-CBAM output is dropped; the precursors it consumed carry their own embedded emissions, which
 * go to the CBAM goods only, by their mass. Everything is exact decimal arithmetic; rounding happens
 * only in the CSV.
 *
 * Which indirect emissions count follows the Methodology Act (Implementing Regulation (EU)
 * 2025/2547, Annex I point 3.1): the process's indirect emissions count when the good's own code
 * counts them, and a precursor's indirect emissions count when the precursor's code counts them
 * (sintered ore's do in direct reduced iron, hydrogen's do not in ammonia). When good and
 * precursors share a sector, that is simply "indirect emissions count for the good's sector".
 */

export type ElectricitySourceKind = 'direct_line' | 'grid';
export type ElectricityFactorSource = 'actual_direct_line' | 'mee_grid' | 'eu_default';
export type PrecursorOrigin = 'own' | 'supplier';

export interface ElectricitySupply {
  source: ElectricitySourceKind;
  kwh: string;
  /** kgCO2 per kWh (numerically tCO2 per MWh). */
  factorKgPerKwh: string;
  factorSource: ElectricityFactorSource;
}

export interface ProductionOutput {
  cnCode: string;
  netMassTonnes: string;
  route: string;
  /** False for output outside Annex I: it takes its share of the process's emissions away. */
  cbam: boolean;
}

export interface PrecursorConsumption {
  cnCode: string;
  consumedTonnes: string;
  directSeeTco2PerT: string;
  indirectSeeTco2PerT: string;
  origin: PrecursorOrigin;
}

/** One production process's period totals from the ledger, and what it made and consumed. */
export interface ProcessPeriodInput {
  processId: string;
  /** Scope 1 fuel emissions of the process's meters plus purchased heat emissions, kgCO2e. */
  directKgCo2e: string;
  electricity: ElectricitySupply[];
  production: ProductionOutput[];
  precursors: PrecursorConsumption[];
}

export interface InstallationPeriodInput {
  installationId: string;
  /** First and last month of the reporting period, "YYYY-MM". */
  fromMonth: string;
  toMonth: string;
  processes: ProcessPeriodInput[];
}

/** Electricity by where it came from and whose factor it carries. */
export interface ElectricitySourceShare {
  source: ElectricitySourceKind;
  factorSource: ElectricityFactorSource;
  mwh: string;
  /** tCO2 per MWh, weighted over the supplies of this kind. */
  factor: string;
}

/** All quantities are full-precision decimal strings. */
export interface CbamGood {
  processId: string;
  cnCode: string;
  sector: CbamSector;
  route: string;
  netMassTonnes: string;
  /** The good's share of the process's own direct emissions, tCO2e. */
  directTco2e: string;
  /** The good's share of the process's indirect (electricity) emissions, tCO2e. */
  indirectTco2e: string;
  /** The good's share of the precursors' embedded direct emissions, tCO2e. */
  precursorDirectTco2e: string;
  precursorIndirectTco2e: string;
  /** Specific embedded emissions, tCO2e per t of good, precursors included. */
  directSee: string;
  /** Reported whether or not it counts: the importer's declaration asks for it either way. */
  indirectSee: string;
  /** Whether the good's own indirect emissions count (Annex II), by its CN code. */
  indirectCounts: boolean;
  /** The part of indirectSee that counts (own and precursors', each by its own code). */
  countedIndirectSee: string;
  /** directSee + countedIndirectSee. */
  totalSee: string;
  electricityMwh: string;
  electricityMwhPerTonne: string;
  /** tCO2 per MWh over all the process's electricity; null when it used none. */
  electricityFactor: string | null;
  electricitySources: ElectricitySourceShare[];
}

export interface ProcessCbamResult {
  processId: string;
  directTco2e: string;
  indirectTco2e: string;
  electricityMwh: string;
  electricityFactor: string | null;
  electricitySources: ElectricitySourceShare[];
  outputTonnes: string;
  cbamOutputTonnes: string;
  precursorDirectTco2e: string;
  precursorIndirectTco2e: string;
  /**
   * What no CBAM good carries: the non-CBAM output's share of the process's emissions, plus the
   * precursors' emissions when the process made no CBAM good at all.
   */
  excluded: { outputTonnes: string; directTco2e: string; indirectTco2e: string };
  goods: CbamGood[];
}

export interface InstallationCbamResult {
  installationId: string;
  fromMonth: string;
  toMonth: string;
  processes: ProcessCbamResult[];
  goods: CbamGood[];
  /**
   * Sums over the goods. Process and precursor shares are kept apart: an own precursor's
   * emissions are also the emissions of the process that made it, so their sum is the goods'
   * embedded emissions, not the installation's.
   */
  totals: {
    massTonnes: string;
    directTco2e: string;
    indirectTco2e: string;
    precursorDirectTco2e: string;
    precursorIndirectTco2e: string;
    electricityMwh: string;
    excludedDirectTco2e: string;
    excludedIndirectTco2e: string;
  };
}

/** The embedded emissions of one process's CBAM goods. Throws ValidationError on bad input. */
export function cbamForProcess(input: ProcessPeriodInput): ProcessCbamResult {
  const v = new Violations();
  const parsed = parseProcess(v, input, '');
  v.throwIfAny();
  return attribute(parsed);
}

/** Every process of an installation, with totals. Violations name `processes[i]...`. */
export function cbamForInstallation(input: InstallationPeriodInput): InstallationCbamResult {
  const v = new Violations();
  const installationId = v.requiredText('installation_id', input.installationId, 64);
  const fromMonth = yearMonth(v, 'from_month', input.fromMonth);
  const toMonth = yearMonth(v, 'to_month', input.toMonth);
  if (fromMonth && toMonth && toMonth < fromMonth) {
    v.add('to_month', 'must not be before from_month');
  }
  const parsedProcesses: ParsedProcess[] = [];
  if (!Array.isArray(input.processes)) {
    v.add('processes', 'must be a list of processes');
  } else {
    const seen = new Set<string>();
    input.processes.forEach((process, index) => {
      const parsed = parseProcess(v, process, `processes[${index}].`);
      if (parsed.processId !== '' && seen.has(parsed.processId)) {
        v.add(`processes[${index}].process_id`, `process ${parsed.processId} is listed twice`);
      }
      seen.add(parsed.processId);
      parsedProcesses.push(parsed);
    });
  }
  v.throwIfAny();

  const processes = parsedProcesses.map(attribute);
  const goods = processes.flatMap((process) => process.goods);
  const sumGoods = (pick: (good: CbamGood) => string) => decimalText(sum(goods.map(pick)));
  const sumProcesses = (pick: (process: ProcessCbamResult) => string) =>
    decimalText(sum(processes.map(pick)));
  return {
    installationId: installationId!,
    fromMonth: fromMonth!,
    toMonth: toMonth!,
    processes,
    goods,
    totals: {
      massTonnes: sumGoods((good) => good.netMassTonnes),
      directTco2e: sumGoods((good) => good.directTco2e),
      indirectTco2e: sumGoods((good) => good.indirectTco2e),
      precursorDirectTco2e: sumGoods((good) => good.precursorDirectTco2e),
      precursorIndirectTco2e: sumGoods((good) => good.precursorIndirectTco2e),
      electricityMwh: sumGoods((good) => good.electricityMwh),
      excludedDirectTco2e: sumProcesses((process) => process.excluded.directTco2e),
      excludedIndirectTco2e: sumProcesses((process) => process.excluded.indirectTco2e),
    },
  };
}

interface ParsedSupply {
  source: ElectricitySourceKind;
  factorSource: ElectricityFactorSource;
  kwh: Dec;
  kgCo2: Dec;
}

interface ParsedGood {
  cnCode: string;
  sector: CbamSector;
  indirectCounts: boolean;
  route: string;
  mass: Dec;
}

interface ParsedPrecursor {
  directT: Dec;
  indirectT: Dec;
  indirectCounts: boolean;
}

interface ParsedProcess {
  processId: string;
  directKg: Dec;
  supplies: ParsedSupply[];
  /** CBAM goods, one per CN code and route (several records of a good in the period add up). */
  goods: ParsedGood[];
  nonCbamMass: Dec;
  precursors: ParsedPrecursor[];
}

function attribute(process: ParsedProcess): ProcessCbamResult {
  const directT = process.directKg.div(1000);
  const indirectT = sum(process.supplies.map((supply) => supply.kgCo2)).div(1000);
  const kwh = sum(process.supplies.map((supply) => supply.kwh));
  const cbamMass = sum(process.goods.map((good) => good.mass));
  const outputMass = cbamMass.plus(process.nonCbamMass);
  const precursorDirectT = sum(process.precursors.map((precursor) => precursor.directT));
  const precursorIndirectT = sum(process.precursors.map((precursor) => precursor.indirectT));
  const precursorCountedIndirectT = sum(
    process.precursors.filter((p) => p.indirectCounts).map((p) => p.indirectT),
  );
  const sources = sourceShares(process.supplies);
  // Multiply before dividing: a share that comes out even then stays exact.
  const shareOfOutput = (quantity: Dec, mass: Dec) => quantity.times(mass).div(outputMass);
  const shareOfCbam = (quantity: Dec, mass: Dec) => quantity.times(mass).div(cbamMass);

  const goods = process.goods.map((good): CbamGood => {
    const mass = good.mass;
    const ownDirect = shareOfOutput(directT, mass);
    const ownIndirect = shareOfOutput(indirectT, mass);
    const precursorDirect = shareOfCbam(precursorDirectT, mass);
    const precursorIndirect = shareOfCbam(precursorIndirectT, mass);
    const countedIndirect = (good.indirectCounts ? ownIndirect : new Dec(0)).plus(
      shareOfCbam(precursorCountedIndirectT, mass),
    );
    const directSee = ownDirect.plus(precursorDirect).div(mass);
    const countedIndirectSee = countedIndirect.div(mass);
    const electricityMwh = shareOfOutput(kwh, mass).div(1000);
    return {
      processId: process.processId,
      cnCode: good.cnCode,
      sector: good.sector,
      route: good.route,
      netMassTonnes: decimalText(mass),
      directTco2e: decimalText(ownDirect),
      indirectTco2e: decimalText(ownIndirect),
      precursorDirectTco2e: decimalText(precursorDirect),
      precursorIndirectTco2e: decimalText(precursorIndirect),
      directSee: decimalText(directSee),
      indirectSee: decimalText(ownIndirect.plus(precursorIndirect).div(mass)),
      indirectCounts: good.indirectCounts,
      countedIndirectSee: decimalText(countedIndirectSee),
      totalSee: decimalText(directSee.plus(countedIndirectSee)),
      electricityMwh: decimalText(electricityMwh),
      electricityMwhPerTonne: decimalText(kwh.div(1000).div(outputMass)),
      electricityFactor: sources.factor,
      electricitySources: sources.shares.map((share) => ({
        ...share,
        mwh: decimalText(new Dec(share.mwh).times(mass).div(outputMass)),
      })),
    };
  });

  const nonCbamDirect = shareOfOutput(directT, process.nonCbamMass);
  const nonCbamIndirect = shareOfOutput(indirectT, process.nonCbamMass);
  // Precursors only reach CBAM goods; a process that made none leaves them unassigned.
  const noCbamGoods = process.goods.length === 0;
  return {
    processId: process.processId,
    directTco2e: decimalText(directT),
    indirectTco2e: decimalText(indirectT),
    electricityMwh: decimalText(kwh.div(1000)),
    electricityFactor: sources.factor,
    electricitySources: sources.shares,
    outputTonnes: decimalText(outputMass),
    cbamOutputTonnes: decimalText(cbamMass),
    precursorDirectTco2e: decimalText(precursorDirectT),
    precursorIndirectTco2e: decimalText(precursorIndirectT),
    excluded: {
      outputTonnes: decimalText(process.nonCbamMass),
      directTco2e: decimalText(noCbamGoods ? nonCbamDirect.plus(precursorDirectT) : nonCbamDirect),
      indirectTco2e: decimalText(
        noCbamGoods ? nonCbamIndirect.plus(precursorIndirectT) : nonCbamIndirect,
      ),
    },
    goods,
  };
}

function sourceShares(supplies: ParsedSupply[]): {
  factor: string | null;
  shares: ElectricitySourceShare[];
} {
  const groups = new Map<string, ParsedSupply>();
  for (const supply of supplies) {
    const key = `${supply.source}|${supply.factorSource}`;
    const group = groups.get(key);
    groups.set(
      key,
      group
        ? { ...group, kwh: group.kwh.plus(supply.kwh), kgCo2: group.kgCo2.plus(supply.kgCo2) }
        : supply,
    );
  }
  const kwh = sum(supplies.map((supply) => supply.kwh));
  const kgCo2 = sum(supplies.map((supply) => supply.kgCo2));
  // kg per kWh is t per MWh; with no electricity there is no factor to weigh.
  return {
    factor: kwh.isZero() ? null : decimalText(kgCo2.div(kwh)),
    shares: [...groups.values()]
      .filter((group) => !group.kwh.isZero())
      .map((group) => ({
        source: group.source,
        factorSource: group.factorSource,
        mwh: decimalText(group.kwh.div(1000)),
        factor: decimalText(group.kgCo2.div(group.kwh)),
      })),
  };
}

const SOURCES: readonly ElectricitySourceKind[] = ['direct_line', 'grid'];
const FACTOR_SOURCES: readonly ElectricityFactorSource[] = [
  'actual_direct_line',
  'mee_grid',
  'eu_default',
];
const ORIGINS: readonly PrecursorOrigin[] = ['own', 'supplier'];

function parseProcess(v: Violations, input: ProcessPeriodInput, at: string): ParsedProcess {
  const processId = v.requiredText(`${at}process_id`, input?.processId, 64);
  const directKg = nonNegative(v, `${at}direct_kg_co2e`, input?.directKgCo2e);

  const supplies: ParsedSupply[] = [];
  listOf(v, `${at}electricity`, input?.electricity).forEach((raw, index) => {
    const field = `${at}electricity[${index}]`;
    const supply = raw as Partial<ElectricitySupply> | undefined;
    const source = v.oneOf(`${field}.source`, supply?.source, SOURCES);
    const kwh = nonNegative(v, `${field}.kwh`, supply?.kwh);
    const factor = nonNegative(v, `${field}.factor_kg_per_kwh`, supply?.factorKgPerKwh);
    const factorSource = v.oneOf(`${field}.factor_source`, supply?.factorSource, FACTOR_SOURCES);
    // Only a direct technical link carries its generator's actual factor; grid power cannot.
    if (source === 'grid' && factorSource === 'actual_direct_line') {
      v.add(`${field}.factor_source`, 'grid electricity takes the mee_grid or eu_default factor');
      return;
    }
    if (source && kwh && factor && factorSource) {
      supplies.push({ source, factorSource, kwh, kgCo2: kwh.times(factor) });
    }
  });

  const goods: ParsedGood[] = [];
  let nonCbamMass = new Dec(0);
  const production = listOf(v, `${at}production`, input?.production);
  if (Array.isArray(input?.production) && production.length === 0) {
    v.add(`${at}production`, 'must list at least one output');
  }
  production.forEach((raw, index) => {
    const field = `${at}production[${index}]`;
    const output = raw as Partial<ProductionOutput> | undefined;
    const mass = v.positiveDecimal(`${field}.net_mass_tonnes`, output?.netMassTonnes);
    const cbam = v.boolean(`${field}.cbam`, output?.cbam);
    if (cbam === false) {
      v.requiredText(`${field}.cn_code`, output?.cnCode, 32);
      // A good of Annex I recorded as non-CBAM would silently drop out of the declaration.
      if (typeof output?.cnCode === 'string' && classifyCnCode(output.cnCode)) {
        v.add(`${field}.cbam`, `CN ${output.cnCode} is an Annex I good: record it as CBAM output`);
      }
      if (mass) nonCbamMass = nonCbamMass.plus(mass);
      return;
    }
    const classification = classifiedCn(v, `${field}.cn_code`, output?.cnCode);
    const route = v.requiredText(`${field}.route`, output?.route);
    if (!classification || route === undefined || !mass || cbam === undefined) return;
    const same = goods.find(
      (good) => good.cnCode === classification.cnCode && good.route === route,
    );
    if (same) same.mass = same.mass.plus(mass);
    else {
      goods.push({
        cnCode: classification.cnCode,
        sector: classification.sector,
        indirectCounts: classification.indirectEmissionsCount,
        route,
        mass,
      });
    }
  });

  const precursors: ParsedPrecursor[] = [];
  listOf(v, `${at}precursors`, input?.precursors).forEach((raw, index) => {
    const field = `${at}precursors[${index}]`;
    const precursor = raw as Partial<PrecursorConsumption> | undefined;
    const classification = classifiedCn(v, `${field}.cn_code`, precursor?.cnCode);
    const tonnes = v.positiveDecimal(`${field}.consumed_tonnes`, precursor?.consumedTonnes);
    const directSee = nonNegative(
      v,
      `${field}.direct_see_tco2_per_t`,
      precursor?.directSeeTco2PerT,
    );
    const indirectSee = nonNegative(
      v,
      `${field}.indirect_see_tco2_per_t`,
      precursor?.indirectSeeTco2PerT,
    );
    v.oneOf(`${field}.origin`, precursor?.origin, ORIGINS);
    if (classification && tonnes && directSee && indirectSee) {
      precursors.push({
        directT: tonnes.times(directSee),
        indirectT: tonnes.times(indirectSee),
        indirectCounts: classification.indirectEmissionsCount,
      });
    }
  });

  // Incomplete when a violation was recorded: every caller throws those before attributing.
  return {
    processId: processId ?? '',
    directKg: directKg ?? new Dec(0),
    supplies,
    goods,
    nonCbamMass,
    precursors,
  };
}

function classifiedCn(v: Violations, field: string, value: unknown) {
  if (typeof value !== 'string' || value.trim() === '') {
    v.add(field, 'is required');
    return undefined;
  }
  const classification = classifyCnCode(value);
  if (!classification) v.add(field, `${value} is not an 8-digit CN code of a CBAM Annex I good`);
  return classification;
}

function listOf(v: Violations, field: string, value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  v.add(field, 'must be a list');
  return [];
}

function nonNegative(v: Violations, field: string, value: unknown): Dec | undefined {
  const parsed = parseDecimal(value);
  if (!parsed) {
    v.add(field, 'must be a decimal number such as "1.5"');
    return undefined;
  }
  if (parsed.isNegative() && !parsed.isZero()) {
    v.add(field, 'must not be negative');
    return undefined;
  }
  return parsed;
}

function yearMonth(v: Violations, field: string, value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(value)) return value;
  v.add(field, 'must be a month "YYYY-MM"');
  return undefined;
}

function sum(values: readonly (Dec | string)[]): Dec {
  return values.reduce<Dec>((total, value) => total.plus(value), new Dec(0));
}
