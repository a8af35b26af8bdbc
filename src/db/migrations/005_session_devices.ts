import type { Kysely } from 'kysely';

/**
 * Issue 9: what the account page shows of each signed-in session. The user agent and IP are the
 * ones it signed in from; last_seen_at moves at most once a minute (see AccountService.authenticate).
 * Null for sessions that began before this migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('ip', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('last_seen_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['last_seen_at', 'ip', 'user_agent']) await db.schema.alterTable('sessions').dropColumn(column).execute();
}
