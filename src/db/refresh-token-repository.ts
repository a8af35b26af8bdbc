import type { Kysely } from 'kysely';
import type { AuthMethod } from '../domain/access-tokens.js';
import type { RefreshTokenRepository, TokenFamily } from '../domain/refresh-tokens.js';
import { kyselyAtomicWriter, type AtomicWrite } from './atomic-write.js';
import type { DatabaseSchema } from './schema.js';

const toFamily = (row: { id: string; user_id: string; session_id: string; amr: string; session_expires_at: number }): TokenFamily => ({
  id: row.id,
  userId: row.user_id,
  sessionId: row.session_id,
  amr: row.amr.split(' ').filter(Boolean) as AuthMethod[],
  sessionExpiresAt: Number(row.session_expires_at),
});

const SPENT_TOKENS_KEPT_MS = 7 * 24 * 3600 * 1000;

export function kyselyRefreshTokenRepository(db: Kysely<DatabaseSchema>, write: AtomicWrite = kyselyAtomicWriter(db)): RefreshTokenRepository {
  // A family counts only while its session is live: an expired session's tokens refresh nothing.
  const liveFamilies = (now: number) =>
    db
      .selectFrom('refresh_token_families as f')
      .innerJoin('sessions as s', 's.id', 'f.session_id')
      .where('s.expires_at', '>', now)
      .select(['f.id', 'f.user_id', 'f.session_id', 'f.amr', 's.expires_at as session_expires_at']);

  return {
    async createFamily(family, tokenHash, expiresAt, now) {
      await write([
        db
          .insertInto('refresh_token_families')
          .values({ id: family.id, session_id: family.sessionId, user_id: family.userId, amr: family.amr.join(' '), created_at: now })
          .compile(),
        db.insertInto('refresh_tokens').values({ id: tokenHash, family_id: family.id, created_at: now, expires_at: expiresAt, spent_at: null }).compile(),
      ]);
    },
    async findLiveFamily(familyId, now) {
      const row = await liveFamilies(now).where('f.id', '=', familyId).executeTakeFirst();
      return row && toFamily(row);
    },
    async findToken(tokenHash, now) {
      const row = await liveFamilies(now)
        .innerJoin('refresh_tokens as t', 't.family_id', 'f.id')
        .select(['t.spent_at', 't.expires_at'])
        .where('t.id', '=', tokenHash)
        .executeTakeFirst();
      return row && { family: toFamily(row), spentAt: row.spent_at === null ? null : Number(row.spent_at), expiresAt: Number(row.expires_at) };
    },
    async exchange(oldHash, newHash, familyId, expiresAt, now) {
      const changed = await write(
        [
          db.updateTable('refresh_tokens').set({ spent_at: now }).where('id', '=', oldHash).where('spent_at', 'is', null).compile(),
          db.insertInto('refresh_tokens').values({ id: newHash, family_id: familyId, created_at: now, expires_at: expiresAt, spent_at: null }).compile(),
          // A long session refreshes thousands of times; spent tokens are kept a week for reuse
          // detection, after which presenting one is just an unknown token (401, no revocation).
          db.deleteFrom('refresh_tokens').where('family_id', '=', familyId).where('spent_at', '<', now - SPENT_TOKENS_KEPT_MS).compile(),
        ],
        { guarded: true },
      );
      return changed !== undefined;
    },
    async deleteFamiliesOfUser(userId) {
      const result = await db.deleteFrom('refresh_token_families').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
