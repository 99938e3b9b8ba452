import { classifyCnCode, indirectEmissionsCount, type CbamSector } from './index';

describe('CBAM Annex I', () => {
  it.each([
    ['7601 10 00', '76011000', 'aluminium', false],
    ['7604 10 10', '76041010', 'aluminium', false],
    ['76169910', '76169910', 'aluminium', false],
    ['2523 29 00', '25232900', 'cement', true],
    ['2507 00 80', '25070080', 'cement', true],
    ['2716 00 00', '27160000', 'electricity', false],
    ['2814 10 00', '28141000', 'fertilisers', true],
    ['3105 20 10', '31052010', 'fertilisers', true],
    ['2804 10 00', '28041000', 'hydrogen', false],
    ['7208 51 20', '72085120', 'iron_and_steel', false],
    // Ferro-manganese (7202 11) and ferro-nickel (7202 60) stay in; see the exclusions below.
    ['7202 11 20', '72021120', 'iron_and_steel', false],
    ['7202 60 00', '72026000', 'iron_and_steel', false],
    ['7318 15 88', '73181588', 'iron_and_steel', false],
    // Sintered ore is iron and steel but not in Annex II: its indirect emissions count.
    ['2601 12 00', '26011200', 'iron_and_steel', true],
  ])('classifies %s', (code, cnCode, sector, indirect) => {
    expect(classifyCnCode(code)).toMatchObject({
      cnCode,
      sector,
      indirectEmissionsCount: indirect,
    });
  });

  it.each([
    ['7615 10 10', 'aluminium household articles'],
    ['7602 00 19', 'aluminium waste and scrap'],
    ['3105 60 00', 'fertilisers with phosphorus and potassium only'],
    ['7202 21 00', 'ferro-silicon'],
    ['7202 30 00', 'ferro-silico-manganese'],
    ['7202 99 30', 'ferro-silico-magnesium'],
    ['7204 49 10', 'ferrous scrap'],
    ['7312 10 20', 'stranded wire of steel, not in the list of chapter 73'],
    ['2601 11 00', 'non-agglomerated iron ore'],
    ['2804 29 10', 'helium'],
  ])('leaves %s (%s) out', (code) => {
    expect(classifyCnCode(code)).toBeUndefined();
  });

  it.each(['7601', '7601 10 0', '7601-10-00', '7601 10 000', 'abcdefgh', ''])(
    'refuses %j as not an 8-digit code',
    (code) => {
      expect(classifyCnCode(code)).toBeUndefined();
    },
  );

  it('names the Annex I line and its gases', () => {
    expect(classifyCnCode(' 3102 10 10 ')).toEqual({
      cnCode: '31021010',
      sector: 'fertilisers',
      annexOneLine: '3102',
      greenhouseGases: 'CO2 and N2O',
      indirectEmissionsCount: true,
    });
  });

  it('counts indirect emissions for cement and fertilisers only', () => {
    const counts: Record<CbamSector, boolean> = {
      cement: true,
      fertilisers: true,
      iron_and_steel: false,
      aluminium: false,
      hydrogen: false,
      electricity: false,
    };
    for (const [sector, expected] of Object.entries(counts)) {
      expect(indirectEmissionsCount(sector as CbamSector)).toBe(expected);
    }
  });
});
