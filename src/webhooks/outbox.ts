import { randomUUID } from 'node:crypto';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { AtomicWrite } from '../db/atomic-write.js';
import type { DatabaseSchema } from '../db/schema.js';
import type { DomainEvent, EventPublisher } from '../domain/events.js';

/**
 * The webhook outbox: an event becomes one `webhook_deliveries` row per receiver, written in the
 * same transaction as the change that caused it, and the worker (worker.ts) delivers the rows.
 * A sign-up therefore never waits for a receiver, and no event is lost or invented by a crash
 * between the change and its delivery.
 */
export interface WebhookOutbox extends EventPublisher {
  /** The inserts that queue `event`; a repository appends them to its own transaction. */
  statementsFor(event: DomainEvent): CompiledQuery[];
  /**
   * Queues `event`; with `inTransaction` (a Kysely transaction on PostgreSQL), as part of it.
   * On SQLite, pass statementsFor() to the change's AtomicWrite instead.
   */
  publish(event: DomainEvent, inTransaction?: Transaction<DatabaseSchema>): Promise<void>;
}

/** The JSON body receivers get: Standard Webhooks' {type, timestamp, data}. */
export function webhookPayload(event: DomainEvent): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data: event.data });
}

export function kyselyWebhookOutbox(db: Kysely<DatabaseSchema>, write: AtomicWrite, urls: readonly string[]): WebhookOutbox {
  const statementsFor = (event: DomainEvent): CompiledQuery[] => {
    if (urls.length === 0) return [];
    const eventId = `msg_${randomUUID().replace(/-/g, '')}`;
    const payload = webhookPayload(event);
    return [
      db
        .insertInto('webhook_deliveries')
        .values(
          urls.map((url) => ({
            id: randomUUID(),
            event_id: eventId,
            type: event.type,
            url,
            payload,
            state: 'pending' as const,
            attempts: 0,
            next_attempt_at: event.at,
            created_at: event.at,
            updated_at: event.at,
          })),
        )
        .compile(),
    ];
  };
  return {
    statementsFor,
    async publish(event, inTransaction) {
      const statements = statementsFor(event);
      if (statements.length === 0) return;
      if (inTransaction) {
        for (const statement of statements) await inTransaction.executeQuery(statement);
        return;
      }
      await write(statements);
    },
  };
}
