import { Migrator, type Kysely, type Migration } from 'kysely';
import type { Config } from '../config.js';
import type { Logger } from '../domain/logger.js';
import { openPostgresDatabase, type Database } from './database.js';
import * as m001 from './migrations/001_initial.js';

/** Every migration, in order. Listed here, not read from disk, so the built service needs no migration folder. */
const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
};

/**
 * Brings the schema up to date; throws with the failing migration's name.
 *
 * On PostgreSQL, Kysely's Migrator holds a session-level advisory lock (`pg_advisory_lock`) on one
 * connection and runs the migrations in one transaction, so instances that start together
 * migrate one after the other: the first applies, the others find nothing left to do.
 * test/accounts/postgres-migrations.test.ts starts several at once to hold it to that.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Migrates the configured database. PostgreSQL gets a connection of its own with no statement
 * timeout: waiting for another instance's lock, or a long DDL, must not be cut off at the
 * request timeout.
 */
export async function migrateDatabase(config: Config, database: Database, log: Logger): Promise<string[]> {
  if (database.kind === 'sqlite' || !config.postgres) return migrateToLatest(database.db);
  const migrationConnection = openPostgresDatabase({ ...config.postgres, poolMax: 1, statementTimeoutMs: 0 }, log);
  try {
    return await migrateToLatest(migrationConnection.db);
  } finally {
    await migrationConnection.close();
  }
}
