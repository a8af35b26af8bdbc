import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { Config } from '../config.js';
import type { Logger } from '../domain/logger.js';
import { openPostgresDatabase, type Database } from './database.js';
import * as m001 from './migrations/001_initial.js';
import * as m002 from './migrations/002_sms_messages.js';
import * as m003 from './migrations/003_security.js';
import * as m004 from './migrations/004_rate_limit_counters.js';
import * as m005 from './migrations/005_session_devices.js';
import * as m006 from './migrations/006_credential_versions.js';
import * as m007 from './migrations/007_verify_api.js';
import * as m008 from './migrations/008_tokens_webhooks.js';
import * as m009 from './migrations/009_operations.js';

/** Every migration, in order. Listed here, not read from disk, so the built service needs no migration folder. */
const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
  '002_sms_messages': m002,
  '003_security': m003,
  '004_rate_limit_counters': m004,
  '005_session_devices': m005,
  '006_credential_versions': m006,
  '007_verify_api': m007,
  '008_tokens_webhooks': m008,
  '009_operations': m009,
};

/** Names of every migration, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);


/**
 * Brings the schema up to date; throws with the failing migration's name. `schema` names where
 * Kysely keeps its bookkeeping tables (PostgreSQL): without it, Kysely's "does the table exist"
 * looks in every schema and can find another schema's table instead of creating its own.
 */
export async function migrateToLatest(db: Kysely<any>, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Any fixed 64-bit number; it names this service's migration lock among the database's advisory locks. */
export const MIGRATION_LOCK_KEY = 7_204_118_530_221_001n;

/**
 * Migrates the configured database.
 *
 * On PostgreSQL, instances that start together must not race. The whole run holds a
 * session-level advisory lock of ours on one connection, so the first instance applies the
 * migrations and the others wait, then find nothing left to do. (Kysely's Migrator also locks,
 * but only after creating its bookkeeping tables; ours covers the whole run.) That connection has
 * no statement timeout, so neither the wait nor a long DDL is cut off at the request timeout.
 */
export async function migrateDatabase(config: Config, database: Database, log: Logger): Promise<string[]> {
  if (database.kind === 'sqlite' || !config.postgres) return migrateToLatest(database.db);
  const migrationPool = openPostgresDatabase({ ...config.postgres, poolMax: 1, statementTimeoutMs: 0 }, log);
  try {
    return await migrationPool.db.connection().execute(async (connection) => {
      await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(connection);
      try {
        const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(connection);
        return await migrateToLatest(connection, rows[0]?.schema);
      } finally {
        await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
      }
    });
  } finally {
    await migrationPool.close();
  }
}
