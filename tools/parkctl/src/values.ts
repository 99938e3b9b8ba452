// Option values that become contract fields: exact decimals, whole numbers, ids.
import type { park } from '@park/contracts';
import { UsageError } from './errors';

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** An exact decimal as the contract carries it ("1234.5", never 1.2345e3). */
export function decimalOf(text: string, option: string): park.common.v1.Decimal {
  const value = text.trim();
  if (!PLAIN_DECIMAL.test(value)) {
    throw new UsageError(`${option} must be a plain decimal number such as 12.5 (not "${text}")`);
  }
  return { value };
}

export function optionalDecimal(
  text: string | undefined,
  option: string,
): park.common.v1.Decimal | undefined {
  return text === undefined ? undefined : decimalOf(text, option);
}

/** A decimal's text, or undefined when the field is absent. */
export function dec(value: park.common.v1.Decimal | undefined): string | undefined {
  return value?.value;
}

export function positiveInt(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new UsageError(`${option} must be a positive whole number (not "${text}")`);
  }
  return value;
}

export function required(text: string | undefined, option: string): string {
  if (text === undefined || text.trim() === '') throw new UsageError(`${option} is required`);
  return text.trim();
}

export function iso(date: Date | undefined): string | undefined {
  return date?.toISOString();
}
