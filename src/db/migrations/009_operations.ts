import type { Kysely } from 'kysely';

/**
 * Issue 14: the SMS-pumping guard's counters and blocks (when Redis is not configured), operators,
 * disabled accounts, and the indexes the retention sweep deletes by.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('fraud_guard_counts')
    // "prefix:+86 1391234" or "country:CN".
    .addColumn('scope', 'text', (c) => c.notNull())
    // Five-minute bucket: floor(epoch ms / 300 000).
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('fraud_guard_counts_pk', ['scope', 'bucket'])
    .execute();
  // The console's "worst prefixes" and the sweep of old buckets read by time across scopes.
  await db.schema.createIndex('fraud_guard_counts_bucket_idx').on('fraud_guard_counts').column('bucket').execute();

  await db.schema
    .createTable('fraud_guard_blocks')
    .addColumn('scope', 'text', (c) => c.primaryKey())
    .addColumn('blocked_at', 'bigint', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    // 0 when FRAUD_GUARD=monitor only flagged the scope.
    .addColumn('enforced', 'integer', (c) => c.notNull())
    .addColumn('window', 'text', (c) => c.notNull())
    .addColumn('sent', 'integer', (c) => c.notNull())
    .addColumn('verified', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('operators')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('granted_at', 'bigint', (c) => c.notNull())
    .execute();

  // Null while the account is usable.
  await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();

  await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();
  await db.schema.createIndex('sms_messages_created_at_idx').on('sms_messages').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sms_messages_created_at_idx').ifExists().execute();
  await db.schema.dropIndex('audit_events_at_idx').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
  for (const table of ['operators', 'fraud_guard_blocks', 'fraud_guard_counts']) await db.schema.dropTable(table).ifExists().execute();
}
