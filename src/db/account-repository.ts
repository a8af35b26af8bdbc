import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { DomainEvent } from '../domain/events.js';
import { withoutEvents, type EventWrites } from './atomic-write.js';
import { PhoneTakenError, type AccountRepository, type SessionRecord, type User } from '../domain/account-repository.js';
import type { DatabaseSchema } from './schema.js';

/** SQLite says SQLITE_CONSTRAINT_UNIQUE, PostgreSQL says 23505. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

const toUser = (row: {
  id: string;
  phone: string;
  password_hash: string;
  created_at: number | string;
  credential_version: number | string;
  disabled_at: number | string | null;
}): User => ({
  id: row.id,
  phone: row.phone,
  passwordHash: row.password_hash,
  createdAt: Number(row.created_at),
  credentialVersion: Number(row.credential_version),
  ...(row.disabled_at === null ? {} : { disabledAt: Number(row.disabled_at) }),
});

/**
 * `dialect` matters for one statement: on PostgreSQL the session insert takes a share lock of the
 * user's row (SQLite has one writer at a time, so its insert is already atomic with the change).
 * `events` queues a change's webhook events in the change's own transaction.
 */
export function kyselyAccountRepository(
  db: Kysely<DatabaseSchema>,
  dialect: 'sqlite' | 'postgres' = 'sqlite',
  events: EventWrites = withoutEvents(db),
): AccountRepository {
  const bump = sql<number>`credential_version + 1`;
  /**
   * The change and the statements of its events, as one transaction; resolves to the rows the
   * change touched. `guarded`: a change that touched no row queues no event either.
   */
  const withEvents = async (change: { compile(): CompiledQuery }, queued: readonly DomainEvent[] = [], guarded = false): Promise<number> => {
    const statements = queued.flatMap(events.statementsFor);
    // Nothing to queue (no WEBHOOK_URL): one plain statement, which keeps SQLite's statement cache.
    if (statements.length === 0) return Number((await db.executeQuery(change.compile())).numAffectedRows ?? 0n);
    const changed = await events.write([change.compile(), ...statements], { guarded });
    return changed?.[0] ?? 0;
  };
  /** The version a bump just wrote (read after it: a concurrent second bump can only make it newer). */
  const versionOf = async (userId: string) =>
    Number((await db.selectFrom('users').select('credential_version').where('id', '=', userId).executeTakeFirstOrThrow()).credential_version);
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
      await withEvents(db.updateTable('users').set({ password_hash: passwordHash, updated_at: now, credential_version: bump }).where('id', '=', userId), queued);
      return versionOf(userId);
    },
    async updatePhone(userId, phone, now, queued) {
      try {
        await withEvents(db.updateTable('users').set({ phone, updated_at: now, credential_version: bump }).where('id', '=', userId), queued);
        return versionOf(userId);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PhoneTakenError(phone, { cause: err });
        throw err;
      }
    },
    async setDisabled(userId, disabledAt, now) {
      await db.updateTable('users').set({ disabled_at: disabledAt, updated_at: now }).where('id', '=', userId).execute();
    },
    async bumpCredentialVersion(userId) {
      const row = await db
        .updateTable('users')
        .set({ credential_version: bump })
        .where('id', '=', userId)
        .returning('credential_version')
        .executeTakeFirstOrThrow();
      return Number(row.credential_version);
    },
    async createSession(tokenHash, session, now, queued) {
      // INSERT … SELECT from the user's row where the version still matches: the check and the
      // insert are one statement, so a reset that answered before cannot be outlived by it.
      let proof = db
        .selectFrom('users')
        .select([
          sql.val(tokenHash).as('id'),
          'id as user_id',
          sql.val(now).as('created_at'),
          sql.val(session.expiresAt).as('expires_at'),
          'credential_version',
          sql.val(session.userAgent ?? null).as('user_agent'),
          sql.val(session.ip ?? null).as('ip'),
          sql.val(now).as('last_seen_at'),
        ])
        .where('id', '=', session.userId)
        .where('credential_version', '=', session.credentialVersion);
      if (dialect === 'postgres') proof = proof.forShare();
      const insert = db
        .insertInto('sessions')
        .columns(['id', 'user_id', 'created_at', 'expires_at', 'credential_version', 'user_agent', 'ip', 'last_seen_at'])
        .expression(proof);
      return (await withEvents(insert, queued, true)) === 1;
    },
    async findSession(tokenHash, now) {
      // The join makes a session of an older credential version dead at once, even before the
      // change's clean-up has deleted it.
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['sessions.user_id', 'sessions.expires_at', 'sessions.credential_version', 'sessions.last_seen_at'])
        .where('sessions.id', '=', tokenHash)
        .where('sessions.expires_at', '>', now)
        .whereRef('sessions.credential_version', '=', 'users.credential_version')
        .executeTakeFirst();
      return (
        row && {
          userId: row.user_id,
          expiresAt: Number(row.expires_at),
          credentialVersion: Number(row.credential_version),
          lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
        }
      );
    },
    async keepOnlySession(userId, tokenHash, credentialVersion) {
      await db
        .updateTable('sessions')
        .set({ credential_version: credentialVersion })
        .where('id', '=', tokenHash)
        .where('user_id', '=', userId)
        .execute();
      const result = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', tokenHash).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async touchSession(tokenHash, now) {
      await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', tokenHash).execute();
    },
    async listSessions(userId, now) {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('expires_at', '>', now)
        .execute();
      const sessions = rows.map(
        (row): SessionRecord => ({
          tokenHash: row.id,
          userId: row.user_id,
          createdAt: Number(row.created_at),
          expiresAt: Number(row.expires_at),
          credentialVersion: Number(row.credential_version),
          userAgent: row.user_agent,
          ip: row.ip,
          lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
        }),
      );
      const lastUse = (s: SessionRecord) => s.lastSeenAt ?? s.createdAt;
      return sessions.sort((a, b) => lastUse(b) - lastUse(a));
    },
    async deleteOtherSessions(userId, keepTokenHash) {
      const result = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keepTokenHash).executeTakeFirst();
      return Number(result.numDeletedRows);
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
