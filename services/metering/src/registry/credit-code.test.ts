import {
  checkCreditCode,
  creditCodeCheckCharacter,
  organizationCodeCheckCharacter,
} from './credit-code';

// Codes built by hand for these tests: 9 = registered by market regulation, 1 = enterprise,
// 2101xx = Shenyang, then an organisation code and the two check characters.

describe('unified social credit code (GB 32100-2015 with GB 11714 inside)', () => {
  it('computes both check characters of an all-digit code by hand', () => {
    // Organisation code body 12345678, GB 11714 weights 3 7 9 10 5 8 4 2:
    //   1*3 + 2*7 + 3*9 + 4*10 + 5*5 + 6*8 + 7*4 + 8*2
    //   = 3 + 14 + 27 + 40 + 25 + 48 + 28 + 16 = 201;  201 mod 11 = 3;  11 - 3 = 8  -> '8'
    expect(organizationCodeCheckCharacter('12345678')).toBe('8');
    // First 17: 9 1 2 1 0 1 0 0 1 2 3 4 5 6 7 8 8
    // weights:  1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
    // products: 9 3 18 27 0 26 0 0 20 58 75 52 40 144 70 240 224, sum 1006
    //   1006 mod 31 = 14 (31 * 32 = 992);  31 - 14 = 17;  charset[17] = 'H' (A=10 ... H=17)
    expect(creditCodeCheckCharacter('91210100123456788')).toBe('H');
    expect(checkCreditCode('91210100123456788H')).toEqual({ valid: true });
  });

  it('values letters by their own table in each standard', () => {
    // Organisation body MA0Y5K7R valued A=10 ... Z=35 (GB 11714): M=22 A=10 0 Y=34 5 K=20 7 R=27
    //   22*3 + 10*7 + 0*9 + 34*10 + 5*5 + 20*8 + 7*4 + 27*2
    //   = 66 + 70 + 0 + 340 + 25 + 160 + 28 + 54 = 743;  743 mod 11 = 6;  11 - 6 = 5 -> '5'
    expect(organizationCodeCheckCharacter('MA0Y5K7R')).toBe('5');
    // First 17 of 91210106MA0Y5K7R5, valued in the GB 32100 charset (no I, O, S, V, Z):
    //   M=21 A=10 Y=30 K=19 R=25
    // values:   9 1 2 1  0  1  0  6  21  10  0  30  5  19  7  25  5
    // weights:  1 3 9 27 19 26 16 17 20  29  25 13  8  24  10 30  28
    // products: 9 3 18 27 0 26 0 102 420 290 0 390 40 456 70 750 140, sum 2741
    //   2741 mod 31 = 13 (31 * 88 = 2728);  31 - 13 = 18;  charset[18] = 'J'
    expect(creditCodeCheckCharacter('91210106MA0Y5K7R5')).toBe('J');
    expect(checkCreditCode('91210106MA0Y5K7R5J')).toEqual({ valid: true });
  });

  it('maps a check of 11 to 0 and of 10 to X in the organisation code', () => {
    // 00000000: sum 0, 0 mod 11 = 0, 11 - 0 = 11 -> '0'
    expect(organizationCodeCheckCharacter('00000000')).toBe('0');
    // 00000006: 6*2 = 12, 12 mod 11 = 1, 11 - 1 = 10 -> 'X'
    expect(organizationCodeCheckCharacter('00000006')).toBe('X');
  });

  it.each([
    ['91210100123456788', 'length', 'must be 18 characters, got 17'],
    ['91210100123456788HH', 'length', 'must be 18 characters, got 19'],
    ['91210100I23456788H', 'character', "character 9 'I' is not in"],
    ['91210100123456788h', 'character', "character 18 'h'"],
    ['912101A0123456788H', 'division_code', 'characters 3-8'],
    // Organisation check 8 replaced by 9: GB 11714 fails first.
    ['91210100123456789H', 'organization_code_check', "has check character '9', expected '8'"],
    // Right organisation code, GB 32100 check H replaced by G.
    ['91210100123456788G', 'check_character', "check character is 'G', expected 'H'"],
  ])('rejects %s (%s)', (code, problem, description) => {
    const verdict = checkCreditCode(code);
    expect(verdict).toMatchObject({ valid: false, problem });
    expect(!verdict.valid && verdict.description).toContain(description);
  });
});
