import { formatSharePercent } from './format';

describe('formatSharePercent', () => {
  it.each([
    [0, '0.00'],
    [1, '100.00'],
    [0.4286, '42.86'],
    [0.92314, '92.31'],
    [0.12345, '12.34'],
    [0.12355, '12.36'],
    [0.125, '12.50'],
    [0.00005, '0.00'],
    [0.00015, '0.02'],
    [0.00025, '0.02'],
    [0.99995, '100.00'],
    [0.1 + 0.2, '30.00'],
    [1e-7, '0.00'],
    [5e-5, '0.00'],
    [1.5e-4, '0.02'],
    [-0.00001, '0.00'],
    [-0.5, '-50.00'],
    [12.5, '1250.00'],
  ])('%p gives %p (half-even on the decimal text)', (share, text) => {
    expect(formatSharePercent(share)).toBe(text);
  });

  it.each([null, Number.NaN, Number.POSITIVE_INFINITY])('%p gives empty text', (share) => {
    expect(formatSharePercent(share)).toBe('');
  });
});
