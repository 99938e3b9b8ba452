import type { Decider } from '@park/eventstore';
import {
  Dec,
  Violations,
  decimalText,
  instantText,
  parseDecimal,
  parseInstant,
} from '@park/domain-primitives';
import { PreconditionError } from '@park/service-kit/errors';
import { isLocalDay, isYearMonth, monthOfDay, monthsBetween } from './calendar';

/**
 * An enterprise's green electricity certificates (GECs, 1 certificate = 1 MWh of renewable
 * generation). Retiring a certificate is what lets market-based Scope 2 count grid electricity as
 * zero-emission (DESIGN.md, Carbon), so the book guards the two ways a claim can be inflated:
 * retiring a serial twice and retiring more MWh than the enterprise took from the grid.
 */

export interface CertificateEntry {
  serial: string;
  /** Generation month, "YYYY-MM". */
  vintage: string;
  generatorId: string;
  /** Decimal string, > 0. */
  mwh: string;
}

export interface ImportCertificates {
  type: 'ImportCertificates';
  enterpriseId: string;
  certificates: CertificateEntry[];
  importedBy: string;
  /** ISO instant from the handler's clock: decide is pure and has none. */
  importedAt: string;
}

/** Park-local days, both inclusive, within one calendar month. */
export interface RetirementPeriod {
  from: string;
  to: string;
}

export interface VintageRules {
  /** How many months the vintage may lie before the period's month (12 allows 2024-03 for 2025-03). */
  maxVintageAgeMonths: number;
  /** Never: power generated after the period cannot be what the enterprise consumed in it. */
  allowFutureVintage: false;
}

export const DEFAULT_VINTAGE_RULES: VintageRules = {
  maxVintageAgeMonths: 12,
  allowFutureVintage: false,
};

export interface RetireCertificates {
  type: 'RetireCertificates';
  enterpriseId: string;
  serials: string[];
  period: RetirementPeriod;
  /** The enterprise's metered grid electricity in the period (kWh, decimal string), from the ledger. */
  gridKwhInPeriod: string;
  retiredBy: string;
  /** ISO instant from the handler's clock. */
  retiredAt: string;
  /** DEFAULT_VINTAGE_RULES when omitted. */
  rules?: VintageRules;
}

export type CertificateCommand = ImportCertificates | RetireCertificates;

export interface CertificatesImported {
  type: 'CertificatesImported';
  enterpriseId: string;
  certificates: CertificateEntry[];
  importedBy: string;
  importedAt: string;
}

export interface CertificatesRetired {
  type: 'CertificatesRetired';
  enterpriseId: string;
  serials: string[];
  period: RetirementPeriod;
  /** Sum of the retired certificates' MWh. */
  mwh: string;
  /** The grid electricity the retirement was checked against, kept for the audit trail. */
  gridKwhInPeriod: string;
  retiredBy: string;
  retiredAt: string;
}

export type CertificateEvent = CertificatesImported | CertificatesRetired;

export interface HeldCertificate extends CertificateEntry {
  importedAt: string;
  retired?: { period: RetirementPeriod; at: string };
}

export interface Retirement {
  serials: string[];
  period: RetirementPeriod;
  mwh: string;
  gridKwhInPeriod: string;
  retiredBy: string;
  at: string;
}

/** Plain JSON (records, not Maps) so the state can be snapshotted as it is. */
export interface CertificateBook {
  certificates: Record<string, HeldCertificate>;
  retirements: Retirement[];
}

export const initialCertificateBook = (): CertificateBook => ({
  certificates: {},
  retirements: [],
});

export const certificatesStreamId = (enterpriseId: string): string =>
  `certificates-${enterpriseId}`;

/**
 * MWh are added without losing a digit (as sumFigures does): Dec rounds every result to 34
 * significant digits, which would record a retirement as less than its certificates hold and let
 * the coverage check pass a claim that exceeds the grid electricity in its last digits.
 */
const ExactSum = Dec.clone({ precision: 1_000 });

// One event carries the whole list; the bound keeps an event row a sane size. Registry serials
// are alphanumeric with separators; the leading character rule also keeps "__proto__" and the
// like out of the state's record keys.
const MAX_CERTIFICATES_PER_REQUEST = 10_000;
const SERIAL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

