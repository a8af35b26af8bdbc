import type { Kysely } from 'kysely';
import type { AuditEvent, AuditEventType, AuditLogRepository } from '../domain/audit.js';
import type { Logger } from '../domain/logger.js';
import { rowBatcher } from './row-batcher.js';
import type { DatabaseSchema } from './schema.js';

const toRow = (e: AuditEvent) => ({
  id: e.id,
  at: e.at,
  type: e.type,
  user_id: e.userId,
  phone_masked: e.phoneMasked,
  ip: e.ip,
  user_agent: e.userAgent,
  detail: e.detail,
});

export interface KyselyAuditLogRepository extends AuditLogRepository {
  /** Several events in one statement. */
  insertMany(events: readonly AuditEvent[]): Promise<void>;
}

export function kyselyAuditLogRepository(db: Kysely<DatabaseSchema>): KyselyAuditLogRepository {
  return {
    async insert(e) {
      await db.insertInto('audit_events').values(toRow(e)).execute();
    },
    async insertMany(events) {
      if (events.length > 0) await db.insertInto('audit_events').values(events.map(toRow)).execute();
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
  } satisfies KyselyAuditLogRepository;
}

/**
 * The audit log written in batches off the request path (db/row-batcher.ts: one statement per
 * flush, flushed on close, the loss window on a crash written there). Reading a user's events
 * writes what is queued first, so a page shows the sign-in that just happened.
 */
export function batchedAuditLogRepository(
  repo: KyselyAuditLogRepository,
  log: Logger,
): AuditLogRepository & { flush(): Promise<void>; close(): Promise<void> } {
  const batcher = rowBatcher<AuditEvent>({ name: 'audit events', writeAll: (rows) => repo.insertMany(rows), log });
  return {
    async insert(event) {
      batcher.add(event);
    },
    async listForUser(userId, limit) {
      await batcher.flush();
      return repo.listForUser(userId, limit);
    },
    flush: () => batcher.flush(),
    close: () => batcher.close(),
  };
}
