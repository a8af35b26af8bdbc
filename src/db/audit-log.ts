import type { Kysely } from 'kysely';
import type { AuditEvent, AuditEventType, AuditLogRepository } from '../domain/audit.js';
import type { DatabaseSchema } from './schema.js';

export function kyselyAuditLogRepository(db: Kysely<DatabaseSchema>): AuditLogRepository {
  return {
    async insert(e) {
      await db
        .insertInto('audit_events')
        .values({
          id: e.id,
          at: e.at,
          type: e.type,
          user_id: e.userId,
          phone_masked: e.phoneMasked,
          ip: e.ip,
          user_agent: e.userAgent,
          detail: e.detail,
        })
        .execute();
    },
    async listForUser(userId, limit) {
      const rows = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('at', 'desc')
        // Ids start with the time and a sequence number (domain/audit.ts), so they break ties in order.
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(
        (r): AuditEvent => ({
          id: r.id,
          at: Number(r.at),
          type: r.type as AuditEventType,
          userId: r.user_id,
          phoneMasked: r.phone_masked,
          ip: r.ip,
          userAgent: r.user_agent,
          detail: r.detail,
        }),
      );
    },
  } satisfies AuditLogRepository;
}
