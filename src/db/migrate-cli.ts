import { loadConfig } from './../config.js';
import { openSqliteDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

/** `npm run db:migrate`: apply pending migrations to DATABASE_URL and exit. */
const config = loadConfig(process.env);
const database = openSqliteDatabase(config.sqlitePath);
try {
  const applied = await migrateToLatest(database.db);
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
} finally {
  await database.close();
}
