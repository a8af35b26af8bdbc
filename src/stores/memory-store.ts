import { hashesEqual } from '../domain/codes.js';
import type { CaptchaStore, CheckResult, CodeKey, CodeStore, PendingCode } from './types.js';

/** The key of a pending code in the map (shared with memoryAdmission, which stores codes in the same map). */
export const memoryCodeKey = (k: CodeKey) => `${k.purpose}\u0000${k.phone}`;
const keyOf = memoryCodeKey;

/**
 * Verification state in this process's memory: for tests and single-process development.
 * Every method runs synchronously to completion before it awaits, so each is atomic in-process.
 */
export function memoryCodeStore(codes = new Map<string, PendingCode>()): CodeStore {
  const sweep = (now: number) => {
    for (const [k, v] of codes) if (Math.max(v.expiresAt, v.resendAt) <= now) codes.delete(k);
  };
  let writes = 0;

  return {
    async beginSend(key, pending, now) {
      const current = codes.get(keyOf(key));
      if (current && current.resendAt > now) return { ok: false, retryAfterMs: current.resendAt - now };
      codes.set(keyOf(key), { ...pending, attempts: 0 });
      if (++writes % 1000 === 0) sweep(now);
      return { ok: true };
    },
    async abortSend(key, codeHash) {
      const current = codes.get(keyOf(key));
      if (current && current.codeHash === codeHash) codes.delete(keyOf(key));
    },
    async check(key, candidateHash, now, maxAttempts): Promise<CheckResult> {
      const k = keyOf(key);
      const current = codes.get(k);
      if (!current) return { outcome: 'missing' };
      if (current.expiresAt <= now) return { outcome: 'expired' };
      if (current.attempts >= maxAttempts) return { outcome: 'exhausted' };
      if (hashesEqual(current.codeHash, candidateHash)) {
        codes.delete(k);
        return { outcome: 'valid', consumed: current };
      }
      const attempts = current.attempts + 1;
      codes.set(k, { ...current, attempts });
      return { outcome: 'wrong', attemptsLeft: maxAttempts - attempts };
    },
    async restore(key, pending, now) {
      if (!codes.has(keyOf(key)) && pending.expiresAt > now) codes.set(keyOf(key), pending);
    },
  } satisfies CodeStore;
}

export function memoryCaptchaStore(): CaptchaStore {
  const captchas = new Map<string, { answerHash: string; expiresAt: number }>();
  let writes = 0;
  return {
    async put(id, answerHash, expiresAt, now) {
      captchas.set(id, { answerHash, expiresAt });
      if (++writes % 1000 === 0) {
        for (const [k, v] of captchas) if (v.expiresAt <= now) captchas.delete(k);
      }
    },
    async take(id, now) {
      const entry = captchas.get(id);
      captchas.delete(id);
      return entry && entry.expiresAt > now ? entry.answerHash : undefined;
    },
  } satisfies CaptchaStore;
}
