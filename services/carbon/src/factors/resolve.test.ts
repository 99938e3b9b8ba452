import { ValidationError } from '@park/service-kit/errors';
import type { FactorSet } from './factor-set';
import {
  factorLookup,
  latestVersions,
  MissingFactorError,
  resolveFactor,
  resolveGridFactor,
} from './resolve';

// Literal sets (not the seed) so each expectation reads off this file.
const grid2022: FactorSet = {
  setId: 'grid-2022',
  version: 1,
  publisher: 'MEE and NBS',
  document: '2022 factors',
  year: 2022,
  validFrom: '2021-12-31T16:00:00.000Z', // 2022-01-01T00:00+08:00
  validTo: '2022-12-31T16:00:00.000Z', // 2023-01-01T00:00+08:00
  factors: [
    { key: 'grid:national', value: '0.5366', unit: 'kgCO2/kWh' },
    { key: 'grid:northeast', value: '0.5564', unit: 'kgCO2/kWh' },
  ],
};
const grid2023: FactorSet = {
  ...grid2022,
  setId: 'grid-2023',
  document: '2023 factors',
  year: 2023,
  validFrom: '2022-12-31T16:00:00.000Z',
  validTo: '2023-12-31T16:00:00.000Z',
  factors: [
    { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
    { key: 'grid:northeast', value: '0.5122', unit: 'kgCO2/kWh' },
  ],
};
const grid2023v2: FactorSet = {
  ...grid2023,
  version: 2,
  factors: [
    { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
    { key: 'grid:northeast', value: '0.5130', unit: 'kgCO2/kWh' },
  ],
};
const fuels: FactorSet = {
  setId: 'fuels',
  version: 1,
  publisher: 'AQSIQ and SAC',
  document: 'defaults',
  validFrom: '1999-12-31T16:00:00.000Z',
  factors: [{ key: 'heat:purchased', value: '0.11', unit: 'tCO2/GJ' }],
};

const june2023 = '2023-06-15T04:00:00Z';

describe('resolveFactor', () => {
  it('takes the set whose validity covers the instant', () => {
    expect(resolveFactor([grid2022, grid2023, fuels], 'grid:northeast', june2023)).toEqual({
      key: 'grid:northeast',
      setId: 'grid-2023',
      version: 1,
      value: '0.5122',
      unit: 'kgCO2/kWh',
      fallback: false,
    });
  });

  it('uses only the latest version of a republished set', () => {
    const ref = resolveFactor([grid2023v2, grid2022, grid2023], 'grid:northeast', june2023);
    expect(ref).toMatchObject({ setId: 'grid-2023', version: 2, value: '0.5130' });
    expect(latestVersions([grid2023, grid2023v2, grid2022]).map((s) => s.version)).toEqual([2, 1]);
  });

  it('falls back to the set that ended last before an uncovered instant', () => {
    // 2025 is not published: 2023's set ended 2024-01-01 (+08:00), later than 2022's.
    const ref = resolveFactor([grid2022, grid2023], 'grid:national', '2025-03-01T00:00:00Z');
    expect(ref).toMatchObject({ setId: 'grid-2023', value: '0.5306', fallback: true });
  });

  it('treats validTo as exclusive, validFrom as inclusive', () => {
    // 2023-01-01T00:00+08:00 exactly: the first instant of 2023.
    expect(
      resolveFactor([grid2022, grid2023], 'grid:national', '2023-01-01T00:00+08:00'),
    ).toMatchObject({ setId: 'grid-2023', fallback: false });
    expect(
      resolveFactor([grid2022, grid2023], 'grid:national', '2022-12-31T23:59:59+08:00'),
    ).toMatchObject({ setId: 'grid-2022', fallback: false });
  });

  it('prefers the covering set with the latest validFrom', () => {
    const provisional: FactorSet = {
      ...grid2023,
      setId: 'provisional',
      validFrom: '2023-06-30T16:00:00.000Z', // 2023-07-01T00:00+08:00, open-ended
      validTo: undefined,
      factors: [{ key: 'grid:northeast', value: '0.5000', unit: 'kgCO2/kWh' }],
    };
    const sets = [grid2023, provisional];
    expect(resolveFactor(sets, 'grid:northeast', '2023-08-01T00:00Z')?.setId).toBe('provisional');
    expect(resolveFactor(sets, 'grid:northeast', june2023)?.setId).toBe('grid-2023');
    // The provisional set lacks the national key: 2023's set still answers for it.
    expect(resolveFactor(sets, 'grid:national', '2023-08-01T00:00Z')?.setId).toBe('grid-2023');
  });

  it('has no answer before the first set, and never looks forward', () => {
    expect(resolveFactor([grid2022, grid2023], 'grid:national', '2020-06-01T00:00Z')).toBe(
      undefined,
    );
  });

  it('covers any later instant with an open-ended set', () => {
    expect(resolveFactor([fuels], 'heat:purchased', '2031-01-01T00:00Z')).toMatchObject({
      setId: 'fuels',
      fallback: false,
    });
  });

  it('rejects a malformed instant', () => {
    expect(() => resolveFactor([fuels], 'heat:purchased', '2023-06-15')).toThrow(ValidationError);
  });
});

describe('resolveGridFactor', () => {
  it("uses the region's own factor when there is one", () => {
    expect(resolveGridFactor([grid2023], 'northeast', june2023)).toMatchObject({
      key: 'grid:northeast',
      value: '0.5122',
    });
  });

  it('falls back to the national factor for a region without one', () => {
    expect(resolveGridFactor([grid2023], 'northwest', june2023)).toMatchObject({
      key: 'grid:national',
      value: '0.5306',
      fallback: false,
    });
  });
});

describe('factorLookup', () => {
  it('throws a MissingFactorError naming the key and the instant', () => {
    const lookup = factorLookup([grid2023]);
    expect(() => lookup('residual:national', '2023-06-15T12:00+08:00')).toThrow(
      new MissingFactorError('residual:national', '2023-06-15T04:00:00.000Z'),
    );
    expect(() => lookup('residual:national', june2023)).toThrow(
      'no emission factor residual:national is published for 2023-06-15T04:00:00.000Z or any earlier period',
    );
  });
});
