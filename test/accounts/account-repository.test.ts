import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { kyselyAccountRepository } from '../../src/db/account-repository.js';
import { openPostgresDatabase, openSqliteDatabase } from '../../src/db/database.js';
import { MIGRATION_NAMES, migrateDatabase, migrateToLatest } from '../../src/db/migrate.js';
import { backendAvailable, dropTestSchema, postgresTestSchema, postgresUrlForSchema, silentLog, uniqueTestName } from '../helpers/backends.js';
import { describeAccountRepositoryConformance } from './account-repository.conformance.js';
import { sql } from 'kysely';

describeAccountRepositoryConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-repo-'));
  const database = openSqliteDatabase(join(dir, 'repo.db'));
  await migrateToLatest(database.db);
  return {
    repo: kyselyAccountRepository(database.db),
    close: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

if (backendAvailable('TEST_DATABASE_URL')) {
  const schema = postgresTestSchema();
  describeAccountRepositoryConformance('postgres', async () => {
    await schema.truncate();
    const database = await schema.open();
    return { repo: kyselyAccountRepository(database.db, 'postgres'), close: () => database.close() };
  });

  describe('postgres migrations', () => {
    it('four instances migrating one empty schema at once apply each migration exactly once', async () => {
      const name = uniqueTestName('migrate');
      const url = postgresUrlForSchema(name);
      const admin = openPostgresDatabase({ url: process.env.TEST_DATABASE_URL!, poolMax: 1, timeoutMs: 5000 }, silentLog);
      await sql`create schema ${sql.id(name)}`.execute(admin.db);
      try {
        const config = loadConfig({ DATABASE_URL: url });
        const instances = Array.from({ length: 4 }, () => openPostgresDatabase(config.postgres!, silentLog));
        try {
          const applied = await Promise.all(instances.map((database) => migrateDatabase(config, database, silentLog)));
          expect(applied.flat()).toEqual(MIGRATION_NAMES);
          const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.id(name, 'kysely_migration')}`.execute(admin.db);
          expect(Number(rows[0]?.n)).toBe(MIGRATION_NAMES.length);
        } finally {
          await Promise.all(instances.map((d) => d.close()));
        }
      } finally {
        await dropTestSchema(admin, name);
        await admin.close();
      }
    });
  });
}