export function decide(command: CertificateCommand, book: CertificateBook): CertificateEvent[] {
  switch (command.type) {
    case 'ImportCertificates':
      return decideImport(command, book);
    case 'RetireCertificates':
      return decideRetire(command, book);
  }
}

export function evolve(book: CertificateBook, event: CertificateEvent): CertificateBook {
  switch (event.type) {
    case 'CertificatesImported': {
      const certificates = { ...book.certificates };
      for (const entry of event.certificates) {
        certificates[entry.serial] = { ...entry, importedAt: event.importedAt };
      }
      return { ...book, certificates };
    }
    case 'CertificatesRetired': {
      const certificates = { ...book.certificates };
      for (const serial of event.serials) {
        const held = heldCertificate(book, serial);
        if (held)
          certificates[serial] = {
            ...held,
            retired: { period: event.period, at: event.retiredAt },
          };
      }
      const retirement: Retirement = {
        serials: event.serials,
        period: event.period,
        mwh: event.mwh,
        gridKwhInPeriod: event.gridKwhInPeriod,
        retiredBy: event.retiredBy,
        at: event.retiredAt,
      };
      return { certificates, retirements: [...book.retirements, retirement] };
    }
  }
}

export const certificateBookDecider: Decider<
  CertificateCommand,
  CertificateEvent,
  CertificateBook
> = { initialState: initialCertificateBook, decide, evolve };

function decideImport(command: ImportCertificates, book: CertificateBook): CertificateEvent[] {
  const v = new Violations();
  const enterpriseId = v.requiredText('enterprise_id', command.enterpriseId, 64);
  const importedBy = v.requiredText('imported_by', command.importedBy);
  const importedAt = requiredInstant(v, 'imported_at', command.importedAt);
  const certificates: CertificateEntry[] = [];
  if (!Array.isArray(command.certificates) || command.certificates.length === 0) {
    v.add('certificates', 'must list at least one certificate');
  } else if (command.certificates.length > MAX_CERTIFICATES_PER_REQUEST) {
    v.add('certificates', `must list at most ${MAX_CERTIFICATES_PER_REQUEST} certificates`);
  } else {
    const seen = new Set<string>();
    command.certificates.forEach((entry, index) => {
      const field = `certificates[${index}]`;
      const serial = requiredSerial(v, `${field}.serial`, entry?.serial);
      const vintage = entry?.vintage;
      if (!isYearMonth(vintage)) v.add(`${field}.vintage`, 'must be a generation month "YYYY-MM"');
      const generatorId = v.requiredText(`${field}.generator_id`, entry?.generatorId, 64);
      const mwh = v.positiveDecimal(`${field}.mwh`, entry?.mwh);
      if (serial !== undefined) {
        if (seen.has(serial)) v.add(`${field}.serial`, `GEC ${serial} is listed twice`);
        seen.add(serial);
      }
      if (serial && isYearMonth(vintage) && generatorId && mwh) {
        certificates.push({ serial, vintage, generatorId, mwh: decimalText(mwh) });
      }
    });
  }
  v.throwIfAny();

  const alreadyHeld = certificates.filter((entry) => heldCertificate(book, entry.serial));
  if (alreadyHeld.length > 0) {
    throw new PreconditionError(
      alreadyHeld
        .map((entry) => `GEC ${entry.serial} is already held by enterprise ${enterpriseId}`)
        .join('; '),
    );
  }
  return [
    {
      type: 'CertificatesImported',
      enterpriseId: enterpriseId!,
      certificates,
      importedBy: importedBy!,
      importedAt: importedAt!,
    },
  ];
}

/**
 * Serials are unique across the park, but each enterprise's book only sees its own stream. The
 * caller looks the request's serials up in its table of serials held elsewhere and passes the hits
 * here before running the command (a unique index on that table closes the race between two
 * enterprises importing the same serial at once).
 */
