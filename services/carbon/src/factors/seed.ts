import { Dec, decimalText } from '@park/domain-primitives';
import { validateFactorSet, type FactorSet, type FactorSetDraft } from './factor-set';

/**
 * The catalog's seed sets (DESIGN.md, Carbon). Grid factors are stored as published; fuel
 * factors are derived from the standard's parameters without intermediate rounding (all
 * multiplications are exact, the one division comes last), at 34 significant digits.
 */

/** tCO2 per 1000 Nm3 from NCV (GJ per 10^4 Nm3), carbon content (tC/TJ), oxidation (%). */
function gasFactor(ncvGjPer10kNm3: string, tcPerTj: string, oxidisedPercent: string): Dec {
  // GJ/10^4 Nm3 / 10 = GJ/1000 Nm3; tC/TJ / 1000 = tC/GJ; % / 100; x 44/12 (CO2/C).
  return new Dec(ncvGjPer10kNm3)
    .times(tcPerTj)
    .times(oxidisedPercent)
    .times(44)
    .div(new Dec(10).times(1000).times(100).times(12));
}

/** tCO2 per t from NCV (GJ/t), carbon content (tC/TJ), oxidation (%). */
function liquidFuelFactor(ncvGjPerT: string, tcPerTj: string, oxidisedPercent: string): Dec {
  return new Dec(ncvGjPerT)
    .times(tcPerTj)
    .times(oxidisedPercent)
    .times(44)
    .div(new Dec(1000).times(100).times(12));
}

export const NATURAL_GAS_FACTOR = gasFactor('389.31', '15.3', '99');
export const DIESEL_FACTOR = liquidFuelFactor('42.652', '20.2', '98');

const MEE_NBS = 'MEE and NBS';

export const SEED_FACTOR_SETS: readonly FactorSetDraft[] = [
  {
    setId: 'mee-nbs-grid-2022',
    publisher: MEE_NBS,
    document:
      'Announcement on the 2022 electricity CO2 emission factors (MEE and NBS, published December 2024)',
    year: 2022,
    // The calendar year in Asia/Shanghai time (UTC+8, no daylight saving).
    validFrom: '2022-01-01T00:00+08:00',
    validTo: '2023-01-01T00:00+08:00',
    factors: [
      { key: 'grid:national', value: '0.5366', unit: 'kgCO2/kWh' },
      { key: 'grid:northeast', value: '0.5564', unit: 'kgCO2/kWh' },
      // National, excluding market-traded non-fossil power: the residual factor.
      { key: 'residual:national', value: '0.5856', unit: 'kgCO2/kWh' },
    ],
  },
  {
    setId: 'mee-nbs-grid-2023',
    publisher: MEE_NBS,
    document:
      'Announcement on the 2023 electricity CO2 emission factors (MEE and NBS, published January 2026)',
    year: 2023,
    validFrom: '2023-01-01T00:00+08:00',
    validTo: '2024-01-01T00:00+08:00',
    factors: [
      { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
      { key: 'grid:northeast', value: '0.5122', unit: 'kgCO2/kWh' },
      // National, excluding market-traded non-fossil power: the residual factor.
      { key: 'residual:national', value: '0.6096', unit: 'kgCO2/kWh' },
    ],
  },
  {
    setId: 'gbt-fuel-heat-defaults',
    publisher: 'AQSIQ and SAC (national standards)',
    document:
      'GB/T 32151 default fuel parameters (natural gas, diesel); GB/T 32150 purchased heat factor',
    validFrom: '2000-01-01T00:00+08:00',
    factors: [
      {
        key: 'fuel:natural_gas',
        value: decimalText(NATURAL_GAS_FACTOR),
        unit: 'tCO2/1000Nm3',
        derivation:
          'NCV 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 99 % oxidised x 44/12, per 1000 Nm3: ' +
          '38.931 GJ x 0.0153 tC/GJ x 0.99 x 44/12, no intermediate rounding',
      },
      {
        key: 'fuel:diesel',
        value: decimalText(DIESEL_FACTOR),
        unit: 'tCO2/t',
        derivation:
          'NCV 42.652 GJ/t x 20.2 tC/TJ x 98 % oxidised x 44/12: ' +
          '42.652 GJ x 0.0202 tC/GJ x 0.98 x 44/12, no intermediate rounding, 34 significant digits',
      },
      { key: 'heat:purchased', value: '0.11', unit: 'tCO2/GJ' },
    ],
  },
];

/** The seed sets as first versions, in canonical form (what the catalog holds after seeding). */
export function seedFactorSets(): FactorSet[] {
  return SEED_FACTOR_SETS.map((draft) => ({ ...validateFactorSet(draft), version: 1 }));
}
