import {
  Dec,
  instantText,
  isDecimalString,
  parseDecimal,
  parseInstant,
  Violations,
} from '@park/domain-primitives';
import type { FactorKey } from '../accounting/model';

/**
 * A published set of emission factors: one document of one publisher (MEE and NBS's grid factors
 * for a year, a standard's fuel defaults), valid over [validFrom, validTo). Sets are never
 * overwritten: publishing the same setId again adds a version, and the latest version is the one
 * that counts for new postings; the older ones stay so earlier postings can be traced.
 */
export interface FactorSet {
  setId: string;
  /** 1 for the first publication of the setId, then 2, 3, ... */
  version: number;
  publisher: string;
  document: string;
  /** The reporting year the factors describe (grid factors), when there is one. */
  year?: number;
  /** ISO instant, inclusive (canonical UTC text). */
  validFrom: string;
  /** ISO instant, exclusive; absent = open-ended. */
  validTo?: string;
  factors: FactorEntry[];
}

export interface FactorEntry {
  key: FactorKey;
  /** Plain non-negative decimal, as published. */
  value: string;
  /** The canonical unit of the key (CANONICAL_UNITS). */
  unit: string;
  /** How a derived value was computed, e.g. "389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 99 % x 44/12". */
  derivation?: string;
}

/** A set as an operator submits it: the catalog assigns the version. */
export interface FactorSetDraft {
  setId: string;
  publisher: string;
  document: string;
  year?: number;
  validFrom: string;
  validTo?: string;
  factors: FactorEntryDraft[];
}

export interface FactorEntryDraft {
  key: string;
  value: string;
  unit: string;
  derivation?: string;
}

export const GRID_UNIT = 'kgCO2/kWh';

/** The one unit each kind of factor is published in; postings rely on it. */
export const CANONICAL_UNITS = {
  grid: GRID_UNIT,
  'residual:national': GRID_UNIT,
  'fuel:natural_gas': 'tCO2/1000Nm3',
  'fuel:diesel': 'tCO2/t',
  'heat:purchased': 'tCO2/GJ',
} as const;

const GRID_KEY = /^grid:[a-z][a-z0-9_]*$/;

/** `grid:<region>` (lower-case region such as "national", "northeast") or one of the fixed keys. */
export function isFactorKey(key: unknown): key is FactorKey {
  if (typeof key !== 'string') return false;
  return GRID_KEY.test(key) || (key !== 'grid' && Object.hasOwn(CANONICAL_UNITS, key));
}

export function canonicalUnit(key: FactorKey): string {
  return key.startsWith('grid:')
    ? CANONICAL_UNITS.grid
    : CANONICAL_UNITS[key as Exclude<keyof typeof CANONICAL_UNITS, 'grid'>];
}

/**
 * The grid factor key of a region: "northeast" -> `grid:northeast`. Metering's park profile
 * spells regions "northeast_china", "north_china", ...; the suffix is dropped so such a park
 * finds its regional factor instead of silently falling back to the national one.
 */
export function gridKey(region: string): FactorKey {
  return `grid:${region
    .trim()
    .toLowerCase()
    .replace(/_china$/, '')}`;
}

/**
 * Checks a set to publish and returns it in canonical form (trimmed text, UTC instants, version
 * 0 until the catalog assigns one). Every problem is reported at once, each naming its field
 * (`set_id`, `valid_to`, `factors[2].value`, ...).
 */
