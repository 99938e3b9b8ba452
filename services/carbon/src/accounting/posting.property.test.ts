import { Dec, decimalText, sameQuantity } from '@park/domain-primitives';
import { ValidationError } from '@park/service-kit/errors';
import fc from 'fast-check';
import { rebook, type LedgerLine } from '../ledger/ledger';
import { reversal, postingsEqual } from './diff';
import { FIGURE_FIELDS, sumFigures, zeroFigures } from './figures';
import type { AttributeStatus, MeterFacts, Posting, PostingFigures } from './model';
import { postReading } from './post-reading';
import { context, reading } from './test-support/readings';

/**
 * Ledger invariants under random sequences of readings for one (meter, interval) (issue 10).
 * Each step books what `rebook` says, from what stands to the new posting, the way the
 * accounting service does; then:
 *  - totals conserve: the lines sum (sumFigures) to the posting that stands now, field by field,
 *    and their quantities to its quantity, whatever came before (corrections, restatements with
 *    another region, allocation or generator status, a reading no longer accounted);
 *  - idempotency: booking the same value again, in any notation, adds no line;
 *  - no negative stocks: a reading of zero or more never posts a negative figure, except an
 *    export, which only reduces (never raises) consumption and emits nothing.
 * Values are what metering sends: plain decimals of at most 34 significant digits.
 */

const SEED = 20_251_012;

/** Every kind of meter carbon accounts, and two it does not (no posting). */
const METERS: readonly (Partial<MeterFacts> & Pick<MeterFacts, 'commodity' | 'role' | 'unit'>)[] = [
  { commodity: 'electricity', role: 'grid_import', unit: 'kWh' },
  { commodity: 'electricity', role: 'grid_import', unit: 'MWh' },
  { commodity: 'electricity', role: 'internal_transfer', unit: 'kWh', sourceEntityId: 'ent-9' },
  {
    commodity: 'electricity',
    role: 'green_direct_line',
    unit: 'kWh',
    sourceGeneratorId: 'gen-1',
  },
  { commodity: 'electricity', role: 'onsite_pv', unit: 'kWh' },
  { commodity: 'electricity', role: 'wind', unit: 'MWh', sourceGeneratorId: 'gen-1' },
  { commodity: 'electricity', role: 'grid_export', unit: 'kWh' },
  { commodity: 'natural_gas', role: 'grid_import', unit: 'Nm3' },
  { commodity: 'diesel', role: 'sub_meter', unit: 't' },
  { commodity: 'diesel', role: 'sub_meter', unit: 'kg' },
  { commodity: 'heat', role: 'grid_import', unit: 'GJ' },
  { commodity: 'heat', role: 'internal_transfer', unit: 'MJ', sourceEntityId: 'ent-9' },
  { commodity: 'steam', role: 'grid_import', unit: 't', steamEnthalpyGjPerTonne: '2.75' },
  { commodity: 'water', role: 'grid_import', unit: 'm3' },
  { commodity: 'electricity', role: 'storage_soc', unit: '%' },
];

/** Interval starts covered by the 2022 and 2023 sets, and one after them (fallback factors). */
const STARTS = ['2022-07-01T04:00:00.000Z', '2023-06-15T02:00:00.000Z', '2025-05-01T00:00:00Z'];

/** Plain decimals >= 0 with up to 6 decimals (metering's values), a few large or tiny. */
const value: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 0, max: 999_999 }))
      .map(([whole, micro]) => decimalText(new Dec(whole).plus(new Dec(micro).div(1e6)))),
  },
  { weight: 2, arbitrary: fc.constantFrom('0', '1', '12.5', '0.000001') },
  // Up to 34 significant digits, the most metering's values carry.
  { weight: 1, arbitrary: fc.stringMatching(/^[1-9]\d{0,27}\.\d{6}$/) },
);

/** The same quantity in another notation: trailing and leading zeros. */
function respelled(text: string): string {
  const withPoint = text.includes('.') ? `${text}00` : `${text}.000`;
  return `00${withPoint}`;
}

interface Step {
  /** undefined: the reading is no longer accounted (its posting is reversed). */
  value: string | undefined;
  region: string;
  generator: AttributeStatus | undefined;
  allocatedKwh: string | undefined;
}

const step: fc.Arbitrary<Step> = fc.record({
  value: fc.option(value, { freq: 8, nil: undefined }),
  // An unknown region falls back to the national factor.
  region: fc.constantFrom('northeast', 'northeast', 'north', 'national', 'atlantis'),
  generator: fc.constantFrom<AttributeStatus | undefined>('retained', 'sold', undefined),
  allocatedKwh: fc.option(value, { freq: 2, nil: undefined }),
});

function post(
  meter: (typeof METERS)[number],
  start: string,
  s: Step,
  text = s.value,
): Posting | undefined {
  if (text === undefined) return undefined;
  return postReading(
    reading(meter, text, start),
    context({
      gridRegion: s.region,
      generators: s.generator ? { 'gen-1': s.generator } : {},
      ...(s.allocatedKwh !== undefined && { allocatedKwh: s.allocatedKwh }),
    }),
  );
}

