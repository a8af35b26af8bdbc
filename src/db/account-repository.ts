import type { CompiledQuery, Kysely } from 'kysely';
import { PhoneTakenError, type AccountRepository, type User } from '../domain/account-repository.js';
import type { DatabaseSchema } from './schema.js';

/** SQLite says SQLITE_CONSTRAINT_UNIQUE, PostgreSQL says 23505. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

const toUser = (row: { id: string; phone: string; password_hash: string; created_at: number | string }): User => ({
  id: row.id,
  phone: row.phone,
  passwordHash: row.password_hash,
  createdAt: Number(row.created_at),
});

export function kyselyAccountRepository(db: Kysely<DatabaseSchema>): AccountRepository {
  // The lookup every send and check makes, built and compiled once: Kysely's query building and
  // compiling cost several times the SQLite lookup itself (docs/benchmarks.md). Only the parameter
  // changes per call; the SQLite driver's statement cache (db/database.ts) keeps it prepared.
  const byPhone = db.selectFrom('users').selectAll().where('phone', '=', '').compile();
  type UserRow = typeof byPhone extends CompiledQuery<infer R> ? R : never;
  return {
    async findUserByPhone(phone) {
      const { rows } = await db.executeQuery<UserRow>({ ...byPhone, parameters: [phone] });
      const row = rows[0];
      return row && toUser(row);
    },
    async findUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async createUser(user) {
      try {
        await db
          .insertInto('users')
          .values({
            id: user.id,
            phone: user.phone,
            password_hash: user.passwordHash,
            created_at: user.createdAt,
            updated_at: user.createdAt,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new PhoneTakenError(user.phone, { cause: err });
        throw err;
      }
    },
    async updatePassword(userId, passwordHash, now) {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', userId).execute();
    },
    async updatePhone(userId, phone, now) {
      try {
        await db.updateTable('users').set({ phone, updated_at: now }).where('id', '=', userId).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new PhoneTakenError(phone, { cause: err });
        throw err;
      }
    },
    async createSession(tokenHash, session, now) {
      await db
        .insertInto('sessions')
        .values({ id: tokenHash, user_id: session.userId, created_at: now, expires_at: session.expiresAt })
        .execute();
    },
    async findSession(tokenHash, now) {
      const row = await db
        .selectFrom('sessions')
        .select(['user_id', 'expires_at'])
        .where('id', '=', tokenHash)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row && { userId: row.user_id, expiresAt: Number(row.expires_at) };
    },
    async deleteSession(tokenHash) {
      await db.deleteFrom('sessions').where('id', '=', tokenHash).execute();
    },
    async deleteExpiredSessions(now) {
      const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async deleteSessionsOfUser(userId) {
      const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  } satisfies AccountRepository;
}