export function validateFactorSet(draft: FactorSetDraft): Omit<FactorSet, 'version'> {
  const v = new Violations();
  const input = (draft ?? {}) as Partial<Record<keyof FactorSetDraft, unknown>>;
  const setId = v.requiredText('set_id', input.setId, 64);
  const publisher = v.requiredText('publisher', input.publisher);
  const document = v.requiredText('document', input.document, 500);

  let year: number | undefined;
  if (input.year !== undefined && input.year !== null) {
    if (
      typeof input.year !== 'number' ||
      !Number.isInteger(input.year) ||
      input.year < 1900 ||
      input.year > 2200
    ) {
      v.add('year', 'must be a calendar year such as 2023');
    } else {
      year = input.year;
    }
  }

  const from = parseInstant(input.validFrom);
  if (from === undefined) v.add('valid_from', 'must be an ISO instant with an offset');
  let to: number | undefined;
  if (input.validTo !== undefined && input.validTo !== null && input.validTo !== '') {
    to = parseInstant(input.validTo);
    if (to === undefined) v.add('valid_to', 'must be an ISO instant with an offset');
    else if (from !== undefined && to <= from) v.add('valid_to', 'must be after valid_from');
  }

  const factors: FactorEntry[] = [];
  if (!Array.isArray(input.factors) || input.factors.length === 0) {
    v.add('factors', 'a set holds at least one factor');
  } else {
    const seen = new Set<string>();
    input.factors.forEach((raw: unknown, index) => {
      const entry = validateEntry(v, `factors[${index}]`, raw, seen);
      if (entry) factors.push(entry);
    });
  }
  v.throwIfAny();

  return {
    setId: setId!,
    publisher: publisher!,
    document: document!,
    ...(year !== undefined ? { year } : {}),
    validFrom: instantText(from!),
    ...(to !== undefined ? { validTo: instantText(to) } : {}),
    factors,
  };
}

function validateEntry(
  v: Violations,
  field: string,
  raw: unknown,
  seen: Set<string>,
): FactorEntry | undefined {
  if (typeof raw !== 'object' || raw === null) {
    v.add(field, 'must be a factor with key, value and unit');
    return undefined;
  }
  const entry = raw as Partial<Record<keyof FactorEntryDraft, unknown>>;
  let ok = true;
  const key = typeof entry.key === 'string' ? entry.key.trim() : entry.key;
  if (!isFactorKey(key)) {
    v.add(
      `${field}.key`,
      'must be grid:<region>, residual:national, fuel:natural_gas, fuel:diesel or heat:purchased',
    );
    ok = false;
  } else if (seen.has(key)) {
    v.add(`${field}.key`, `${key} appears twice in the set`);
    ok = false;
  } else {
    seen.add(key);
  }
  const value = typeof entry.value === 'string' ? entry.value.trim() : entry.value;
  if (!isDecimalString(value) || parseDecimal(value)!.isNegative()) {
    v.add(`${field}.value`, 'must be a plain decimal, 0 or more, such as "0.5306"');
    ok = false;
  }
  const unit = typeof entry.unit === 'string' ? entry.unit.trim() : entry.unit;
  if (isFactorKey(key) && unit !== canonicalUnit(key)) {
    v.add(`${field}.unit`, `${key} is published in ${canonicalUnit(key)}`);
    ok = false;
  }
  // A bad derivation is recorded in the violations, which throw before the entry is used.
  const derivation = v.optionalText(`${field}.derivation`, entry.derivation, 1000);
  if (!ok) return undefined;
  return {
    key: key as FactorKey,
    value: value as string,
    unit: unit as string,
    ...(derivation !== undefined ? { derivation } : {}),
  };
}

/** Same content apart from the version: factors compared by key, values as numbers. */
export function sameSetContent(
  a: Omit<FactorSet, 'version'>,
  b: Omit<FactorSet, 'version'>,
): boolean {
  if (
    a.setId !== b.setId ||
    a.publisher !== b.publisher ||
    a.document !== b.document ||
    a.year !== b.year ||
    a.validFrom !== b.validFrom ||
    a.validTo !== b.validTo ||
    a.factors.length !== b.factors.length
  ) {
    return false;
  }
  const others = new Map(b.factors.map((entry) => [entry.key, entry]));
  return a.factors.every((entry) => {
    const other = others.get(entry.key);
    return (
      other !== undefined &&
      new Dec(entry.value).eq(other.value) &&
      entry.unit === other.unit &&
      entry.derivation === other.derivation
    );
  });
}
