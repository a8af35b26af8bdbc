import type { Kysely } from 'kysely';

// The message log: one row per provider attempt. It never holds the code or the message text.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sms_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('provider_message_id', 'text')
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('fee', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Delivery reports find their message by the provider's id.
  await db.schema.createIndex('sms_messages_provider_message_idx').on('sms_messages').columns(['provider', 'provider_message_id']).execute();
  await db.schema.createIndex('sms_messages_message_id_idx').on('sms_messages').column('message_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_messages').ifExists().execute();
}
