// The figures carbon and reporting must show, computed independently of them: exact decimal
// arithmetic on the readings sent and the published seed factors (shared by the end-to-end and
// fault tests, which both compare the services' figures with their own sums).

/**
 * The factors the figures must be computed with, hard-coded from the factor catalog's seed
 * (services/carbon/src/factors/seed.ts): the simulated days lie in 2026, for which no grid set
 * is published, so the 2023 set applies as the latest earlier one (resolve.ts, `fallback`).
 * Carbon's own factor references are only used to confirm these numbers.
 */
export const FACTORS = {
  /** grid:northeast, MEE and NBS 2023, kgCO2/kWh (location-based). */
  grid: '0.5122',
  /** residual:national, 2023, kgCO2/kWh: market-based grid electricity without certificates. */
  residual: '0.6096',
  /** fuel:natural_gas, GB/T 32151 defaults: tCO2 per 1000 Nm3 = kgCO2 per Nm3. */
  gas: '2.162188809',
  /** heat:purchased, GB/T 32150: 0.11 tCO2/GJ = 110 kg/GJ. */
  heat: '110',
};

// ---- exact decimals: integers of 10^-12 units (readings have 3 decimals, factors at most 9) ----

export const SCALE = 12;
export const ONE = 10n ** BigInt(SCALE);

/** A plain decimal text as 10^-12 units; refuses more digits than that, so nothing is lost. */
export function exact(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a plain decimal`);
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  if (fraction.length > SCALE) throw new Error(`'${text}' has more than ${SCALE} decimals`);
  const units = BigInt(match[2]!) * ONE + BigInt(fraction.padEnd(SCALE, '0'));
  return match[1] ? -units : units;
}

export function times(a: bigint, b: bigint): bigint {
  const product = a * b;
  if (product % ONE !== 0n) throw new Error('product needs more than 12 decimals');
  return product / ONE;
}

/** Canonical decimal text (no trailing zeros), or fixed `places` rounded half-even. */
export function text(units: bigint, places?: number): string {
  let value = units;
  let scale = SCALE;
  if (places !== undefined && places < SCALE) {
    const step = 10n ** BigInt(SCALE - places);
    const sign = value < 0n ? -1n : 1n;
    const magnitude = value * sign;
    let quotient = magnitude / step;
    const remainder = magnitude % step;
    if (remainder * 2n > step || (remainder * 2n === step && quotient % 2n === 1n)) quotient += 1n;
    value = quotient * sign;
    scale = places;
  }
  const sign = value < 0n ? '-' : '';
  const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  let fraction = digits.slice(digits.length - scale);
  if (places === undefined) fraction = fraction.replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** A service's decimal in canonical form, for comparing texts of different shapes. */
export const canonical = (value: string | undefined): string => text(exact(value ?? '0'));

// ---- readings summed per kind of meter ----

export interface Sums {
  grid: bigint;
  directLine: bigint;
  pv: bigint;
  gas: bigint;
  heat: bigint;
}

export const zero = (): Sums => ({ grid: 0n, directLine: 0n, pv: 0n, gas: 0n, heat: 0n });
export const KIND_FIELD = {
  grid: 'grid',
  direct_line: 'directLine',
  pv: 'pv',
  gas: 'gas',
  heat: 'heat',
} as const;

export const electricity = (s: Sums) => s.grid + s.directLine + s.pv;
export const scope1 = (s: Sums) => times(s.gas, exact(FACTORS.gas));
export const heatKg = (s: Sums) => times(s.heat, exact(FACTORS.heat));
export const scope2Location = (s: Sums) => times(s.grid, exact(FACTORS.grid)) + heatKg(s);
/** Direct line and on-site PV at zero: their generators keep the attributes (retained). */
export const scope2Market = (s: Sums) => times(s.grid, exact(FACTORS.residual)) + heatKg(s);
