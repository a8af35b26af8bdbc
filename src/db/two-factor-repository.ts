import { sql, type Kysely } from 'kysely';
import type { TwoFactorRepository } from '../domain/two-factor-repository.js';
import { withoutEvents, type EventWrites } from './atomic-write.js';
import type { DatabaseSchema } from './schema.js';

/**
 * Kysely implementation (SQLite and PostgreSQL). Races are settled by conditional single
 * statements (UPDATE … WHERE, DELETE … WHERE) whose affected-row count says who won; there is no
 * transaction held across an await, because SQLite shares one connection. Turning 2FA on or off
 * is one AtomicWrite (src/db/atomic-write.ts) with its recovery codes and its events.
 */
export function kyselyTwoFactorRepository(db: Kysely<DatabaseSchema>, events: EventWrites = withoutEvents(db)): TwoFactorRepository {
  return {
    async find(userId) {
      const row = await db.selectFrom('two_factor').select(['secret_encrypted', 'enabled_at', 'last_step']).where('user_id', '=', userId).executeTakeFirst();
      return (
        row && {
          secretEncrypted: row.secret_encrypted,
          enabledAt: row.enabled_at === null ? null : Number(row.enabled_at),
          lastStep: row.last_step === null ? null : Number(row.last_step),
        }
      );
    },
    async savePending(userId, secretEncrypted, now) {
      const result = await db
        .insertInto('two_factor')
        .values({ user_id: userId, secret_encrypted: secretEncrypted, created_at: now, enabled_at: null, last_step: null })
        .onConflict((oc) =>
          oc
            .column('user_id')
            .doUpdateSet({ secret_encrypted: secretEncrypted, created_at: now, last_step: null })
            .where('two_factor.enabled_at', 'is', null),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    async enable(userId, step, hashes, now, queued = []) {
      // Only the winner of the guarded UPDATE gets the rest, so the codes it returns are the ones stored.
      const won = await events.write(
        [
          db
            .updateTable('two_factor')
            .set({ enabled_at: now, last_step: step })
            .where('user_id', '=', userId)
            .where('enabled_at', 'is', null)
            .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
            .compile(),
          db.deleteFrom('recovery_codes').where('user_id', '=', userId).compile(),
          ...(hashes.length
            ? [db.insertInto('recovery_codes').values(hashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null }))).compile()]
            : []),
          ...queued.flatMap(events.statementsFor),
        ],
        { guarded: true },
      );
      return won !== undefined;
    },
    async replaceRecoveryCodes(userId, hashes) {
      // One transaction, guarded by "2FA is on": the old set and the new one never both work, and
      // a failure in between leaves the old set.
      const won = await events.write(
        [
          db.updateTable('two_factor').set({ enabled_at: sql`enabled_at` }).where('user_id', '=', userId).where('enabled_at', 'is not', null).compile(),
          db.deleteFrom('recovery_codes').where('user_id', '=', userId).compile(),
          ...(hashes.length
            ? [db.insertInto('recovery_codes').values(hashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null }))).compile()]
            : []),
        ],
        { guarded: true },
      );
      return won !== undefined;
    },
    async claimStep(userId, step) {
      const result = await db
        .updateTable('two_factor')
        .set({ last_step: step })
        .where('user_id', '=', userId)
        .where('enabled_at', 'is not', null)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async useRecoveryCode(userId, codeHash, now) {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async countUnusedRecoveryCodes(userId) {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async disable(userId, queued = []) {
      const won = await events.write(
        [
          db.deleteFrom('two_factor').where('user_id', '=', userId).where('enabled_at', 'is not', null).compile(),
          db.deleteFrom('recovery_codes').where('user_id', '=', userId).compile(),
          ...queued.flatMap(events.statementsFor),
        ],
        { guarded: true },
      );
      return won !== undefined;
    },
    async createTicket(ticketHash, userId, expiresAt, now, credentialVersion, firstFactor) {
      await db
        .insertInto('login_tickets')
        .values({ id: ticketHash, user_id: userId, created_at: now, expires_at: expiresAt, credential_version: credentialVersion, first_factor: firstFactor ?? null })
        .execute();
    },
    async findTicket(ticketHash, now) {
      const row = await db
        .selectFrom('login_tickets')
        .select(['user_id', 'credential_version'])
        .where('id', '=', ticketHash)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row && { userId: row.user_id, credentialVersion: Number(row.credential_version) };
    },
    async takeTicket(ticketHash, now) {
      const row = await db
        .deleteFrom('login_tickets')
        .where('id', '=', ticketHash)
        .where('expires_at', '>', now)
        .returning('first_factor')
        .executeTakeFirst();
      return row && { firstFactor: row.first_factor };
    },
  } satisfies TwoFactorRepository;
}
