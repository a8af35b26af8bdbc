import type { Database } from 'better-sqlite3';
import type { Admission, AdmissionCounter, AdmissionLimits, CheckAdmission, CheckAdmissionRequest, SendAdmission, SendAdmissionRequest } from '../domain/admission.js';
import { budgetCounter, checkCounters, sendCounters } from '../domain/admission.js';
import { hashesEqual } from '../domain/codes.js';

interface CodeRow {
  code_hash: string;
  expires_at: number;
  resend_at: number;
  attempts: number;
}

/**
 * The admission step in the SQLite file: pending codes in `pending_codes` (the rows sqliteCodeStore
 * checks and restores) and counters in `rate_limit_counters` under the keys src/limits' SQLite
 * limiters use (`<rule>:<key>@<window>`), so both see the same counts. Each step is one
 * `BEGIN IMMEDIATE` transaction of prepared statements, run synchronously: it holds the write lock
 * from its first read, so no request of this or another process interleaves, and it decides
 * before it writes, so a refusal writes nothing.
 */
export function sqliteAdmission(limits: AdmissionLimits, db: Database): Admission {
  db.exec('CREATE TABLE IF NOT EXISTS rate_limit_counters (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)');
  const selectCode = db.prepare<[string, string], CodeRow>(
    'SELECT code_hash, expires_at, resend_at, attempts FROM pending_codes WHERE phone = ? AND purpose = ?',
  );
  const upsertCode = db.prepare<[string, string, string, number, number]>(
    `INSERT INTO pending_codes (phone, purpose, code_hash, expires_at, resend_at, attempts) VALUES (?, ?, ?, ?, ?, 0)
     ON CONFLICT (phone, purpose) DO UPDATE SET code_hash = excluded.code_hash,
       expires_at = excluded.expires_at, resend_at = excluded.resend_at, attempts = 0`,
  );
  const removeCode = db.prepare<[string, string]>('DELETE FROM pending_codes WHERE phone = ? AND purpose = ?');
  const removeCodeIfHash = db.prepare<[string, string, string]>('DELETE FROM pending_codes WHERE phone = ? AND purpose = ? AND code_hash = ?');
  const countAttempt = db.prepare<[string, string]>('UPDATE pending_codes SET attempts = attempts + 1 WHERE phone = ? AND purpose = ?');
  const pointsOf = db.prepare<[string, number], { points: number }>('SELECT points FROM rate_limit_counters WHERE key = ? AND expire > ?');
  // A row whose expiry passed starts again at one: rate-limiter-flexible's own rows expire that way too.
  const increment = db.prepare<[string, number, number, number]>(
    `INSERT INTO rate_limit_counters (key, points, expire) VALUES (?, 1, ?)
     ON CONFLICT (key) DO UPDATE SET points = CASE WHEN expire <= ? THEN 1 ELSE points + 1 END, expire = MAX(COALESCE(expire, 0), ?)`,
  );
  const decrement = db.prepare<[string]>('UPDATE rate_limit_counters SET points = points - 1 WHERE key = ? AND points > 0');
  const sweepCounters = db.prepare<[number]>('DELETE FROM rate_limit_counters WHERE expire < ?');
  const sweepCodes = db.prepare<[number, number]>('DELETE FROM pending_codes WHERE expires_at <= ? AND resend_at <= ?');

  const used = (c: AdmissionCounter, now: number) => pointsOf.get(c.key, now)?.points ?? 0;
  const count = (c: AdmissionCounter, now: number) => increment.run(c.key, c.windowEnd, now, c.windowEnd);

  const admitSend = db.transaction((r: SendAdmissionRequest): SendAdmission => {
    const current = r.pending && selectCode.get(r.phone, r.purpose);
    if (current && current.resend_at > r.now) return { admitted: false, refusedBy: 'cooldown', retryAfterMs: current.resend_at - r.now };
    const rules = sendCounters(limits, r);
    for (const c of rules) {
      if (used(c, r.now) >= c.points) return { admitted: false, refusedBy: c.rule, retryAfterMs: c.windowEnd - r.now };
    }
    for (const c of rules) count(c, r.now);
    if (r.pending) upsertCode.run(r.phone, r.purpose, r.pending.codeHash, r.pending.expiresAt, r.pending.resendAt);
    return { admitted: true };
  });

  const abortSend = db.transaction((r: SendAdmissionRequest) => {
    for (const c of sendCounters(limits, r)) decrement.run(c.key);
    if (r.pending) removeCodeIfHash.run(r.phone, r.purpose, r.pending.codeHash);
  });

  const check = db.transaction((r: CheckAdmissionRequest): CheckAdmission => {
    const { perIp, failures } = checkCounters(limits, r);
    if (perIp) {
      if (used(perIp, r.now) >= perIp.points) return { outcome: 'refused', refusedBy: perIp.rule, retryAfterMs: perIp.windowEnd - r.now };
      count(perIp, r.now);
    }
    const failed = used(failures, r.now);
    if (failed >= failures.points) return { outcome: 'refused', refusedBy: failures.rule, retryAfterMs: failures.windowEnd - r.now };
    const row = selectCode.get(r.phone, r.purpose);
    if (!row) return { outcome: 'missing' };
    if (row.expires_at <= r.now) return { outcome: 'expired' };
    if (row.attempts >= r.maxAttempts) return { outcome: 'exhausted' };
    if (hashesEqual(row.code_hash, r.candidateHash)) {
      removeCode.run(r.phone, r.purpose);
      return {
        outcome: 'valid',
        consumed: { codeHash: row.code_hash, expiresAt: row.expires_at, resendAt: row.resend_at, attempts: row.attempts },
      };
    }
    countAttempt.run(r.phone, r.purpose);
    count(failures, r.now);
    return { outcome: 'wrong', attemptsLeft: r.maxAttempts - (row.attempts + 1), failuresLeft: failures.points - failed - 1 };
  });

  let writes = 0;
  // Expired counters and codes are dead weight only; a sweep now and then keeps the tables small without a timer.
  const sweep = (now: number) => {
    if (++writes % 500 !== 0) return;
    sweepCounters.run(now);
    sweepCodes.run(now, now);
  };
  return {
    name: 'sqlite',
    async admitSend(r) {
      const result = admitSend.immediate(r);
      sweep(r.now);
      return result;
    },
    async abortSend(r) {
      abortSend.immediate(r);
    },
    async check(r) {
      const result = check.immediate(r);
      sweep(r.now);
      return result;
    },
    async dailyBudgetUsed(now) {
      const budget = budgetCounter(limits, now);
      return budget ? used(budget, now) : 0;
    },
  } satisfies Admission;
}
