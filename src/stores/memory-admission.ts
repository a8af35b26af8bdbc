import type { Admission, AdmissionCounter, AdmissionLimits } from '../domain/admission.js';
import { budgetCounter, checkCounters, sendCounters } from '../domain/admission.js';
import { hashesEqual } from '../domain/codes.js';
import { memoryCodeKey } from './memory-store.js';
import type { PendingCode } from './types.js';

export interface MemoryAdmissionOptions {
  /** The memoryCodeStore's map, so codes admitted here are the ones it checks and restores. */
  readonly codes: Map<string, PendingCode>;
}

/**
 * The admission step in this process's memory (tests, single-process development). Each method
 * runs to completion before it first awaits, so each is atomic in-process.
 */
export function memoryAdmission(limits: AdmissionLimits, { codes }: MemoryAdmissionOptions): Admission {
  /** Counter key → [points used, window end]. */
  const counters = new Map<string, [number, number]>();
  const used = (c: AdmissionCounter, now: number) => {
    const entry = counters.get(c.key);
    return entry && entry[1] > now ? entry[0] : 0;
  };
  const add = (c: AdmissionCounter, delta: number, now: number) => {
    const points = Math.max(0, used(c, now) + delta);
    if (points === 0) counters.delete(c.key);
    else counters.set(c.key, [points, c.windowEnd]);
  };
  let writes = 0;
  const sweep = (now: number) => {
    if (++writes % 1000 !== 0) return;
    for (const [k, [, end]] of counters) if (end <= now) counters.delete(k);
    for (const [k, v] of codes) if (Math.max(v.expiresAt, v.resendAt) <= now) codes.delete(k);
  };

  return {
    name: 'memory',
    async admitSend(r) {
      const key = memoryCodeKey(r);
      const current = r.pending && codes.get(key);
      if (current && current.resendAt > r.now) return { admitted: false, refusedBy: 'cooldown', retryAfterMs: current.resendAt - r.now };
      const rules = sendCounters(limits, r);
      const full = rules.find((c) => used(c, r.now) >= c.points);
      if (full) return { admitted: false, refusedBy: full.rule, retryAfterMs: full.windowEnd - r.now };
      for (const c of rules) add(c, 1, r.now);
      if (r.pending) codes.set(key, { ...r.pending, attempts: 0 });
      sweep(r.now);
      return { admitted: true };
    },
    async abortSend(r) {
      for (const c of sendCounters(limits, r)) add(c, -1, r.now);
      const key = memoryCodeKey(r);
      if (r.pending && codes.get(key)?.codeHash === r.pending.codeHash) codes.delete(key);
    },
    async check(r) {
      const { perIp, failures } = checkCounters(limits, r);
      if (perIp) {
        if (used(perIp, r.now) >= perIp.points) return { outcome: 'refused', refusedBy: perIp.rule, retryAfterMs: perIp.windowEnd - r.now };
        add(perIp, 1, r.now);
      }
      sweep(r.now);
      const failed = used(failures, r.now);
      if (failed >= failures.points) return { outcome: 'refused', refusedBy: failures.rule, retryAfterMs: failures.windowEnd - r.now };
      const key = memoryCodeKey(r);
      const current = codes.get(key);
      if (!current) return { outcome: 'missing' };
      if (current.expiresAt <= r.now) return { outcome: 'expired' };
      if (current.attempts >= r.maxAttempts) return { outcome: 'exhausted' };
      if (hashesEqual(current.codeHash, r.candidateHash)) {
        codes.delete(key);
        return { outcome: 'valid', consumed: current };
      }
      const attempts = current.attempts + 1;
      codes.set(key, { ...current, attempts });
      add(failures, 1, r.now);
      return { outcome: 'wrong', attemptsLeft: r.maxAttempts - attempts, failuresLeft: failures.points - failed - 1 };
    },
    async dailyBudgetUsed(now) {
      const budget = budgetCounter(limits, now);
      return budget ? used(budget, now) : 0;
    },
  } satisfies Admission;
}