export function refuseSerialsHeldElsewhere(
  command: ImportCertificates,
  serialsHeldElsewhere: Iterable<string>,
): void {
  const elsewhere = new Set(serialsHeldElsewhere);
  const clashes = (Array.isArray(command.certificates) ? command.certificates : [])
    .map((entry) => (typeof entry?.serial === 'string' ? entry.serial.trim() : ''))
    .filter((serial) => serial !== '' && elsewhere.has(serial));
  if (clashes.length > 0) {
    throw new PreconditionError(
      [...new Set(clashes)]
        .map((serial) => `GEC ${serial} is already held by another enterprise`)
        .join('; '),
    );
  }
}

function decideRetire(command: RetireCertificates, book: CertificateBook): CertificateEvent[] {
  const v = new Violations();
  const enterpriseId = v.requiredText('enterprise_id', command.enterpriseId, 64);
  const serials = requestedSerials(v, command.serials);
  const period = retirementPeriod(v, command.period);
  const gridKwh = nonNegativeDecimal(v, 'grid_kwh_in_period', command.gridKwhInPeriod);
  const retiredBy = v.requiredText('retired_by', command.retiredBy);
  const retiredAt = requiredInstant(v, 'retired_at', command.retiredAt);
  const rules = vintageRules(v, command.rules ?? DEFAULT_VINTAGE_RULES);
  v.throwIfAny();

  // Every refusal is reported at once, so a caller fixes its list in one round trip.
  const problems: string[] = [];
  const periodMonth = monthOfDay(period!.from);
  let mwh = new ExactSum(0);
  for (const serial of serials) {
    const held = heldCertificate(book, serial);
    if (!held) {
      problems.push(`GEC ${serial} is not held by enterprise ${enterpriseId}`);
      continue;
    }
    if (held.retired) {
      problems.push(`GEC ${serial} was already retired for ${periodText(held.retired.period)}`);
      continue;
    }
    const vintageProblem = vintageProblemOf(held, periodMonth, rules!);
    if (vintageProblem) problems.push(vintageProblem);
    mwh = mwh.plus(held.mwh);
  }
  // The coverage check needs the full request to be retirable; a partial sum would mislead.
  if (problems.length === 0) {
    const alreadyRetired = retiredMwhOverlapping(book, period!);
    const wouldCoverKwh = alreadyRetired.plus(mwh).times(1000);
    if (wouldCoverKwh.gt(gridKwh!)) {
      problems.push(
        `over-retirement: GECs retired for periods overlapping ${periodText(period!)} ` +
          `(${decimalText(alreadyRetired)} MWh before, ${decimalText(mwh)} MWh now) would cover ` +
          `${decimalText(wouldCoverKwh)} kWh of ${decimalText(gridKwh!)} kWh grid electricity`,
      );
    }
  }
  if (problems.length > 0) throw new PreconditionError(problems.join('; '));

  return [
    {
      type: 'CertificatesRetired',
      enterpriseId: enterpriseId!,
      serials,
      period: period!,
      mwh: decimalText(mwh),
      gridKwhInPeriod: decimalText(gridKwh!),
      retiredBy: retiredBy!,
      retiredAt: retiredAt!,
    },
  ];
}

/**
 * kWh of grid electricity covered by retirements whose period lies inside `range` (park-local
 * days, inclusive; any span, e.g. a month or a year), as a full-precision decimal string.
 */
export function coveredKwh(book: CertificateBook, range: RetirementPeriod): string {
  const v = new Violations();
  if (!isLocalDay(range?.from)) v.add('period.from', 'must be a day "YYYY-MM-DD"');
  if (!isLocalDay(range?.to)) v.add('period.to', 'must be a day "YYYY-MM-DD"');
  else if (isLocalDay(range.from) && range.to < range.from) {
    v.add('period.to', 'must not be before period.from');
  }
  v.throwIfAny();
  const mwh = book.retirements
    .filter(
      (retirement) => retirement.period.from >= range.from && retirement.period.to <= range.to,
    )
    .reduce((sum, retirement) => sum.plus(retirement.mwh), new ExactSum(0));
  return decimalText(mwh.times(1000));
}

/** Own properties only: a serial such as "constructor" must not find Object.prototype's. */
function heldCertificate(book: CertificateBook, serial: string): HeldCertificate | undefined {
  return Object.hasOwn(book.certificates, serial) ? book.certificates[serial] : undefined;
}

