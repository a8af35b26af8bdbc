import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll } from 'vitest';
import { openPostgresDatabase, type PostgresDatabase } from '../../src/db/database.js';
import { loadConfig } from '../../src/config.js';
import { MIGRATION_LOCK_KEY, migrateDatabase } from '../../src/db/migrate.js';
import type { Logger } from '../../src/domain/logger.js';

/**
 * The real Redis and PostgreSQL the integration tests use, from TEST_REDIS_URL and
 * TEST_DATABASE_URL. Unset on a developer's machine: those suites are skipped, with the reason
 * printed once. With CI=true a missing variable fails the run, so CI cannot pass by skipping.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

const announced = new Set<string>();

/** Whether the backend's tests can run; prints why not, or throws under CI. */
export function backendAvailable(name: 'TEST_REDIS_URL' | 'TEST_DATABASE_URL'): boolean {
  const url = name === 'TEST_REDIS_URL' ? TEST_REDIS_URL : TEST_DATABASE_URL;
  if (url) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is not set, and CI=true does not allow skipping its tests (see .ci/run)`);
  if (!announced.has(name)) {
    announced.add(name);
    process.stdout.write(`[skip] ${name} is not set: tests against the real server are skipped (.ci/run sets it)\n`);
  }
  return false;
}

/** A name no other test run uses at the same time (other engineers run the suite on this machine too). */
export const uniqueTestName = (what: string) => `sms_verify_test_${what}_${process.pid}_${randomBytes(4).toString('hex')}`;

export const silentLog: Logger = { info() {}, warn() {}, error() {} };

/**
 * A Redis key prefix of this test file's own; every key under it is deleted after the file.
 * SCAN, never KEYS: the shared Redis may hold other runs' keys.
 */
export function redisTestPrefix(): string {
  const prefix = `${uniqueTestName('redis')}:`;
  afterAll(async () => {
    if (!TEST_REDIS_URL) return;
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  });
  return prefix;
}

/**
 * Drops a test schema while holding the migration lock. Kysely's migrator looks at the tables of
 * every schema, and a schema dropped under that look fails another test file's migration with
 * "schema … does not exist"; under the lock the two take turns.
 */
export async function dropTestSchema(admin: PostgresDatabase, schema: string): Promise<void> {
  await admin.db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(connection);
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(connection);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
    }
  });
}

/** TEST_DATABASE_URL with its search_path set to one schema. */
export function postgresUrlForSchema(schema: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export interface PostgresTestSchema {
  /** A DATABASE_URL whose connections use this schema. */
  readonly url: string;
  /** Creates the schema (and migrates it, unless told not to); open and truncate do it too. */
  create(): Promise<void>;
  /** Opens a pool on the schema, migrated; closed by the caller. */
  open(timeoutMs?: number): Promise<PostgresDatabase>;
  /** Empties every table, between tests. */
  truncate(): Promise<void>;
}

/**
 * A PostgreSQL schema of this test file's own, created empty and dropped (with everything in it)
 * after the file. Migrations run the first time it is opened.
 */
export function postgresTestSchema(options: { migrated?: boolean } = {}): PostgresTestSchema {
  const schema = uniqueTestName('pg');
  // Skipped suites are still collected: without a server there is no URL to build.
  const url = TEST_DATABASE_URL ? postgresUrlForSchema(schema) : '';
  let ready: Promise<void> | undefined;
  const admin = () => openPostgresDatabase({ url: TEST_DATABASE_URL!, poolMax: 1, timeoutMs: 5000 }, silentLog);
  const prepare = () =>
    (ready ??= (async () => {
      const a = admin();
      try {
        await sql`create schema ${sql.id(schema)}`.execute(a.db);
      } finally {
        await a.close();
      }
      // Left empty when the service under test is to migrate it itself.
      if (options.migrated === false) return;
      const config = loadConfig({ DATABASE_URL: url });
      const db = openPostgresDatabase(config.postgres!, silentLog);
      try {
        await migrateDatabase(config, db, silentLog);
      } finally {
        await db.close();
      }
    })());

  afterAll(async () => {
    if (!ready) return;
    const a = admin();
    try {
      await dropTestSchema(a, schema);
    } finally {
      await a.close();
    }
  });

  return {
    url,
    create: prepare,
    async open(timeoutMs = 5000) {
      await prepare();
      return openPostgresDatabase({ url, poolMax: 10, timeoutMs }, silentLog);
    },
    async truncate() {
      await prepare();
      const db = openPostgresDatabase({ url, poolMax: 1, timeoutMs: 5000 }, silentLog);
      try {
        await sql`truncate users, sessions, pending_codes, captchas, rate_limit_counters cascade`.execute(db.db);
      } finally {
        await db.close();
      }
    },
  };
}
