import { postingsEqual, reversal } from './diff';
import { sumFigures, zeroFigures } from './figures';
import type { Posting } from './model';

const posting: Posting = {
  meterId: 'm-1',
  enterpriseId: 'ent-1',
  intervalStart: '2023-06-15T02:00:00.000Z',
  commodity: 'electricity',
  role: 'grid_import',
  category: 'grid_electricity',
  quantity: '100',
  unit: 'kWh',
  quality: 'measured',
  figures: {
    energyKgce: '12.29',
    electricityKwh: '100',
    gridKwh: '100',
    renewableKwh: '0',
    carbonFreeKwh: '0',
    scope1KgCo2e: '0',
    scope2LocationKgCo2e: '51.22',
    scope2MarketKgCo2e: '60.96',
  },
  factors: [
    {
      key: 'grid:northeast',
      setId: 'mee-nbs-grid-2023',
      version: 1,
      value: '0.5122',
      unit: 'kgCO2/kWh',
      fallback: false,
    },
    {
      key: 'residual:national',
      setId: 'mee-nbs-grid-2023',
      version: 1,
      value: '0.6096',
      unit: 'kgCO2/kWh',
      fallback: false,
    },
  ],
  basis: 'reading',
};

describe('reversal', () => {
  it('negates every figure and the quantity, keeping the rest', () => {
    const reversed = reversal(posting);
    expect(reversed).toEqual({
      ...posting,
      quantity: '-100',
      figures: {
        energyKgce: '-12.29',
        electricityKwh: '-100',
        gridKwh: '-100',
        renewableKwh: '0', // not "-0"
        carbonFreeKwh: '0',
        scope1KgCo2e: '0',
        scope2LocationKgCo2e: '-51.22',
        scope2MarketKgCo2e: '-60.96',
      },
    });
  });

  it('cancels the posting', () => {
    expect(sumFigures([posting.figures, reversal(posting).figures])).toEqual(zeroFigures());
    expect(reversal(reversal(posting))).toEqual(posting);
  });
});

describe('postingsEqual', () => {
  it('is true for the same posting, figures compared as numbers', () => {
    expect(postingsEqual(posting, { ...posting })).toBe(true);
    expect(
      postingsEqual(posting, {
        ...posting,
        quantity: '100.0',
        figures: { ...posting.figures, scope2LocationKgCo2e: '51.220' },
      }),
    ).toBe(true);
    // A quality flag alone changes no figure.
    expect(postingsEqual(posting, { ...posting, quality: 'estimated' })).toBe(true);
  });

  it('sees a changed quantity, figure, category or supplier', () => {
    expect(postingsEqual(posting, { ...posting, quantity: '101' })).toBe(false);
    expect(
      postingsEqual(posting, {
        ...posting,
        figures: { ...posting.figures, scope2MarketKgCo2e: '61' },
      }),
    ).toBe(false);
    expect(postingsEqual(posting, { ...posting, category: 'internal_electricity' })).toBe(false);
    expect(postingsEqual(posting, { ...posting, internalSupplierId: 'ent-chp' })).toBe(false);
  });

  it('sees a new factor version even with the same value', () => {
    const restated = {
      ...posting,
      factors: [posting.factors[0]!, { ...posting.factors[1]!, version: 2 }],
    };
    expect(postingsEqual(posting, restated)).toBe(false);
    expect(postingsEqual(posting, { ...posting, factors: [posting.factors[0]!] })).toBe(false);
  });
});
