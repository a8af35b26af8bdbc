import type { Kysely } from 'kysely';

/**
 * Issue 6: the audit log, TOTP second factor, recovery codes and login tickets.
 * Portable Kysely only (SQLite and PostgreSQL); times are epoch ms as bigint, like 001.
 * Migrations are frozen once released: later changes go in new files.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    // No foreign key: events outlive the account they mention, and sends to unknown numbers have no user.
    .addColumn('user_id', 'text')
    .addColumn('phone_masked', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_events_user_at_idx').on('audit_events').columns(['user_id', 'at']).execute();

  await db.schema
    .createTable('two_factor')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    // AES-256-GCM ciphertext of the TOTP secret (src/domain/secret-box.ts), never the secret itself.
    .addColumn('secret_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Null while set up but not yet confirmed with a code.
    .addColumn('enabled_at', 'bigint')
    // The newest TOTP time step accepted: a code at or before it is a replay.
    .addColumn('last_step', 'bigint')
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('login_tickets')
    // Keyed hash of the ticket, like sessions.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['login_tickets', 'recovery_codes', 'two_factor', 'audit_events']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