function expectSameFigures(actual: PostingFigures, expected: PostingFigures): void {
  for (const field of FIGURE_FIELDS) {
    if (!sameQuantity(actual[field], expected[field])) {
      throw new Error(
        `${field}: the lines sum to ${actual[field]}, the posting says ${expected[field]}`,
      );
    }
  }
}

function quantityOf(lines: LedgerLine[]): Dec {
  return lines.reduce((sum, line) => sum.plus(line.posting.quantity), new Dec(0));
}

describe('rebook: a reading booked again and again', () => {
  it('sums to the standing posting after any sequence, and books a repeated value not at all', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...METERS),
        fc.constantFrom(...STARTS),
        fc.array(step, { minLength: 1, maxLength: 10 }),
        (meter, start, steps) => {
          const lines: LedgerLine[] = [];
          let standing: Posting | undefined;
          for (const s of steps) {
            const next = post(meter, start, s);
            const booked = rebook(standing, next, postingsEqual, reversal, false);
            // At most the reversal of what stood and the new posting, in that order.
            expect(booked.map((line) => line.kind)).toEqual(
              booked.length === 0
                ? []
                : [...(standing ? ['reversal'] : []), ...(next ? ['posting'] : [])],
            );
            lines.push(...booked);
            if (booked.length > 0) standing = next;

            // Totals conserve.
            expectSameFigures(
              sumFigures(lines.map((line) => line.posting.figures)),
              standing?.figures ?? zeroFigures(),
            );
            expect(decimalText(quantityOf(lines))).toBe(
              standing ? decimalText(new Dec(standing.quantity)) : '0',
            );

            // The same value again, as sent or respelled, books nothing.
            if (s.value !== undefined) {
              for (const text of [s.value, respelled(s.value)]) {
                expect(
                  rebook(standing, post(meter, start, s, text), postingsEqual, reversal, false),
                ).toEqual([]);
              }
            }
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('cancels a posting exactly with its reversal, and reverses a reversal back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...METERS),
        fc.constantFrom(...STARTS),
        step.filter((s) => s.value !== undefined),
        (meter, start, s) => {
          const posting = post(meter, start, s);
          fc.pre(posting !== undefined);
          expectSameFigures(
            sumFigures([posting!.figures, reversal(posting!).figures]),
            zeroFigures(),
          );
          expect(postingsEqual(reversal(reversal(posting!)), posting!)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('sumFigures: a period is the sum of its lines', () => {
  it('gives the same totals in any order of the lines', () => {
    fc.assert(
      fc.property(
        fc
          .array(
            fc.tuple(fc.constantFrom(...METERS), fc.constantFrom(...STARTS), step, fc.boolean()),
            { minLength: 1, maxLength: 30 },
          )
          .map((entries) =>
            entries.flatMap(([meter, start, s, reversed]) => {
              const posting = post(meter, start, s);
              if (!posting) return [];
              return reversed ? [posting.figures, reversal(posting).figures] : [posting.figures];
            }),
          )
          .chain((figures) =>
            fc.tuple(
              fc.constant(figures),
              fc.shuffledSubarray(figures, { minLength: figures.length }),
            ),
          ),
        ([figures, shuffled]) => {
          expect(sumFigures(shuffled)).toEqual(sumFigures(figures));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('postReading: no negative stocks', () => {
  it('posts no negative figure for a reading >= 0; an export only reduces and emits nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...METERS),
        fc.constantFrom(...STARTS),
        step.filter((s) => s.value !== undefined),
        (meter, start, s) => {
          const posting = post(meter, start, s);
          if (!posting) return;
          const figures = posting.figures;
          expect(new Dec(posting.quantity).gte(0)).toBe(true);
          if (posting.category === 'electricity_export') {
            for (const field of [
              'electricityKwh',
              'renewableKwh',
              'carbonFreeKwh',
              'energyKgce',
            ] as const) {
              expect(new Dec(figures[field]).lte(0)).toBe(true);
            }
            for (const field of [
              'gridKwh',
              'scope1KgCo2e',
              'scope2LocationKgCo2e',
              'scope2MarketKgCo2e',
            ] as const) {
              expect(new Dec(figures[field]).isZero()).toBe(true);
            }
            return;
          }
          for (const field of FIGURE_FIELDS) expect(new Dec(figures[field]).gte(0)).toBe(true);
          // What certificates may cover, and what is renewable, is part of what was consumed.
          expect(new Dec(figures.gridKwh).lte(figures.electricityKwh)).toBe(true);
          expect(new Dec(figures.renewableKwh).lte(figures.electricityKwh)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('answers a malformed value or instant with a ValidationError, never another error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...METERS),
        fc.oneof(
          fc.constantFrom(
            'NaN',
            'Infinity',
            '-Infinity',
            '1e3',
            '',
            ' 1',
            '1,5',
            '0x10',
            '.5',
            '١',
          ),
          fc.string({ maxLength: 12 }),
        ),
        fc.constantFrom(STARTS[1]!, '', '2023-02-30T00:00:00Z', '2023-06-15 02:00', 'soon'),
        (meter, text, start) => {
          try {
            post(meter, start, {
              value: text,
              region: 'northeast',
              generator: undefined,
              allocatedKwh: undefined,
            });
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
