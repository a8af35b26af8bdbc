import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteHandle } from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase as SqliteDialectDatabase } from 'kysely';
import pg from 'pg';
import type { Config, PostgresConfig } from '../config.js';
import type { Logger } from '../domain/logger.js';
import type { HealthCheck } from '../stores/types.js';
import { failureClassifyingDialect } from './postgres-failures.js';
import type { DatabaseSchema } from './schema.js';

interface DatabaseBase {
  /** Query builder for accounts and sessions (dialect-neutral code). */
  readonly db: Kysely<DatabaseSchema>;
  /** What /readyz pings. */
  readonly health: HealthCheck;
  close(): Promise<void>;
}

export interface SqliteDatabase extends DatabaseBase {
  readonly kind: 'sqlite';
  /** The raw SQLite handle, for stores that need synchronous transactions. */
  readonly sqlite: SqliteHandle;
}

export interface PostgresDatabase extends DatabaseBase {
  readonly kind: 'postgres';
  /** The pool under Kysely, for rate-limiter-flexible's PostgreSQL counters. */
  readonly pool: pg.Pool;
}

export type Database = SqliteDatabase | PostgresDatabase;

/** Opens the database DATABASE_URL names. */
export function openDatabase(config: Config, log: Logger): Database {
  if (config.postgres) return openPostgresDatabase(config.postgres, log);
  return openSqliteDatabase(config.sqlitePath ?? ':memory:');
}

/**
 * Opens (creating if needed) the SQLite file. One connection per process serves both Kysely and
 * the raw stores; account code therefore uses single statements, never a Kysely transaction that
 * would hold the connection across an await.
 */
export function openSqliteDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  // WAL lets readers run beside the writer; busy_timeout makes a second process wait for the lock instead of failing.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    kind: 'sqlite',
    db,
    sqlite,
    health: {
      name: 'sqlite',
      async ping() {
        sqlite.prepare('SELECT 1').get();
      },
    },
    // Kysely's destroy closes the better-sqlite3 handle too.
    close: () => db.destroy(),
  };
}

/** Enough for every query the service builds; SQL text past it (unlikely) is prepared each time. */
const STATEMENT_CACHE_SIZE = 200;

/**
 * Kysely's SQLite driver prepares every query anew, and preparing was 5% of the service's CPU
 * under load (docs/benchmarks.md). Kysely's queries are parameterized, so a handful of SQL texts
 * recur and their statements can be kept. Reusing one is safe: better-sqlite3 runs each to
 * completion synchronously, so no two uses overlap.
 */
function withStatementCache(sqlite: SqliteHandle): SqliteDialectDatabase {
  const statements = new Map<string, ReturnType<SqliteHandle['prepare']>>();
  return {
    prepare(sqlText) {
      let statement = statements.get(sqlText);
      if (!statement) {
        statement = sqlite.prepare(sqlText);
        if (statements.size < STATEMENT_CACHE_SIZE) statements.set(sqlText, statement);
      }
      return statement;
    },
    close: () => sqlite.close(),
  };
}

const INT8_OID = 20;

/**
 * Times are epoch milliseconds in bigint columns. pg returns int8 as a string by default (it may
 * exceed 2^53); ours stay far below that, so they come back as numbers, as they do from SQLite.
 * Set on this pool only, not on pg's global parser table.
 */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * After a client-side failure (query_timeout, a broken socket) pg may keep the connection in
 * the pool with its query still pending, and on a network that swallows packets later queries on
 * it can time out too, until TCP gives up. Destroying the socket makes the pool drop that
 * connection on release and open a fresh one, so the service recovers as soon as the database is
 * reachable (the blackhole case of test/scale/postgres-outage.test.ts: about 3 s with this, 6 s without).
 * An error the server sent (pg.DatabaseError) leaves the connection healthy and untouched.
 */
function discardOnClientSideFailure(client: pg.PoolClient): void {
  // A connection that breaks while checked out also emits 'error'; the query in flight has already
  // failed with it (and answered 503), and with no listener the event would crash the process.
  client.on('error', () => {});
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (result instanceof Promise) {
      return result.catch((err: unknown) => {
        if (!(err instanceof pg.DatabaseError)) socket?.destroy();
        throw err;
      });
    }
    return result;
  };
}

export interface PostgresOptions extends PostgresConfig {
  /** Overrides timeoutMs for statements only; 0 is "no limit", for migrations, so a long DDL is not cut short. */
  readonly statementTimeoutMs?: number;
}

/**
 * Opens a pool on PostgreSQL. Every wait is bounded by `timeoutMs`: getting a connection
 * (connectionTimeoutMillis), running a statement on the server (statement_timeout) and, as a
 * backstop for a network that swallows packets, waiting for the reply (query_timeout). A request
 * therefore fails with 503 within about that long when the database is down, and the pool simply
 * connects again once it is back.
 */
export function openPostgresDatabase(options: PostgresOptions, log: Logger): PostgresDatabase {
  const statementTimeoutMs = options.statementTimeoutMs ?? options.timeoutMs;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.timeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs === 0 ? undefined : statementTimeoutMs + 1000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    types: pgTypes,
  });
  pool.on('connect', discardOnClientSideFailure);
  // An idle connection that dies (server restart) emits here; unheard, it would crash the process.
  pool.on('error', (err) => log.warn({ reason: err.message, errorCode: (err as { code?: unknown }).code }, 'postgres connection lost'));
  const db = new Kysely<DatabaseSchema>({ dialect: failureClassifyingDialect(new PostgresDialect({ pool })) });
  return {
    kind: 'postgres',
    db,
    pool,
    health: {
      name: 'postgres',
      async ping() {
        await sql`select 1`.execute(db);
      },
    },
    // Kysely's destroy ends the pool.
    close: () => db.destroy(),
  };
}
