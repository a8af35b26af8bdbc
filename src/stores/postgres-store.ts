import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
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
 * Verification state in PostgreSQL (tables from migration 001), for deployments with several
 * instances and no Redis. Each method is one statement, or one transaction that holds the row's
 * lock from its read to its write, so concurrent requests on any instance queue on the row
 * instead of interleaving.
 */
export function postgresCodeStore(db: Kysely<DatabaseSchema>): CodeStore {
  let writes = 0;
  return {
    async beginSend(key, pending, now) {
      const result = await db.transaction().execute(async (trx) => {
        // ON CONFLICT locks the existing row even when the WHERE keeps it (cooldown running), so
        // the resend time read next is the one that refused us, not a newer one.
        const { rows } = await sql`
          INSERT INTO pending_codes AS p (phone, purpose, code_hash, expires_at, resend_at, attempts)
          VALUES (${key.phone}, ${key.purpose}, ${pending.codeHash}, ${pending.expiresAt}, ${pending.resendAt}, 0)
          ON CONFLICT (phone, purpose) DO UPDATE SET code_hash = excluded.code_hash,
            expires_at = excluded.expires_at, resend_at = excluded.resend_at, attempts = 0
          WHERE p.resend_at <= ${now}
          RETURNING 1`.execute(trx);
        if (rows.length > 0) return { ok: true as const };
        const row = await trx
          .selectFrom('pending_codes')
          .select('resend_at')
          .where('phone', '=', key.phone)
          .where('purpose', '=', key.purpose)
          .executeTakeFirstOrThrow();
        return { ok: false as const, retryAfterMs: row.resend_at - now };
      });
      // Expired rows are dead weight only; clearing them now and then keeps the table small. Not
      // awaited: its failure must not turn a stored code into a failed send.
      if (++writes % 500 === 0) {
        void db.deleteFrom('pending_codes').where('expires_at', '<=', now).where('resend_at', '<=', now).execute().catch(() => undefined);
      }
      return result;
    },

    async abortSend(key, codeHash) {
      await db
        .deleteFrom('pending_codes')
        .where('phone', '=', key.phone)
        .where('purpose', '=', key.purpose)
        .where('code_hash', '=', codeHash)
        .execute();
    },

    async check(key, candidateHash, now, maxAttempts): Promise<CheckResult> {
      return db.transaction().execute(async (trx): Promise<CheckResult> => {
        const row = await trx
          .selectFrom('pending_codes')
          .select(['code_hash', 'expires_at', 'resend_at', 'attempts'])
          .where('phone', '=', key.phone)
          .where('purpose', '=', key.purpose)
          .forUpdate()
          .executeTakeFirst();
        if (!row) return { outcome: 'missing' };
        if (row.expires_at <= now) return { outcome: 'expired' };
        if (row.attempts >= maxAttempts) return { outcome: 'exhausted' };
        if (hashesEqual(row.code_hash, candidateHash)) {
          await trx.deleteFrom('pending_codes').where('phone', '=', key.phone).where('purpose', '=', key.purpose).execute();
          return { outcome: 'valid', consumed: toPending(row) };
        }
        await trx
          .updateTable('pending_codes')
          .set({ attempts: row.attempts + 1 })
          .where('phone', '=', key.phone)
          .where('purpose', '=', key.purpose)
          .execute();
        return { outcome: 'wrong', attemptsLeft: maxAttempts - (row.attempts + 1) };
      });
    },

    async restore(key, pending, now) {
      if (pending.expiresAt <= now) return;
      // DO NOTHING: a newer code sent meanwhile wins over the one being given back.
      await db
        .insertInto('pending_codes')
        .values({
          phone: key.phone,
          purpose: key.purpose,
          code_hash: pending.codeHash,
          expires_at: pending.expiresAt,
          resend_at: pending.resendAt,
          attempts: pending.attempts,
        })
        .onConflict((oc) => oc.columns(['phone', 'purpose']).doNothing())
        .execute();
    },
  } satisfies CodeStore;
}

export function postgresCaptchaStore(db: Kysely<DatabaseSchema>): CaptchaStore {
  let writes = 0;
  return {
    async put(id, answerHash, expiresAt, now) {
      await db.insertInto('captchas').values({ id, answer_hash: answerHash, expires_at: expiresAt }).execute();
      if (++writes % 500 === 0) void db.deleteFrom('captchas').where('expires_at', '<=', now).execute().catch(() => undefined);
    },
    async take(id, now) {
      // DELETE … RETURNING reads and burns in one statement, so two requests cannot both use one captcha.
      const row = await db.deleteFrom('captchas').where('id', '=', id).returning(['answer_hash', 'expires_at']).executeTakeFirst();
      return row && row.expires_at > now ? row.answer_hash : undefined;
    },
  } satisfies CaptchaStore;
}
