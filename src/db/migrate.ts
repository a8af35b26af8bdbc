import { Migrator, type Kysely, type Migration } from 'kysely';
import * as m001 from './migrations/001_initial.js';
import * as m002 from './migrations/002_sms_messages.js';
import * as m003 from './migrations/003_security.js';

/** Every migration, in order. Listed here, not read from disk, so the built service needs no migration folder. */
const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
  '002_sms_messages': m002,
  '003_security': m003,
};

/** Brings the schema up to date; throws with the failing migration's name. */
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
