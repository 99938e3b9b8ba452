import Decimal from 'decimal.js';
import fc from 'fast-check';
import { cfeScore, renewableShare, showFigures, sumFigures, zeroFigures } from './figures';
import type { PostingFigures } from './model';
import { plainDecimalText } from '../test-support/decimal-arbitraries';

const figures = (overrides: Partial<PostingFigures>): PostingFigures => ({
  ...zeroFigures(),
  ...overrides,
});

describe('sumFigures and zeroFigures', () => {
  it('sums field by field at full precision', () => {
    expect(
      sumFigures([
        figures({ scope1KgCo2e: '0.1', electricityKwh: '10' }),
        figures({ scope1KgCo2e: '0.2', electricityKwh: '-2.5' }),
      ]),
    ).toEqual(figures({ scope1KgCo2e: '0.3', electricityKwh: '7.5' }));
  });

  it('does not depend on the order or grouping of the terms', () => {
    // 100 Nm3 of gas: 3,893.1 MJ / 29.3076 = 132.8358514515006346476681816320681 kgce (34
    // digits), plus 4,000 kWh x 0.1229 = 491.6 kgce: 624.4358514515006346476681816320681, 34
    // digits. The same after a restatement reversed the 491.6 and posted it again, grouped as
    // 983.2 and -491.6: a running 34-digit total would pass 1,116.0358...0681 and lose its 1.
    const gas = '132.8358514515006346476681816320681';
    const expected = '624.4358514515006346476681816320681';
    expect(
      sumFigures([figures({ energyKgce: '491.6' }), figures({ energyKgce: gas })]).energyKgce,
    ).toBe(expected);
    expect(
      sumFigures([
        figures({ energyKgce: '983.2' }),
        figures({ energyKgce: gas }),
        figures({ energyKgce: '-491.6' }),
      ]).energyKgce,
    ).toBe(expected);
  });

  it('sums as exact decimal addition rounded once to 34 digits half-even, whatever the terms', () => {
    // The reference: decimal.js with room for every digit, rounded once at the end, printed
    // without exponent or trailing zeros (and 0 for -0).
    const Exact = Decimal.clone({ precision: 1_000, rounding: Decimal.ROUND_HALF_EVEN });
    const reference = (terms: string[]): string => {
      const text = terms
        .reduce((total, term) => total.plus(term), new Exact(0))
        .toSignificantDigits(34, Decimal.ROUND_HALF_EVEN)
        .toFixed();
      return text === '-0' ? '0' : text;
    };
    const term: fc.Arbitrary<string> = fc.oneof(
      plainDecimalText,
      fc.constantFrom('0', '-0', '0.5', '-0.5', '1e-7', '2.5E+3', '9'.repeat(40)),
    );
    fc.assert(
      fc.property(fc.array(term, { minLength: 1, maxLength: 12 }), (terms) => {
        const sum = sumFigures(terms.map((energyKgce) => figures({ energyKgce })));
        expect(sum.energyKgce).toBe(reference(terms));
      }),
      { numRuns: 2_000 },
    );
    // Ties at the 35th digit go to the even 34th; 34 nines carry into a 35th digit.
    const ones = '1'.repeat(33);
    for (const terms of [
      [`${ones}2.5`],
      [`${ones}3.5`],
      [`-${ones}2.5`],
      [`${ones}2.4`, '0.1'],
      ['9'.repeat(34) + '.5'],
      ['5', '-5'],
      ['1.50', '2.250', '0003'],
    ]) {
      expect(sumFigures(terms.map((energyKgce) => figures({ energyKgce }))).energyKgce).toBe(
        reference(terms),
      );
    }
    // Worked by hand: 1111...12.5 (33 ones, 2, .5) is a tie at 34 digits, 2 is even: down.
    expect(sumFigures([figures({ energyKgce: `${ones}2.5` })]).energyKgce).toBe(`${ones}2`);
    // 34 nines and .5: a tie, 9 is odd: up to 10^34.
    expect(sumFigures([figures({ energyKgce: '9'.repeat(34) + '.5' })]).energyKgce).toBe(
      `1${'0'.repeat(34)}`,
    );
  });

  it('sums nothing to zero', () => {
    expect(sumFigures([])).toEqual(zeroFigures());
    expect(Object.values(zeroFigures())).toEqual(['0', '0', '0', '0', '0', '0', '0', '0']);
  });
});

describe('showFigures', () => {
  it('rounds kgCO2e and kgce half-even to 3 decimals, leaves kWh alone', () => {
    const shown = showFigures(
      figures({
        scope1KgCo2e: '1.0005', // tie, 0 is even: down
        scope2LocationKgCo2e: '1.0015', // tie, 1 is odd: up to 2
        scope2MarketKgCo2e: '-0.0004', // rounds to zero, shown without a sign
        energyKgce: '2.5',
        electricityKwh: '0.12345',
      }),
    );
    expect(shown).toMatchObject({
      scope1KgCo2e: '1.000',
      scope2LocationKgCo2e: '1.002',
      scope2MarketKgCo2e: '0.000',
      energyKgce: '2.500',
      electricityKwh: '0.12345',
    });
  });
});

describe('cfeScore', () => {
  it('matches consumption hour by hour', () => {
    // Matched: min(5, 10) + min(15, 10) + min(0, 20) = 5 + 10 + 0 = 15; consumed 40;
    // 15 / 40 = 0.375. The surplus of the second hour does not carry over.
    expect(
      cfeScore([
        { electricityKwh: '10', carbonFreeKwh: '5' },
        { electricityKwh: '10', carbonFreeKwh: '15' },
        { electricityKwh: '20', carbonFreeKwh: '0' },
      ]),
    ).toBe('0.375');
  });

  it('ignores net-export hours and negative carbon-free supply', () => {
    // Hour 2 (net export) adds nothing; hour 3's -3 counts as 0. 5 / (10 + 10) = 0.25.
    expect(
      cfeScore([
        { electricityKwh: '10', carbonFreeKwh: '5' },
        { electricityKwh: '-5', carbonFreeKwh: '-5' },
        { electricityKwh: '10', carbonFreeKwh: '-3' },
      ]),
    ).toBe('0.25');
  });

  it('is undefined without consumption', () => {
    expect(cfeScore([])).toBeUndefined();
    expect(cfeScore([{ electricityKwh: '-1', carbonFreeKwh: '0' }])).toBeUndefined();
  });
});

describe('renewableShare', () => {
  it('adds certificate-covered grid power to renewable power', () => {
    // (4,000 + 4,000) / 14,000 = 4/7 = 0.571428 571428 ... (34 digits, next digit 2: down).
    expect(renewableShare('14000', '4000', '4000')).toBe('0.5714285714285714285714285714285714');
    // (250 + 250) / 1,000 = 0.5
    expect(renewableShare('1000', '250', '250')).toBe('0.5');
  });

  it('is undefined without consumption', () => {
    expect(renewableShare('0', '0', '0')).toBeUndefined();
  });
});
