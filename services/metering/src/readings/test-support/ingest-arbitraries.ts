import fc from 'fast-check';

/**
 * Generators of readings as broken gateways and uploads send them, for the property tests. Each
 * generated instant carries what it denotes, so the tests' oracles never parse what they check.
 */

export const QUARTER_MS = 15 * 60_000;
export const DAY_MS = 86_400_000;

export interface GeneratedInstant {
  /** What is sent: usually a string, sometimes not (a broken client). */
  text: unknown;
  /** The instant it denotes; undefined when it is not an ISO 8601 instant with an offset. */
  epochMs: number | undefined;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** The same instant written with a UTC offset of `minutes`, e.g. 2025-03-10T08:00:00+08:00. */
export function withOffset(epochMs: number, minutes: number): string {
  const local = new Date(epochMs + minutes * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${minutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** Texts that are not instants; several look like one (a month 13, a 30 February, no offset). */
export const BROKEN_INSTANTS: readonly unknown[] = [
  '',
  ' ',
  'now',
  'NaN',
  '2025-03-10',
  '2025-03-10 02:00',
  '2025-03-10T02:00:00',
  '2025-03-10T02:00:00.000',
  '2025-02-30T00:00:00Z',
  '2025-13-01T00:00:00Z',
  '2025-00-10T00:00:00Z',
  '2025-03-10T24:00:00Z',
  '2025-03-10T02:00:60Z',
  '2025-03-10T02:00:00+24:00',
  '2025-03-10t02:00:00z',
  '+012025-03-10T02:00:00Z',
  '１２０２５-03-10T00:00:00Z',
  '1741572000000',
  undefined,
  null,
  0,
  1741572000000,
  {},
  [],
];

/**
 * Interval starts around `t0 + k x 15 min` for k in [kMin, kMax] (mostly aligned and in range),
 * plus aligned ones far outside it, misaligned ones, other notations of valid instants and texts
 * that are no instant at all.
 */
export function instantArbitrary(
  t0: number,
  kMin: number,
  kMax: number,
): fc.Arbitrary<GeneratedInstant> {
  const k = fc.integer({ min: kMin, max: kMax });
  const at = (kk: number) => t0 + kk * QUARTER_MS;
  return fc.oneof(
    {
      weight: 12,
      arbitrary: k.map((kk) => ({ text: iso(at(kk)), epochMs: at(kk) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(k, fc.constantFrom(480, -330, 0, 345, -720, 840))
        .map(([kk, offset]) => ({ text: withOffset(at(kk), offset), epochMs: at(kk) })),
    },
    {
      weight: 1,
      // Seconds and fractions are optional; nine fraction digits are allowed.
      arbitrary: fc.tuple(k, fc.boolean()).map(([kk, short]) => ({
        text: short ? `${iso(at(kk)).slice(0, 16)}Z` : `${iso(at(kk)).slice(0, 19)}.000000000Z`,
        epochMs: at(kk),
      })),
    },
    {
      weight: 2,
      // Aligned, but far back (beyond the late-data window) or ahead (in the future).
      arbitrary: fc
        .integer({ min: -96 * 400, max: 96 * 400 })
        .map((kk) => ({ text: iso(at(kk)), epochMs: at(kk) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(k, fc.integer({ min: 1, max: QUARTER_MS - 1 }))
        .map(([kk, ms]) => ({ text: iso(at(kk) + ms), epochMs: at(kk) + ms })),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...BROKEN_INSTANTS).map((text) => ({ text, epochMs: undefined })),
    },
    {
      weight: 1,
      // "YYYY-MM" followed by anything: the month of a text that is no instant.
      arbitrary: fc
        .tuple(
          fc.integer({ min: 0, max: 9999 }),
          fc.integer({ min: 0, max: 99 }),
          fc.string({ maxLength: 8 }).filter((rest) => !/^-\d\d[T ]/.test(rest)),
        )
        .map(([year, month, rest]) => ({
          text: `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}${rest}`,
          epochMs: undefined,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 24 })
        .filter((text) => !/^\d{4}-\d\d-\d\dT/.test(text))
        .map((text) => ({ text, epochMs: undefined })),
    },
  );
}

/** Plain decimal texts of plausible interval values (kWh), in the notations gateways use. */
export const plausibleDecimal: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 0, max: 30_000 }),
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 2 }),
  )
  .map(([milli, leading, trailing]) => {
    const whole = `${'0'.repeat(leading)}${Math.floor(milli / 1000)}`;
    const fraction = `${String(milli % 1000).padStart(3, '0')}${'0'.repeat(trailing)}`;
    return milli % 1000 === 0 && trailing === 0 ? whole : `${whole}.${fraction}`;
  });

export const BROKEN_DECIMALS: readonly unknown[] = [
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '1e3',
  '1E-2',
  '2.5e1',
  '',
  '  ',
  ' 12',
  '12 ',
  '0x1A',
  '1,5',
  '+5',
  '.5',
  '5.',
  '--5',
  '1.2.3',
  '١٢',
  '½',
  '12kWh',
  'null',
  undefined,
  null,
  12,
  Number.NaN,
  Number.POSITIVE_INFINITY,
];

/**
 * Decimal texts as sent: plausible ones mostly, then zeros in every spelling, negatives, huge and
 * tiny ones, and texts that are no decimal (exponents, NaN, Infinity, blanks, other digits).
 */
export function decimalTextArbitrary(plausible = plausibleDecimal): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 14, arbitrary: plausible },
    {
      weight: 1,
      arbitrary: fc.constantFrom('0', '0.0', '-0', '-0.000', '000', '0.000000'),
    },
    { weight: 2, arbitrary: plausible.map((text) => `-${text}`) },
    {
      weight: 1,
      // Far beyond any meter, and beyond 34 significant digits.
      arbitrary: fc.stringMatching(/^[1-9]\d{20,45}(\.\d{1,30})?$/),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 7, max: 40 }).map((zeros) => `0.${'0'.repeat(zeros)}1`),
    },
    { weight: 2, arbitrary: fc.constantFrom(...BROKEN_DECIMALS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
}

/**
 * What the texts mean by the documented rule (plain decimal notation only): the text itself
 * when it is a decimal, else undefined.
 */
export function decimalMeaning(text: unknown): string | undefined {
  return typeof text === 'string' && /^-?\d+(\.\d+)?$/.test(text) ? text : undefined;
}

/** Units as sent: the meter's mostly, then other units, typos and object-prototype names. */
export const UNIT_TEXTS: readonly unknown[] = [
  'Nm3',
  '%',
  'GJ',
  'kwh',
  'KWH',
  ' kWh',
  '',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  undefined,
  null,
  1,
];

export function unitArbitrary(usual: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...usual) },
    { weight: 3, arbitrary: fc.constantFrom(...UNIT_TEXTS) },
  );
}
