/**
 * A daily renewable share (0..1) as percent text with two decimals, rounded half-even like the
 * other report values; empty text for a day without electricity (null) or a value that is not a
 * finite number.
 *
 * The rounding works on the number's shortest decimal text (what `String(share)` prints), not on
 * `share * 100` in binary floating point, so 0.12345 gives "12.34" and 0.12355 gives "12.36"
 * (ties to even), and never "12.345000000000001"-style noise.
 */
export function formatSharePercent(share: number | null): string {
  if (share === null || !Number.isFinite(share)) return '';
  return roundHalfEven(shiftDecimal(String(share), 2), 2);
}

interface DecimalText {
  negative: boolean;
  /** Digits without leading zeros before the point ("" for zero). */
  integer: string;
  /** Digits after the point. */
  fraction: string;
}

/** Parses JavaScript's number text (`-1.5`, `1e-7`, `2.5e+21`) and multiplies it by 10^places. */
function shiftDecimal(text: string, places: number): DecimalText {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!match) throw new RangeError(`not a decimal number: ${text}`);
  const [, sign = '', intDigits = '', fracDigits = '', exponent = '0'] = match;
  const digits = intDigits + fracDigits;
  const point = intDigits.length + Number(exponent) + places;
  const padded =
    point <= 0
      ? '0'.repeat(1 - point) + digits
      : digits + '0'.repeat(Math.max(0, point - digits.length));
  const at = Math.max(point, 1);
  return {
    negative: sign === '-',
    integer: padded.slice(0, at).replace(/^0+/, ''),
    fraction: padded.slice(at),
  };
}

function roundHalfEven(value: DecimalText, decimals: number): string {
  const kept = (value.integer || '0') + value.fraction.slice(0, decimals).padEnd(decimals, '0');
  const rest = value.fraction.slice(decimals);
  const first = rest.charAt(0);
  const tail = rest.slice(1);
  const lastKept = Number(kept.charAt(kept.length - 1));
  const roundUp = first > '5' || (first === '5' && (/[1-9]/.test(tail) || lastKept % 2 === 1));
  const units = roundUp ? increment(kept) : kept;
  const integer = units.slice(0, units.length - decimals).replace(/^0+(?=\d)/, '') || '0';
  const fraction = units.slice(units.length - decimals);
  const isZero = /^0*$/.test(integer + fraction);
  return `${value.negative && !isZero ? '-' : ''}${integer}.${fraction}`;
}

/** Adds one to a string of decimal digits. */
function increment(digits: string): string {
  const out = digits.split('');
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === '9') {
      out[i] = '0';
    } else {
      out[i] = String(Number(out[i]) + 1);
      return out.join('');
    }
  }
  return `1${out.join('')}`;
}
