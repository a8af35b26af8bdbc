import type { Kysely } from 'kysely';

/**
 * Sessions and sign-in tickets remember the credential version they were proven with. A password
 * reset, a phone change or turning 2FA on bumps the user's version, and a session or ticket of
 * an older version is refused: also one whose sign-in was still in flight when the change
 * answered (issue 10). The index on the limit counters' expiry lets the clean-up delete a bounded
 * batch of expired rows without reading the whole table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['users', 'sessions', 'login_tickets']) {
    await db.schema
      .alterTable(table)
      .addColumn('credential_version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await db.schema.createIndex('rate_limit_counters_expire').ifNotExists().on('rate_limit_counters').column('expire').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('rate_limit_counters_expire').ifExists().execute();
  for (const table of ['users', 'sessions', 'login_tickets']) {
    await db.schema.alterTable(table).dropColumn('credential_version').execute();
  }
}
