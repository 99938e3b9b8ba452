import { Dec, decimalText } from '@park/domain-primitives';

/** Display text of a decimal rounded half-even to `places`, or "n/a". */
export function shown(value: string | undefined, places: number): string {
  if (value === undefined) return 'n/a';
  return new Dec(value).toDecimalPlaces(places, Dec.ROUND_HALF_EVEN).toFixed(places);
}

/** A fraction as a percentage text, e.g. "0.428571…" -> "42.86". */
export function percent(fraction: string | undefined, places = 2): string {
  return fraction === undefined ? 'n/a' : shown(decimalText(new Dec(fraction).times(100)), places);
}

/** a / b at full precision, undefined when b is not positive. */
export function ratio(a: string, b: string): string | undefined {
  const denominator = new Dec(b);
  return denominator.gt(0) ? decimalText(new Dec(a).div(denominator)) : undefined;
}
