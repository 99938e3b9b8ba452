import Decimal from 'decimal.js';
import fc from 'fast-check';
import { zeroFigures } from '../accounting';
import { figuresToProto } from './emissions';
import { plainDecimalText } from '../test-support/decimal-arbitraries';

describe('figuresToProto', () => {
  it('writes each figure as its canonical decimal text, given canonical or not', () => {
    // The reference: the exact value without exponent or trailing zeros, 0 for -0.
    const canonical = (text: string): string => {
      const fixed = new Decimal(text).toFixed();
      return fixed === '-0' ? '0' : fixed;
    };
    const text: fc.Arbitrary<string> = fc.oneof(
      plainDecimalText,
      fc.constantFrom('0', '-0', '-0.0', '007.50', '1e-7', '2.5E+3', '-1280.5'),
    );
    fc.assert(
      fc.property(text, (value) => {
        const proto = figuresToProto({ ...zeroFigures(), scope2LocationKgCo2e: value });
        expect(proto.scope2LocationKgco2e?.value).toBe(canonical(value));
      }),
      { numRuns: 2_000 },
    );
    expect(
      figuresToProto({ ...zeroFigures(), energyKgce: '0307.250', scope1KgCo2e: '-0' }),
    ).toMatchObject({ energyKgce: { value: '307.25' }, scope1Kgco2e: { value: '0' } });
  });
});
