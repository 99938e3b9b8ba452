import { parseDecimal, type Dec, type Violations } from '@park/domain-primitives';

/** A decimal text >= 0, or undefined after recording the violation. */
export function nonNegative(v: Violations, field: string, value: unknown): Dec | undefined {
  const parsed = parseDecimal(value);
  if (!parsed) {
    v.add(field, 'must be a decimal number such as "1.5"');
    return undefined;
  }
  if (parsed.lt(0)) {
    v.add(field, 'must not be negative');
    return undefined;
  }
  return parsed;
}
