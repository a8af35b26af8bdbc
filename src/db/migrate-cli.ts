import { loadConfig } from './../config.js';
import { createLogger } from '../logger.js';
import { openDatabase } from './database.js';
import { migrateDatabase } from './migrate.js';

/** `npm run db:migrate`: apply pending migrations to DATABASE_URL (SQLite or PostgreSQL) and exit. */
const config = loadConfig(process.env);
const log = createLogger(config.logLevel);
const database = openDatabase(config, log);
try {
  const applied = await migrateDatabase(config, database, log);
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
} finally {
  await database.close();
}
