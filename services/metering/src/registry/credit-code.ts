/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters
 *   1     registration authority       (from the code charset)
 *   2     organisation category        (from the code charset)
 *   3-8   administrative division code (GB/T 2260, digits)
 *   9-17  organisation code            (GB 11714: 8 body characters and its own check character)
 *   18    check character              (mod 31 over positions 1-17)
 */
const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'; // no I, O, S, V, Z
const CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/**
 * GB 11714-1997: weights 3, 7, 9, 10, 5, 8, 4, 2 on the 8 body characters, each valued by its
 * place in 0-9A-Z (A = 10 ... Z = 35, so J = 19, not 18 as in the GB 32100 charset);
 * check = 11 - (sum mod 11), written "X" for 10 and "0" for 11.
 */
const ORGANIZATION_CODE_VALUES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ORGANIZATION_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

export type CreditCodeProblem =
  'length' | 'character' | 'division_code' | 'organization_code_check' | 'check_character';

export type CreditCodeVerdict =
  { valid: true } | { valid: false; problem: CreditCodeProblem; description: string };

/** The GB 32100 check character for the first 17 characters (which must be from the charset). */
export function creditCodeCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += CREDIT_CODE_CHARSET.indexOf(first17.charAt(i)) * CREDIT_CODE_WEIGHTS[i]!;
  }
  return CREDIT_CODE_CHARSET.charAt((31 - (sum % 31)) % 31);
}

/** The GB 11714 check character for an 8-character organisation code body. */
export function organizationCodeCheckCharacter(body: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    sum += ORGANIZATION_CODE_VALUES.indexOf(body.charAt(i)) * ORGANIZATION_CODE_WEIGHTS[i]!;
  }
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

export function checkCreditCode(code: string): CreditCodeVerdict {
  if (code.length !== 18) {
    return invalid('length', `must be 18 characters, got ${code.length}`);
  }
  for (let i = 0; i < 18; i++) {
    if (!CREDIT_CODE_CHARSET.includes(code.charAt(i))) {
      return invalid(
        'character',
        `character ${i + 1} '${code.charAt(i)}' is not in 0-9 and A-Y without I, O, S, V, Z (upper case)`,
      );
    }
  }
  if (!/^\d{6}$/.test(code.slice(2, 8))) {
    return invalid(
      'division_code',
      'characters 3-8 must be a 6-digit administrative division code',
    );
  }
  const organizationCheck = organizationCodeCheckCharacter(code.slice(8, 16));
  if (code.charAt(16) !== organizationCheck) {
    return invalid(
      'organization_code_check',
      `the organisation code (characters 9-17) has check character '${code.charAt(16)}', expected '${organizationCheck}' (GB 11714)`,
    );
  }
  const check = creditCodeCheckCharacter(code.slice(0, 17));
  if (code.charAt(17) !== check) {
    return invalid(
      'check_character',
      `check character is '${code.charAt(17)}', expected '${check}' (GB 32100)`,
    );
  }
  return { valid: true };
}

function invalid(problem: CreditCodeProblem, description: string): CreditCodeVerdict {
  return { valid: false, problem, description };
}
