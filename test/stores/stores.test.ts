import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { memoryCaptchaStore, memoryCodeStore } from '../../src/stores/memory-store.js';
import { sqliteCaptchaStore, sqliteCodeStore } from '../../src/stores/sqlite-store.js';
import { describeStoreConformance } from './code-store.conformance.js';

describeStoreConformance('memory', async () => ({
  codes: memoryCodeStore(),
  captchas: memoryCaptchaStore(),
  close: async () => {},
}));

describeStoreConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-store-'));
  const database = openSqliteDatabase(join(dir, 'store.db'));
  await migrateToLatest(database.db);
  return {
    codes: sqliteCodeStore(database.sqlite),
    captchas: sqliteCaptchaStore(database.sqlite),
    close: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
