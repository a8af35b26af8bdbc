/** The server's rule (src/domain/passwords.ts): 8 to 128 characters, nothing else required. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export type Strength = 'too_short' | 'weak' | 'fair' | 'strong';

/**
 * A hint for the person choosing a password, not a rule: anything the server accepts can be
 * submitted. Length counts most; mixing kinds of characters helps a little; one repeated
 * character or a run like 12345678 is weak whatever its length.
 */
export function passwordStrength(password: string): Strength {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return 'too_short';
  if (/^(.)\1*$/u.test(password) || isRun(password)) return 'weak';
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const score = kinds + (length >= 12 ? 1 : 0) + (length >= 16 ? 1 : 0);
  if (score >= 4) return 'strong';
  if (score >= 3) return 'fair';
  return 'weak';
}

/** 12345678, abcdefgh, 87654321: each character one step from the last. */
function isRun(password: string): boolean {
  const codes = [...password].map((c) => c.codePointAt(0)!);
  const step = codes[1]! - codes[0]!;
  return Math.abs(step) === 1 && codes.every((c, i) => i === 0 || c - codes[i - 1]! === step);
}
