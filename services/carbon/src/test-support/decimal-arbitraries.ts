import fc from 'fast-check';

/**
 * Plain decimal texts up to 40 digits either side of the point, signed or not, with the leading
 * and trailing zeros a sender may write: what figure arithmetic and encoding must take exactly.
 */
export const plainDecimalText: fc.Arbitrary<string> = fc
  .tuple(
    fc.boolean(),
    fc.stringMatching(/^\d{1,40}$/),
    fc.option(fc.stringMatching(/^\d{1,40}$/), { nil: undefined }),
  )
  .map(
    ([negative, whole, fraction]) =>
      `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`,
  );
