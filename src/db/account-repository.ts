import type { CompiledQuery, Kysely } from 'kysely';
import type { DomainEvent } from '../domain/events.js';
import { withoutEvents, type EventWrites } from './atomic-write.js';
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

export function kyselyAccountRepository(db: Kysely<DatabaseSchema>, events: EventWrites = withoutEvents(db)): AccountRepository {
  /** The change and the statements of its events, as one transaction. */
  const withEvents = async (change: { compile(): CompiledQuery }, queued: readonly DomainEvent[] = []) => {
    const statements = queued.flatMap(events.statementsFor);
    // Nothing to queue (no WEBHOOK_URL): one plain statement, which keeps SQLite's statement cache.
    if (statements.length === 0) await db.executeQuery(change.compile());
    else await events.write([change.compile(), ...statements]);
  };
  return {
    async findUserByPhone(phone) {
      const row = await db.selectFrom('users').selectAll().where('phone', '=', phone).executeTakeFirst();
      return row && toUser(row);
    },
    async findUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async createUser(user, queued) {
      try {
        await withEvents(
          db.insertInto('users').values({
            id: user.id,
            phone: user.phone,
            password_hash: user.passwordHash,
            created_at: user.createdAt,
            updated_at: user.createdAt,
          }),
          queued,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new PhoneTakenError(user.phone, { cause: err });
        throw err;
      }
    },
    async updatePassword(userId, passwordHash, now, queued) {
      await withEvents(db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', userId), queued);
    },
    async updatePhone(userId, phone, now, queued) {
      try {
        await withEvents(db.updateTable('users').set({ phone, updated_at: now }).where('id', '=', userId), queued);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PhoneTakenError(phone, { cause: err });
        throw err;
      }
    },
    async createSession(tokenHash, session, now, queued) {
      await withEvents(db.insertInto('sessions').values({ id: tokenHash, user_id: session.userId, created_at: now, expires_at: session.expiresAt }), queued);
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
    async deleteSession(tokenHash, queued) {
      await withEvents(db.deleteFrom('sessions').where('id', '=', tokenHash), queued);
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
