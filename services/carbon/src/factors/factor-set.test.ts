import { ValidationError } from '@park/service-kit/errors';
import { gridKey, isFactorKey, validateFactorSet, type FactorSetDraft } from './factor-set';

const draft: FactorSetDraft = {
  setId: 'mee-nbs-grid-2023',
  publisher: 'MEE and NBS',
  document: '2023 electricity CO2 emission factors',
  year: 2023,
  validFrom: '2023-01-01T00:00+08:00',
  validTo: '2024-01-01T00:00+08:00',
  factors: [
    { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
    { key: 'grid:northeast', value: '0.5122', unit: 'kgCO2/kWh' },
    { key: 'residual:national', value: '0.6096', unit: 'kgCO2/kWh' },
  ],
};

function violations(set: FactorSetDraft): { field: string; description: string }[] {
  try {
    validateFactorSet(set);
  } catch (error) {
    if (error instanceof ValidationError) return error.violations;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('validateFactorSet', () => {
  it('returns the set with UTC instants, values as published', () => {
    const set = validateFactorSet(draft);
    // 2023-01-01 00:00 in Shanghai (UTC+8) is 2022-12-31 16:00 UTC.
    expect(set.validFrom).toBe('2022-12-31T16:00:00.000Z');
    expect(set.validTo).toBe('2023-12-31T16:00:00.000Z');
    expect(set.factors[1]).toEqual({ key: 'grid:northeast', value: '0.5122', unit: 'kgCO2/kWh' });
    expect(set.year).toBe(2023);
  });

  it('accepts an open-ended set without a year', () => {
    const { validTo: _to, year: _year, ...rest } = draft;
    const set = validateFactorSet(rest);
    expect(set.validTo).toBeUndefined();
    expect('year' in set).toBe(false);
  });

  it('names the field of a bad value, unit or key', () => {
    const bad: FactorSetDraft = {
      ...draft,
      factors: [
        { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
        { key: 'fuel:natural_gas', value: '2.162', unit: 'tCO2/t' },
        { key: 'grid:northeast', value: '-0.5', unit: 'kgCO2/kWh' },
        { key: 'coal:lignite', value: '1', unit: 'tCO2/t' },
        { key: 'heat:purchased', value: '1e-1', unit: 'tCO2/GJ' },
      ],
    };
    expect(violations(bad).map((v) => v.field)).toEqual([
      'factors[1].unit',
      'factors[2].value',
      'factors[3].key',
      'factors[4].value',
    ]);
    expect(violations(bad)[0]!.description).toContain('tCO2/1000Nm3');
  });

  it('requires the canonical unit of every kind of key', () => {
    const units: [string, string][] = [
      ['grid:national', 'kgCO2/kWh'],
      ['residual:national', 'kgCO2/kWh'],
      ['fuel:natural_gas', 'tCO2/1000Nm3'],
      ['fuel:diesel', 'tCO2/t'],
      ['heat:purchased', 'tCO2/GJ'],
    ];
    for (const [key, unit] of units) {
      expect(() =>
        validateFactorSet({ ...draft, factors: [{ key, value: '1', unit }] }),
      ).not.toThrow();
      expect(violations({ ...draft, factors: [{ key, value: '1', unit: 'tCO2/MWh' }] })).toEqual([
        { field: 'factors[0].unit', description: `${key} is published in ${unit}` },
      ]);
    }
  });

  it('rejects a duplicate key, missing ids and an empty validity', () => {
    const result = violations({
      ...draft,
      setId: ' ',
      publisher: '',
      validTo: '2023-01-01T00:00+08:00',
      factors: [
        { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
        { key: 'grid:national', value: '0.5307', unit: 'kgCO2/kWh' },
      ],
    });
    expect(result.map((v) => v.field)).toEqual([
      'set_id',
      'publisher',
      'valid_to',
      'factors[1].key',
    ]);
  });

  it('rejects bad instants, a bad year and an empty factor list', () => {
    const result = violations({
      ...draft,
      year: 23.5,
      validFrom: '2023-01-01',
      validTo: 'soon',
      factors: [],
    });
    expect(result.map((v) => v.field)).toEqual(['year', 'valid_from', 'valid_to', 'factors']);
  });
});

describe('factor keys', () => {
  it('knows grid regions and the fixed keys', () => {
    expect(isFactorKey('grid:northeast')).toBe(true);
    expect(isFactorKey('residual:national')).toBe(true);
    expect(isFactorKey('grid')).toBe(false);
    expect(isFactorKey('grid:')).toBe(false);
    expect(isFactorKey('grid:North East')).toBe(false);
    expect(isFactorKey('residual:northeast')).toBe(false);
    expect(isFactorKey('constructor')).toBe(false);
  });

  it("maps metering's region names onto the published keys", () => {
    expect(gridKey('northeast')).toBe('grid:northeast');
    expect(gridKey('northeast_china')).toBe('grid:northeast');
    expect(gridKey('national')).toBe('grid:national');
  });
});
