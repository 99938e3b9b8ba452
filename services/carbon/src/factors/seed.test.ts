import { decimalText } from '@park/domain-primitives';
import { decide, evolve, initialCatalog, allVersions } from './catalog';
import {
  NATURAL_GAS_KGCE_PER_NM3,
  naturalGasKgce,
  steamKgcePerTonne,
  ELECTRICITY_KGCE_PER_KWH,
  HEAT_KGCE_PER_MJ,
  DIESEL_KGCE_PER_KG,
} from './coefficients';
import { resolveFactor } from './resolve';
import { SEED_FACTOR_SETS, seedFactorSets } from './seed';
import { Dec } from '@park/domain-primitives';

describe('seed factor sets', () => {
  const sets = seedFactorSets();
  const byId = new Map(sets.map((set) => [set.setId, set]));
  const value = (setId: string, key: string) =>
    byId.get(setId)!.factors.find((entry) => entry.key === key)!.value;

  it('holds the MEE/NBS grid factors as published', () => {
    expect(value('mee-nbs-grid-2022', 'grid:national')).toBe('0.5366');
    expect(value('mee-nbs-grid-2022', 'grid:northeast')).toBe('0.5564');
    expect(value('mee-nbs-grid-2022', 'residual:national')).toBe('0.5856');
    expect(value('mee-nbs-grid-2023', 'grid:national')).toBe('0.5306');
    expect(value('mee-nbs-grid-2023', 'grid:northeast')).toBe('0.5122');
    expect(value('mee-nbs-grid-2023', 'residual:national')).toBe('0.6096');
    expect(byId.get('mee-nbs-grid-2023')).toMatchObject({
      publisher: 'MEE and NBS',
      year: 2023,
      version: 1,
    });
    expect(byId.get('mee-nbs-grid-2022')!.document).toContain('December 2024');
    expect(byId.get('mee-nbs-grid-2023')!.document).toContain('January 2026');
  });

  it('makes each grid set valid for its calendar year in Shanghai time', () => {
    // [2023-01-01T00:00+08:00, 2024-01-01T00:00+08:00) = [2022-12-31T16:00Z, 2023-12-31T16:00Z).
    expect(byId.get('mee-nbs-grid-2023')).toMatchObject({
      validFrom: '2022-12-31T16:00:00.000Z',
      validTo: '2023-12-31T16:00:00.000Z',
    });
    expect(byId.get('mee-nbs-grid-2022')).toMatchObject({
      validFrom: '2021-12-31T16:00:00.000Z',
      validTo: '2022-12-31T16:00:00.000Z',
    });
    expect(byId.get('gbt-fuel-heat-defaults')).toMatchObject({
      validFrom: '1999-12-31T16:00:00.000Z',
    });
    expect(byId.get('gbt-fuel-heat-defaults')!.validTo).toBeUndefined();
  });

  it('derives natural gas without intermediate rounding', () => {
    // Per 1000 Nm3: 389.31 GJ/10^4 Nm3 / 10 = 38.931 GJ; 15.3 tC/TJ = 0.0153 tC/GJ.
    // 38.931 x 0.0153 = 0.5956443; x 0.99 = 0.589687857; x 44 = 25.946265708;
    // / 12 = 2.162188809 exactly (12 x 2.162188809 = 25.946265708).
    expect(value('gbt-fuel-heat-defaults', 'fuel:natural_gas')).toBe('2.162188809');
    const entry = byId.get('gbt-fuel-heat-defaults')!.factors[0]!;
    expect(entry.unit).toBe('tCO2/1000Nm3');
    expect(entry.derivation).toContain('389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 99 %');
  });

  it('derives diesel at 34 significant digits', () => {
    // 42.652 GJ/t x 0.0202 tC/GJ = 0.8615704; x 0.98 = 0.844338992; x 44 = 37.150915648;
    // / 12 = 3.0959096373333... (the 3 repeats); 34 significant digits, the next digit a 3.
    expect(value('gbt-fuel-heat-defaults', 'fuel:diesel')).toBe(
      '3.095909637333333333333333333333333',
    );
    expect(value('gbt-fuel-heat-defaults', 'heat:purchased')).toBe('0.11');
  });

  it('publishes through the catalog decider and resolves', () => {
    let state = initialCatalog();
    for (const set of SEED_FACTOR_SETS) {
      const events = decide(
        { type: 'PublishFactorSet', set, publishedAt: '2026-02-01T00:00Z', publishedBy: 'seed' },
        state,
      );
      state = events.reduce(evolve, state);
    }
    expect(allVersions(state)).toEqual(sets);
    expect(resolveFactor(allVersions(state), 'fuel:diesel', '2023-06-15T00:00Z')).toMatchObject({
      setId: 'gbt-fuel-heat-defaults',
      unit: 'tCO2/t',
      fallback: false,
    });
  });
});

describe('standard-coal coefficients', () => {
  it('are the GB/T 2589 values', () => {
    expect(decimalText(ELECTRICITY_KGCE_PER_KWH)).toBe('0.1229');
    expect(decimalText(HEAT_KGCE_PER_MJ)).toBe('0.03412');
    expect(decimalText(DIESEL_KGCE_PER_KG)).toBe('1.4571');
  });

  it('compute natural gas from its NCV, not the rounded 1.32836', () => {
    // 38.931 / 29.3076 = 1.328358514515006346476681816320681 (34 significant digits; long
    // division: 29.3076 x 1.3283585 = 38.93099... ), which rounds to 1.32836 at 5 decimals.
    expect(decimalText(NATURAL_GAS_KGCE_PER_NM3)).toBe('1.328358514515006346476681816320681');
    // 500 Nm3: 500 x 38.931 = 19465.5 MJ; / 29.3076 = 664.1792572575031732383409081603407,
    // one rounding (500 x the rounded coefficient would end in ...3405).
    expect(decimalText(naturalGasKgce(new Dec(500)))).toBe('664.1792572575031732383409081603407');
  });

  it('compute steam through its enthalpy', () => {
    // 2.8 GJ/t x 1000 MJ/GJ x 0.03412 kgce/MJ = 2800 x 0.03412 = 95.536 kgce/t.
    expect(decimalText(steamKgcePerTonne(new Dec('2.8')))).toBe('95.536');
  });
});
