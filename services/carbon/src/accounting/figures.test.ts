import { cfeScore, renewableShare, showFigures, sumFigures, zeroFigures } from './figures';
import type { PostingFigures } from './model';

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