// Day texts compare as dates, so two inclusive ranges overlap when each starts before the other ends.
function retiredMwhOverlapping(book: CertificateBook, period: RetirementPeriod): Dec {
  return book.retirements
    .filter(
      (retirement) => retirement.period.from <= period.to && period.from <= retirement.period.to,
    )
    .reduce((sum, retirement) => sum.plus(retirement.mwh), new ExactSum(0));
}

function vintageProblemOf(
  held: HeldCertificate,
  periodMonth: string,
  rules: VintageRules,
): string | undefined {
  const age = monthsBetween(held.vintage, periodMonth);
  if (age < 0) {
    return `GEC ${held.serial} vintage ${held.vintage} is after the period's month ${periodMonth}`;
  }
  if (age > rules.maxVintageAgeMonths) {
    return (
      `GEC ${held.serial} vintage ${held.vintage} is ${age} months before the period's month ` +
      `${periodMonth} (at most ${rules.maxVintageAgeMonths} allowed)`
    );
  }
  return undefined;
}

function periodText(period: RetirementPeriod): string {
  return `${period.from}/${period.to}`;
}

function requiredSerial(v: Violations, field: string, value: unknown): string | undefined {
  const serial = v.requiredText(field, value, 64);
  if (serial === undefined) return undefined;
  if (!SERIAL.test(serial)) {
    v.add(field, 'must be letters and digits, optionally separated by . _ : / -');
    return undefined;
  }
  return serial;
}

function requestedSerials(v: Violations, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    v.add('serials', 'must list at least one certificate serial');
    return [];
  }
  if (value.length > MAX_CERTIFICATES_PER_REQUEST) {
    v.add('serials', `must list at most ${MAX_CERTIFICATES_PER_REQUEST} serials`);
    return [];
  }
  const serials: string[] = [];
  value.forEach((raw, index) => {
    const serial = requiredSerial(v, `serials[${index}]`, raw);
    if (serial === undefined) return;
    if (serials.includes(serial)) v.add(`serials[${index}]`, `GEC ${serial} is listed twice`);
    else serials.push(serial);
  });
  return serials;
}

function retirementPeriod(v: Violations, value: unknown): RetirementPeriod | undefined {
  const period = value as Partial<RetirementPeriod> | undefined;
  const from = period?.from;
  const to = period?.to;
  let valid = true;
  if (!isLocalDay(from)) {
    v.add('period.from', 'must be a day "YYYY-MM-DD"');
    valid = false;
  }
  if (!isLocalDay(to)) {
    v.add('period.to', 'must be a day "YYYY-MM-DD"');
    valid = false;
  }
  if (!valid) return undefined;
  if (to! < from!) {
    v.add('period.to', 'must not be before period.from');
    return undefined;
  }
  // Vintage age and the grid consumption a retirement is checked against are monthly figures.
  if (monthOfDay(to!) !== monthOfDay(from!)) {
    v.add('period.to', 'must be in the same calendar month as period.from');
    return undefined;
  }
  return { from: from!, to: to! };
}

function vintageRules(v: Violations, value: unknown): VintageRules | undefined {
  const rules = value as Partial<{ maxVintageAgeMonths: unknown; allowFutureVintage: unknown }>;
  const maxAge = rules?.maxVintageAgeMonths;
  let valid = true;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) {
    v.add('rules.max_vintage_age_months', 'must be a whole number of months, 0 or more');
    valid = false;
  }
  if (rules?.allowFutureVintage !== false) {
    v.add(
      'rules.allow_future_vintage',
      'must be false: power generated after the period cannot cover consumption in it',
    );
    valid = false;
  }
  return valid ? { maxVintageAgeMonths: maxAge as number, allowFutureVintage: false } : undefined;
}

function nonNegativeDecimal(v: Violations, field: string, value: unknown): Dec | undefined {
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

function requiredInstant(v: Violations, field: string, value: unknown): string | undefined {
  const epochMs = parseInstant(value);
  if (epochMs === undefined) {
    v.add(field, 'must be an ISO 8601 instant with an offset');
    return undefined;
  }
  return instantText(epochMs);
}
