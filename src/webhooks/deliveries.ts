import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { WebhookDeliveryRow, WebhookDeliveryState } from '../domain/admin.js';

export type DeliveryState = WebhookDeliveryState;

/** A row of the outbox: what the console lists, and the payload the worker sends. */
export interface Delivery extends WebhookDeliveryRow {
  readonly payload: string;
}

/** The outbox rows as the worker and the CLI use them. */
export interface DeliveryRepository {
  /**
   * Takes up to `limit` due rows for this worker until `claimedUntil`. A row another worker holds
   * (and whose hold has not lapsed) is skipped, so two instances never deliver one row at once;
   * a worker that died mid-delivery loses its hold when it lapses, and the row is sent again.
   */
  claimDue(now: number, limit: number, claimedUntil: number): Promise<{ claim: string; deliveries: Delivery[] }>;
  /** Records an attempt's outcome, if this worker still holds the row. */
  recordAttempt(
    id: string,
    claim: string,
    outcome: { state: DeliveryState; status: number | null; error: string | null; nextAttemptAt: number },
    now: number,
  ): Promise<void>;
  /** Newest first. */
  list(limit: number, state?: DeliveryState): Promise<Delivery[]>;
  /** Makes a failed (or pending) row due now; false if there is no such row or it was delivered. */
  retry(id: string, now: number): Promise<boolean>;
}

type Row = DatabaseSchema['webhook_deliveries'];
const toDelivery = (row: Omit<Row, 'attempts'> & { attempts: number }): Delivery => ({
  id: row.id,
  eventId: row.event_id,
  type: row.type,
  url: row.url,
  payload: row.payload,
  state: row.state,
  attempts: Number(row.attempts),
  nextAttemptAt: Number(row.next_attempt_at),
  lastStatus: row.last_status === null ? null : Number(row.last_status),
  lastError: row.last_error,
  createdAt: Number(row.created_at),
  deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
});

export function kyselyDeliveryRepository(db: Kysely<DatabaseSchema>, dialect: 'sqlite' | 'postgres'): DeliveryRepository {
  return {
    async claimDue(now, limit, claimedUntil) {
      const claim = randomUUID();
      let due = db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .orderBy('next_attempt_at')
        .limit(limit);
      // PostgreSQL: two instances' claims skip each other's rows instead of waiting and then
      // claiming them again. SQLite has one writer at a time, so the UPDATE is atomic as it is.
      if (dialect === 'postgres') due = due.forUpdate().skipLocked();
      await db.updateTable('webhook_deliveries').set({ claim, claimed_until: claimedUntil }).where('id', 'in', due).execute();
      const rows = await db.selectFrom('webhook_deliveries').selectAll().where('claim', '=', claim).where('state', '=', 'pending').execute();
      return { claim, deliveries: rows.map(toDelivery) };
    },
    async recordAttempt(id, claim, outcome, now) {
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          state: outcome.state,
          attempts: eb('attempts', '+', 1),
          last_status: outcome.status,
          last_error: outcome.error,
          next_attempt_at: outcome.nextAttemptAt,
          delivered_at: outcome.state === 'delivered' ? now : null,
          claim: null,
          claimed_until: null,
          updated_at: now,
        }))
        .where('id', '=', id)
        .where('claim', '=', claim)
        .execute();
    },
    async list(limit, state) {
      let query = db.selectFrom('webhook_deliveries').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit);
      if (state) query = query.where('state', '=', state);
      return (await query.execute()).map(toDelivery);
    },
    async retry(id, now) {
      const result = await db
        .updateTable('webhook_deliveries')
        .set({ state: 'pending', next_attempt_at: now, claim: null, claimed_until: null, updated_at: now })
        .where('id', '=', id)
        .where('state', '!=', 'delivered')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
