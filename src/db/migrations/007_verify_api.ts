import type { Kysely } from 'kysely';

/**
 * Issue 11: API keys and the Verify API's services and verifications. Portable Kysely only
 * (SQLite and PostgreSQL); times are epoch ms as bigint, booleans 0/1 integers.
 * Migrations are frozen once released: later changes go in new files.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // HMAC-SHA256 under SECRET of the key's secret; the secret itself is printed once and never stored.
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('verify_services')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('friendly_name', 'text', (c) => c.notNull())
    .addColumn('code_length', 'integer', (c) => c.notNull())
    .addColumn('psd2_enabled', 'integer', (c) => c.notNull())
    .addColumn('do_not_share_warning_enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('verify_verifications')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('service_sid', 'text', (c) => c.notNull().references('verify_services.sid').onDelete('cascade'))
    .addColumn('to_phone', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    // pending | approved | canceled; "expired" is read from expires_at.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'text')
    .addColumn('payee', 'text')
    // Names the pending code in the code store (its keyed hash), for cancel and approve.
    .addColumn('code_handle', 'text', (c) => c.notNull())
    // JSON array of {time, channel, attempt_sid}.
    .addColumn('send_attempts', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('verify_verifications_to_idx')
    .on('verify_verifications')
    .columns(['service_sid', 'to_phone', 'status'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['verify_verifications', 'verify_services', 'api_keys']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
