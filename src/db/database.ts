import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteHandle } from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DatabaseSchema } from './schema.js';

export interface Database {
  /** Query builder for accounts and sessions (dialect-neutral code). */
  readonly db: Kysely<DatabaseSchema>;
  /** The raw SQLite handle, for stores that need synchronous transactions. */
  readonly sqlite: SqliteHandle;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite file. One connection per process serves both Kysely and
 * the raw stores; account code therefore uses single statements, never a Kysely transaction that
 * would hold the connection across an await.
 */
export function openSqliteDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  // WAL lets readers run beside the writer; busy_timeout makes a second process wait for the lock instead of failing.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    sqlite,
    // Kysely's destroy closes the better-sqlite3 handle too.
    close: () => db.destroy(),
  };
}
