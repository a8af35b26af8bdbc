import type { Database } from 'better-sqlite3';
import { hashesEqual } from '../domain/codes.js';
import type { CaptchaStore, CheckResult, CodeStore, PendingCode } from './types.js';

interface CodeRow {
  code_hash: string;
  expires_at: number;
  resend_at: number;
  attempts: number;
}

const toPending = (row: CodeRow): PendingCode => ({
  codeHash: row.code_hash,
  expiresAt: row.expires_at,
  resendAt: row.resend_at,
  attempts: row.attempts,
});

/**
 * Verification state in the SQLite file (tables from migration 001), so pending codes survive
 * a restart. Each method is one `BEGIN IMMEDIATE` transaction run synchronously: it holds the
 * write lock from its first read, so neither another request in this process nor another
 * process on the same file can interleave between the read and the write.
 */
export function sqliteCodeStore(db: Database): CodeStore {
  const select = db.prepare<[string, string], CodeRow>(
    'SELECT code_hash, expires_at, resend_at, attempts FROM pending_codes WHERE phone = ? AND purpose = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO pending_codes (phone, purpose, code_hash, expires_at, resend_at, attempts)
     VALUES (@phone, @purpose, @codeHash, @expiresAt, @resendAt, @attempts)
     ON CONFLICT (phone, purpose) DO UPDATE SET code_hash = excluded.code_hash,
       expires_at = excluded.expires_at, resend_at = excluded.resend_at, attempts = excluded.attempts`,
  );
  const remove = db.prepare('DELETE FROM pending_codes WHERE phone = ? AND purpose = ?');
  const removeIfHash = db.prepare('DELETE FROM pending_codes WHERE phone = ? AND purpose = ? AND code_hash = ?');
  const countAttempt = db.prepare('UPDATE pending_codes SET attempts = attempts + 1 WHERE phone = ? AND purpose = ?');
  const sweep = db.prepare('DELETE FROM pending_codes WHERE expires_at <= @now AND resend_at <= @now');

  const beginSend = db.transaction((phone: string, purpose: string, p: PendingCode, now: number) => {
    const row = select.get(phone, purpose);
    if (row && row.resend_at > now) return { ok: false as const, retryAfterMs: row.resend_at - now };
    upsert.run({ phone, purpose, ...p, attempts: 0 });
    return { ok: true as const };
  });

  const check = db.transaction((phone: string, purpose: string, candidate: string, now: number, max: number): CheckResult => {
    const row = select.get(phone, purpose);
    if (!row) return { outcome: 'missing' };
    if (row.expires_at <= now) return { outcome: 'expired' };
    if (row.attempts >= max) return { outcome: 'exhausted' };
    if (hashesEqual(row.code_hash, candidate)) {
      remove.run(phone, purpose);
      return { outcome: 'valid', consumed: toPending(row) };
    }
    countAttempt.run(phone, purpose);
    return { outcome: 'wrong', attemptsLeft: max - (row.attempts + 1) };
  });

  const restore = db.transaction((phone: string, purpose: string, p: PendingCode, now: number) => {
    if (select.get(phone, purpose) || p.expiresAt <= now) return;
    upsert.run({ phone, purpose, ...p });
  });

  let writes = 0;
  return {
    async beginSend(key, pending, now) {
      const result = beginSend.immediate(key.phone, key.purpose, pending, now);
      // Expired rows are dead weight only; clearing them now and then keeps the table small.
      if (++writes % 500 === 0) sweep.run({ now });
      return result;
    },
    async abortSend(key, codeHash) {
      removeIfHash.run(key.phone, key.purpose, codeHash);
    },
    async check(key, candidateHash, now, maxAttempts) {
      return check.immediate(key.phone, key.purpose, candidateHash, now, maxAttempts);
    },
    async restore(key, pending, now) {
      restore.immediate(key.phone, key.purpose, pending, now);
    },
  } satisfies CodeStore;
}

export function sqliteCaptchaStore(db: Database): CaptchaStore {
  const insert = db.prepare('INSERT INTO captchas (id, answer_hash, expires_at) VALUES (?, ?, ?)');
  // DELETE … RETURNING reads and burns in one statement, so two requests cannot both use one captcha.
  const take = db.prepare<[string], { answer_hash: string; expires_at: number }>(
    'DELETE FROM captchas WHERE id = ? RETURNING answer_hash, expires_at',
  );
  const sweep = db.prepare('DELETE FROM captchas WHERE expires_at <= ?');
  let writes = 0;
  return {
    async put(id, answerHash, expiresAt, now) {
      insert.run(id, answerHash, expiresAt);
      if (++writes % 500 === 0) sweep.run(now);
    },
    async take(id, now) {
      const row = take.get(id);
      return row && row.expires_at > now ? row.answer_hash : undefined;
    },
  } satisfies CaptchaStore;
}
