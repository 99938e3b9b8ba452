import Decimal from 'decimal.js';

/**
 * Quantities are exact decimals. A private clone keeps this service's precision and rounding
 * independent of whatever another module sets on the global Decimal constructor; 34 significant
 * digits (decimal128) leaves headroom for register values times CT/PT multipliers.
 */
export const Dec = Decimal.clone({ precision: 34, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = InstanceType<typeof Dec>;

// Plain decimal notation only: exponents, "NaN", "Infinity", hex and blanks are what a broken
// gateway sends, and accepting them would let garbage through as a number. Leading zeros stay
// allowed because fixed-width register dumps ("000123.4") are common.
const DECIMAL_PATTERN = /^-?\d+(?:\.\d+)?$/;

export function isDecimalString(text: unknown): text is string {
  return typeof text === 'string' && DECIMAL_PATTERN.test(text);
}

/** The decimal, or undefined when the text is not a plain decimal number. */
export function parseDecimal(text: unknown): Dec | undefined {
  return isDecimalString(text) ? new Dec(text) : undefined;
}

/** Canonical text of a quantity: no exponent, no trailing zeros, so equal values compare equal. */
export function decimalText(value: Dec): string {
  const text = value.toFixed();
  return text === '-0' ? '0' : text;
}

export function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return new Dec(a).eq(b);
}
