import { Dec, decimalText } from '@park/domain-primitives';
import type { PostingFigures } from './model';

export const FIGURE_FIELDS = [
  'energyKgce',
  'electricityKwh',
  'gridKwh',
  'renewableKwh',
  'carbonFreeKwh',
  'scope1KgCo2e',
  'scope2LocationKgCo2e',
  'scope2MarketKgCo2e',
] as const satisfies readonly (keyof PostingFigures)[];

/** Fields rounded for display: kgCO2e to the gram, kgce to the gram of coal equivalent. */
const MASS_FIELDS: ReadonlySet<keyof PostingFigures> = new Set([
  'energyKgce',
  'scope1KgCo2e',
  'scope2LocationKgCo2e',
  'scope2MarketKgCo2e',
]);

export function zeroFigures(): PostingFigures {
  return mapFigures(() => '0');
}

/**
 * Adds without losing a digit: Dec rounds every result to 34 significant digits, so a running
 * total would depend on the order and grouping of its terms (1,116.03...0681 loses its last
 * digit where 624.43...0681 keeps it), and a reversal plus an identical re-posting could move a
 * total in its last digit.
 */
const ExactSum = Dec.clone({ precision: 1_000 });

/**
 * Field by field, at full precision (postings are linear: a period is the sum of its postings):
 * the exact sum, rounded once to Dec's 34 significant digits, whatever the order of the terms.
 */
export function sumFigures(figures: readonly PostingFigures[]): PostingFigures {
  // The sum of nothing is 0 (as the reduce below would answer), asked for every hour without
  // internal supply.
  if (figures.length === 0) return zeroFigures();
  return mapFigures(
    (field) =>
      plainSum(figures, field, Dec.precision) ??
      decimalText(
        figures
          .reduce((total, f) => total.plus(f[field]), new ExactSum(0))
          .toSignificantDigits(Dec.precision),
      ),
  );
}

const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * The sum of one field as the ExactSum reduce above answers it, in integers: the exact sum of
 * plain decimal texts (every figure decimalText wrote), rounded once to `digits` significant
 * digits half to even (Dec's rounding mode) and printed as decimalText prints. Undefined, for the
 * Decimal path, when a term is not a plain decimal or the sum passes ExactSum's 1,000 digits.
 * Decimal takes most of the time the relay spends on an hour's emissions.
 */
function plainSum(
  figures: readonly PostingFigures[],
  field: keyof PostingFigures,
  digits: number,
): string | undefined {
  const terms: { negative: boolean; digits: string; scale: number }[] = [];
  let scale = 0;
  for (const figure of figures) {
    const match = PLAIN_DECIMAL.exec(figure[field]);
    if (!match) return undefined;
    const fraction = match[3] ?? '';
    // Far from any figure; the Decimal path then answers as ExactSum's precision allows.
    if (match[2]!.length + fraction.length > 900) return undefined;
    terms.push({
      negative: match[1] === '-',
      digits: match[2]! + fraction,
      scale: fraction.length,
    });
    if (fraction.length > scale) scale = fraction.length;
  }
  let total = 0n;
  for (const term of terms) {
    const value = BigInt(term.digits) * 10n ** BigInt(scale - term.scale);
    total += term.negative ? -value : value;
  }
  const negative = total < 0n;
  let magnitude = negative ? -total : total;
  const length = magnitude.toString().length;
  if (length > 1_000) return undefined;
  if (length > digits) {
    const unit = 10n ** BigInt(length - digits);
    let kept = magnitude / unit;
    const twiceRest = (magnitude % unit) * 2n;
    if (twiceRest > unit || (twiceRest === unit && kept % 2n === 1n)) kept += 1n;
    magnitude = kept * unit;
  }
  if (magnitude === 0n) return '0';
  let text = magnitude.toString();
  if (scale > 0) {
    text = text.padStart(scale + 1, '0');
    text = `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/\.?0+$/, '');
  }
  return negative ? `-${text}` : text;
}

/**
 * For display only: kgCO2e and kgce rounded half-even to 3 decimals (the gram), as fixed
 * 3-decimal text; kWh figures unchanged (they are metered quantities, exact already).
 */
export function showFigures(figures: PostingFigures): PostingFigures {
  return mapFigures((field) => {
    const value = new Dec(figures[field]);
    if (!MASS_FIELDS.has(field)) return decimalText(value);
    const text = value.toFixed(3, Dec.ROUND_HALF_EVEN);
    return text === '-0.000' ? '0.000' : text;
  });
}

/**
 * The 24/7 carbon-free energy score: sum over hours of the consumption matched by carbon-free
 * supply metered in the same hour, min(max(carbonFree, 0), max(electricity, 0)), divided by the
 * sum of positive consumption. Undefined when nothing was consumed. An hour of net export
 * (negative electricity) neither adds consumption nor matches anything.
 */
export function cfeScore(
  hours: readonly { electricityKwh: string; carbonFreeKwh: string }[],
): string | undefined {
  let matched = new Dec(0);
  let consumed = new Dec(0);
  for (const hour of hours) {
    const electricity = Dec.max(new Dec(hour.electricityKwh), 0);
    const carbonFree = Dec.max(new Dec(hour.carbonFreeKwh), 0);
    matched = matched.plus(Dec.min(carbonFree, electricity));
    consumed = consumed.plus(electricity);
  }
  return consumed.isZero() ? undefined : decimalText(matched.div(consumed));
}

/**
 * Renewable electricity share = (direct-line + on-site renewable with attributes retained +
 * certificate- or trade-covered grid electricity) / all electricity consumed. Undefined when no
 * electricity was consumed.
 */
export function renewableShare(
  electricityKwh: string,
  renewableKwh: string,
  certificateKwh: string,
): string | undefined {
  const electricity = new Dec(electricityKwh);
  if (!electricity.gt(0)) return undefined;
  return decimalText(new Dec(renewableKwh).plus(certificateKwh).div(electricity));
}

function mapFigures(value: (field: keyof PostingFigures) => string): PostingFigures {
  const figures = {} as PostingFigures;
  for (const field of FIGURE_FIELDS) figures[field] = value(field);
  return figures;
}
