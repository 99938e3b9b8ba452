import { renewableShare, showFigures, sumFigures } from './figures';
import type { AttributeStatus, Posting } from './model';
import { postReading } from './post-reading';
import { context, reading } from './test-support/readings';

/**
 * DESIGN.md's reference day: one enterprise in the Northeast grid, 2023 factors (northeast
 * 0.5122, residual 0.6096 kgCO2/kWh), gas 2.162188809 tCO2/1000 Nm3, heat 0.11 tCO2/GJ.
 * Every expected value below is worked out by hand in the comments.
 */
function referenceDay(directLineStatus: AttributeStatus): Posting[] {
  const ctx = context({ generators: { 'gen-dl': directLineStatus } });
  const inputs = [
    reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '10000'),
    reading(
      {
        commodity: 'electricity',
        role: 'green_direct_line',
        unit: 'kWh',
        sourceGeneratorId: 'gen-dl',
      },
      '3000',
    ),
    reading({ commodity: 'electricity', role: 'onsite_pv', unit: 'kWh' }, '1000'),
    reading({ commodity: 'natural_gas', role: 'grid_import', unit: 'Nm3' }, '500'),
    reading({ commodity: 'heat', role: 'grid_import', unit: 'GJ' }, '20'),
  ];
  return inputs.map((input) => postReading(input, ctx)!);
}

describe('the reference day', () => {
  const postings = referenceDay('retained');
  const total = sumFigures(postings.map((p) => p.figures));

  it('posts each reading with its own figures', () => {
    const [grid, direct, pv, gas, heat] = postings;
    // Grid: 10,000 x 0.5122 = 5,122 kg location; 10,000 x 0.6096 = 6,096 kg market;
    // 10,000 x 0.1229 = 1,229 kgce.
    expect(grid!.figures).toEqual({
      energyKgce: '1229',
      electricityKwh: '10000',
      gridKwh: '10000',
      renewableKwh: '0',
      carbonFreeKwh: '0',
      scope1KgCo2e: '0',
      scope2LocationKgCo2e: '5122',
      scope2MarketKgCo2e: '6096',
    });
    // Direct line, attributes retained: no grid, zero market; 3,000 x 0.1229 = 368.7 kgce.
    expect(direct!.figures).toEqual({
      energyKgce: '368.7',
      electricityKwh: '3000',
      gridKwh: '0',
      renewableKwh: '3000',
      carbonFreeKwh: '3000',
      scope1KgCo2e: '0',
      scope2LocationKgCo2e: '0',
      scope2MarketKgCo2e: '0',
    });
    expect(direct).toMatchObject({ generatorId: 'gen-dl', attributeStatus: 'retained' });
    // On-site PV without a generator id: own plant, retained; 1,000 x 0.1229 = 122.9 kgce.
    expect(pv!.figures).toMatchObject({
      energyKgce: '122.9',
      renewableKwh: '1000',
      scope2MarketKgCo2e: '0',
    });
    expect(pv!.attributeStatus).toBe('retained');
    // Gas: 500 Nm3 x 2.162188809 kg/Nm3 = 1,081.0944045 kg CO2;
    // 500 x 38.931 = 19,465.5 MJ / 29.3076 = 664.1792572575031732383409081603407 kgce.
    expect(gas!.figures).toMatchObject({
      scope1KgCo2e: '1081.0944045',
      energyKgce: '664.1792572575031732383409081603407',
      scope2LocationKgCo2e: '0',
    });
    // Heat: 20 GJ x 0.11 t/GJ x 1000 = 2,200 kg both methods; 20,000 MJ x 0.03412 = 682.4 kgce.
    expect(heat!.figures).toMatchObject({
      scope2LocationKgCo2e: '2200',
      scope2MarketKgCo2e: '2200',
      energyKgce: '682.4',
    });
  });

  it('adds up to the day at full precision', () => {
    expect(total).toEqual({
      // 1,229 + 368.7 + 122.9 + 682.4 = 2,403; + 664.17925725750317323834090816034|07
      // = 3,067.1792572575031732383409081603407, 35 digits, rounded to 34 (next digit 7: up).
      energyKgce: '3067.179257257503173238340908160341',
      // 10,000 + 3,000 + 1,000
      electricityKwh: '14000',
      gridKwh: '10000',
      // 3,000 direct line + 1,000 PV
      renewableKwh: '4000',
      carbonFreeKwh: '4000',
      scope1KgCo2e: '1081.0944045',
      // 10,000 x 0.5122 + 20 x 110 = 5,122 + 2,200
      scope2LocationKgCo2e: '7322',
      // 10,000 x 0.6096 + 2,200 = 6,096 + 2,200 (before certificates)
      scope2MarketKgCo2e: '8296',
    });
  });

  it('shows the day rounded to the gram', () => {
    expect(showFigures(total)).toEqual({
      energyKgce: '3067.179', // 3,067.179|257... half-even: down
      electricityKwh: '14000',
      gridKwh: '10000',
      renewableKwh: '4000',
      carbonFreeKwh: '4000',
      scope1KgCo2e: '1081.094', // 1,081.094|4045: down
      scope2LocationKgCo2e: '7322.000',
      scope2MarketKgCo2e: '8296.000',
    });
  });

  it('has a renewable share of 4,000 / 14,000', () => {
    // 2/7 = 0.285714 285714 ... to 34 significant digits (next digit 1: down).
    expect(renewableShare(total.electricityKwh, total.renewableKwh, '0')).toBe(
      '0.2857142857142857142857142857142857',
    );
  });

  it("charges the residual factor when the direct line's generator sold its attributes", () => {
    const sold = referenceDay('sold');
    const soldTotal = sumFigures(sold.map((p) => p.figures));
    // Direct line: 3,000 x 0.6096 = 1,828.8 kg; market 8,296 + 1,828.8 = 10,124.8 kg.
    expect(sold[1]!.figures.scope2MarketKgCo2e).toBe('1828.8');
    expect(sold[1]!.attributeStatus).toBe('sold');
    expect(sold[1]!.factors.map((f) => f.key)).toEqual(['residual:national']);
    expect(soldTotal.scope2MarketKgCo2e).toBe('10124.8');
    expect(showFigures(soldTotal).scope2MarketKgCo2e).toBe('10124.800');
    // Location-based and energy do not depend on attributes.
    expect(soldTotal.scope2LocationKgCo2e).toBe('7322');
    expect(soldTotal.energyKgce).toBe(total.energyKgce);
    // Only the on-site PV's 1,000 kWh stays renewable and carbon-free.
    expect(soldTotal.renewableKwh).toBe('1000');
    expect(soldTotal.carbonFreeKwh).toBe('1000');
  });
});
