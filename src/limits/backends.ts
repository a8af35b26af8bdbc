import type { Database as SqliteHandle } from 'better-sqlite3';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** What a rule needs from a backend: a rate-limiter-flexible limiter with this prefix, size and lifetime. */
export interface LimiterOptions {
  readonly keyPrefix: string;
  readonly points: number;
  /** Seconds a counter lives after its first use. */
  readonly duration: number;
}

/**
 * Builds rate-limiter-flexible limiters on one storage. Each backend's increment is atomic in its
 * store (a Map in one process; one UPSERT … RETURNING in SQLite; a Lua INCR+PEXPIRE in Redis).
 */
export interface LimitBackend {
  readonly name: 'memory' | 'sqlite' | 'postgres' | 'redis';
  limiter(options: LimiterOptions): RateLimiterAbstract;
  close(): Promise<void>;
}

/** This process only: counters vanish on restart and are not shared between instances. */
export function memoryLimitBackend(): LimitBackend {
  return {
    name: 'memory',
    limiter: (options) => new RateLimiterMemory({ ...options }),
    close: async () => {},
  } satisfies LimitBackend;
}

/**
 * rate-limiter-flexible's own columns (key, points, expire). Migration 004 makes the table for both
 * databases; the SQLite backend also makes it, synchronously, for files opened without migrations.
 */
const COUNTERS_TABLE = 'rate_limit_counters';

/** Expired counter rows deleted per sweep, and takes between sweeps. */
export const SQLITE_SWEEP_BATCH = 200;
export const SQLITE_SWEEP_EVERY = 50;

/**
 * Counters in the service's SQLite file (the embedded default): they survive a restart and are
 * shared by every process on the file. Works with better-sqlite3 12 through the library's
 * `storeType: 'better-sqlite3'` (checked by test/limits/limits.conformance.ts).
 */
export function sqliteLimitBackend(sqlite: SqliteHandle): LimitBackend {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS ${COUNTERS_TABLE} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`);
  sqlite.exec(`CREATE INDEX IF NOT EXISTS rate_limit_counters_expire ON ${COUNTERS_TABLE} (expire)`);
  // A bounded batch through the expiry index: the whole-table DELETE this replaced took 110 ms at a
  // million rows and 450 ms at four million, with the server blocked (issue 10). Expired rows
  // are dead weight only, so clearing SWEEP_BATCH of them every SWEEP_EVERY takes keeps up with
  // any rate the limits allow (each take creates at most one row) at a cost that does not grow.
  const sweep = sqlite.prepare(
    `DELETE FROM ${COUNTERS_TABLE} WHERE rowid IN (SELECT rowid FROM ${COUNTERS_TABLE} WHERE expire < ? ORDER BY expire LIMIT ${SQLITE_SWEEP_BATCH})`,
  );
  let calls = 0;
  return {
    name: 'sqlite',
    limiter(options) {
      const limiter = new RateLimiterSQLite({
        ...options,
        storeClient: sqlite,
        storeType: 'better-sqlite3',
        tableName: COUNTERS_TABLE,
        tableCreated: true,
      });
      const consume = limiter.consume.bind(limiter);
      limiter.consume = (key, points, opts) => {
        if (++calls % SQLITE_SWEEP_EVERY === 0) sweep.run(Date.now());
        return consume(key, points, opts);
      };
      return limiter;
    },
    close: async () => {},
  } satisfies LimitBackend;
}

/**
 * Counters in Redis, shared by every instance. `keyPrefix` keeps several services (or test runs)
 * on one Redis apart. The client is the caller's: this backend does not close it.
 */
export function redisLimitBackend(client: Redis | Cluster, keyPrefix = 'sms-verify:limit'): LimitBackend {
  return {
    name: 'redis',
    limiter: (options) => new RateLimiterRedis({ ...options, keyPrefix: `${keyPrefix}:${options.keyPrefix}`, storeClient: client }),
    close: async () => {},
  } satisfies LimitBackend;
}

/**
 * Counters in PostgreSQL (table rate_limit_counters, migration 004), shared by every instance on
 * the database: the choice for several instances without Redis. Each take is one
 * INSERT … ON CONFLICT … RETURNING, atomic in PostgreSQL. The pool is the caller's.
 */
export function postgresLimitBackend(pool: pg.Pool): LimitBackend {
  return {
    name: 'postgres',
    limiter: (options) =>
      new RateLimiterPostgres({ ...options, storeClient: pool, storeType: 'pool', tableName: COUNTERS_TABLE, tableCreated: true }),
    close: async () => {},
  } satisfies LimitBackend;
}
