import type { Kysely } from 'kysely';

/**
 * Issue 13: signing keys of the access tokens, refresh tokens, and the webhook outbox.
 * Portable Kysely only (SQLite and PostgreSQL); times are epoch ms as bigint, like 001.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    // AES-256-GCM under a key derived from SECRET (src/domain/secret-box.ts), the kid as associated data.
    .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // When a newer key took over signing; null for the key that signs now.
    .addColumn('retired_at', 'bigint')
    .execute();

  await db.schema
    .createTable('refresh_token_families')
    // Public: the access tokens' `sid` claim. Not the session's row id, which is a hash of its token.
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Whatever ends the session (logout, reset, phone change, reuse) ends the family and its tokens.
    .addColumn('session_id', 'text', (c) => c.notNull().unique().references('sessions.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // RFC 8176 methods that proved the session, space separated ("pwd otp mfa").
    .addColumn('amr', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('refresh_tokens')
    // Keyed hash of the token, like sessions.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'text', (c) => c.notNull().references('refresh_token_families.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    // Set when the token was exchanged; presenting it again is reuse.
    .addColumn('spent_at', 'bigint')
    .execute();
  await db.schema.createIndex('refresh_tokens_family_idx').on('refresh_tokens').column('family_id').execute();

  // How the first step of a sign-in with 2FA was proven, for the access token's amr.
  await db.schema.alterTable('login_tickets').addColumn('first_factor', 'text').execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The Standard Webhooks message id (webhook-id): the same for every receiver and every retry.
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    // pending | delivered | failed
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    // The worker that holds the row until claimed_until: one instance delivers it at a time.
    .addColumn('claim', 'text')
    .addColumn('claimed_until', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_created_idx').on('webhook_deliveries').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['webhook_deliveries', 'refresh_tokens', 'refresh_token_families', 'signing_keys']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema.alterTable('login_tickets').dropColumn('first_factor').execute();
}
