import { sql, type Kysely } from 'kysely';
import type { AdminReadModel, OperatorRepository } from '../domain/admin.js';
import type { DatabaseSchema } from './schema.js';

const HOUR_MS = 3_600_000;

export function kyselyOperatorRepository(db: Kysely<DatabaseSchema>): OperatorRepository {
  return {
    async isOperator(userId) {
      return (await db.selectFrom('operators').select('user_id').where('user_id', '=', userId).executeTakeFirst()) !== undefined;
    },
    async grant(userId, now) {
      const result = await db
        .insertInto('operators')
        .values({ user_id: userId, granted_at: now })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async revoke(userId) {
      const result = await db.deleteFrom('operators').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  } satisfies OperatorRepository;
}

/** The console's reads over sms_messages and sessions; the created_at index (migration 009) serves the time ranges. */
export function kyselyAdminReadModel(db: Kysely<DatabaseSchema>): AdminReadModel {
  return {
    async smsPerHour(since) {
      // Integer division of epoch ms by an hour gives the same hour index in SQLite and PostgreSQL.
      const hour = sql<number>`(created_at / ${HOUR_MS})`;
      const rows = await db
        .selectFrom('sms_messages')
        .select([hour.as('hour'), 'provider', 'status', sql<number>`count(*)`.as('count'), sql<number>`coalesce(sum(fee), 0)`.as('fee')])
        .where('created_at', '>=', since)
        .groupBy([hour, 'provider', 'status'])
        .orderBy(hour)
        .execute();
      return rows.map((r) => ({ hour: Math.floor(Number(r.hour)) * HOUR_MS, provider: r.provider, status: r.status, count: Number(r.count), fee: Number(r.fee) }));
    },
    async searchMessages(filter) {
      let query = db.selectFrom('sms_messages').selectAll();
      if (filter.phone) query = query.where('phone', '=', filter.phone);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.provider) query = query.where('provider', '=', filter.provider);
      if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
      if (filter.before !== undefined) query = query.where('created_at', '<', filter.before);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map((r) => ({
        id: r.id,
        provider: r.provider,
        phone: r.phone,
        phoneMasked: '',
        purpose: r.purpose,
        status: r.status,
        errorCode: r.error_code,
        fee: r.fee === null ? null : Number(r.fee),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      }));
    },
    async messagePhone(id) {
      return (await db.selectFrom('sms_messages').select('phone').where('id', '=', id).executeTakeFirst())?.phone;
    },
    async sessionsOf(userId, now) {
      const rows = await db
        .selectFrom('sessions')
        .select(['created_at', 'expires_at'])
        .where('user_id', '=', userId)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .limit(50)
        .execute();
      return rows.map((r) => ({ createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }));
    },
  } satisfies AdminReadModel;
}
