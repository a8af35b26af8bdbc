import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/** Draws a decimal code of `length` digits from the CSPRNG; leading zeros are kept. */
export function generateCode(length: number): string {
  let code = '';
  // One randomInt per digit keeps every digit uniform, whatever the length (randomInt's range tops out at 2^48).
  for (let i = 0; i < length; i++) code += String(randomInt(0, 10));
  return code;
}

/**
 * Keyed hashes of the secrets this service keeps. A database or Redis dump holds only these,
 * and without SECRET they cannot be tested against guesses offline.
 */
export interface Hasher {
  /** HMAC over purpose, phone and code, so a code is bound to the purpose and number it was sent for. */
  code(purpose: string, phone: string, code: string): string;
  /** HMAC of a captcha answer, case-folded because answers are case-insensitive. */
  captchaAnswer(captchaId: string, answer: string): string;
  /** HMAC of an opaque bearer token (sessions and later tickets). */
  token(token: string): string;
}

export function createHasher(secret: string): Hasher {
  const mac = (...parts: string[]) => {
    const h = createHmac('sha256', secret);
    // A separator that cannot occur in any part keeps ("ab","c") and ("a","bc") apart.
    h.update(parts.join('\u0000'));
    return h.digest('base64url');
  };
  return {
    code: (purpose, phone, code) => mac('code', purpose, phone, code),
    captchaAnswer: (id, answer) => mac('captcha', id, answer.trim().toLowerCase()),
    token: (token) => mac('token', token),
  };
}

/**
 * Compares two hashes in constant time, so response time does not reveal how many leading
 * characters matched.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
