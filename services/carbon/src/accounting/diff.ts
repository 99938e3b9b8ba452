import { Dec, decimalText, sameQuantity } from '@park/domain-primitives';
import { FIGURE_FIELDS } from './figures';
import type { Posting, PostingFigures } from './model';

/** The posting that cancels `posting`: every figure and the quantity negated, the rest kept. */
export function reversal(posting: Posting): Posting {
  const figures = {} as PostingFigures;
  for (const field of FIGURE_FIELDS) figures[field] = negate(posting.figures[field]);
  return { ...posting, quantity: negate(posting.quantity), figures };
}

/**
 * Whether a restated posting would change nothing: same category, quantity, figures (compared
 * as numbers), factors (key, setId, version) and the same attribution (enterprise, internal
 * supplier), so the caller can skip an unchanged restatement.
 */
export function postingsEqual(a: Posting, b: Posting): boolean {
  return (
    a.category === b.category &&
    a.enterpriseId === b.enterpriseId &&
    a.internalSupplierId === b.internalSupplierId &&
    a.unit === b.unit &&
    sameQuantity(a.quantity, b.quantity) &&
    FIGURE_FIELDS.every((field) => sameQuantity(a.figures[field], b.figures[field])) &&
    a.factors.length === b.factors.length &&
    a.factors.every((ref, index) => {
      const other = b.factors[index];
      return (
        other !== undefined &&
        ref.key === other.key &&
        ref.setId === other.setId &&
        ref.version === other.version
      );
    })
  );
}

function negate(text: string): string {
  return decimalText(new Dec(text).neg());
}
