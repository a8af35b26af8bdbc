import { sql, type Kysely } from 'kysely';
import type { Logger } from '../domain/logger.js';
import type { Database } from './database.js';
import type { DatabaseSchema } from './schema.js';

const DAY_MS = 86_400_000;

/**
 * Rows per DELETE. Small enough that each statement holds its locks (SQLite's write lock, the
 * rows' locks in PostgreSQL) for milliseconds, so sign-ins and sends never wait behind the sweep.
 */
export const RETENTION_BATCH = 500;

/** Any fixed 64-bit number: names the retention sweep among PostgreSQL's advisory locks. */
const RETENTION_LOCK_KEY = 7_204_118_530_221_014n;

export interface RetentionSettings {
  readonly auditDays: number;
  readonly smsLogDays: number;
}

export interface RetentionResult {
  readonly auditEvents: number;
  readonly smsMessages: number;
  /** Other sweeps (the fraud guard's old buckets), summed. */
  readonly other: number;
}

export interface RetentionSweep {
  /** One full pass: deletes, batch by batch, everything older than its window. Undefined when another instance holds the sweep. */
  runOnce(): Promise<RetentionResult | undefined>;
  /** Runs a pass now and then (first after a minute, then every hour); timers do not keep the process alive. */
  start(): void;
  stop(): void;
}

/** Deletes one batch of rows of `table` older than `before`; answers how many went. */
async function deleteBatch(db: Kysely<DatabaseSchema>, table: 'audit_events' | 'sms_messages', before: number): Promise<number> {
  const column = table === 'audit_events' ? 'at' : 'created_at';
  // DELETE … WHERE id IN (SELECT … LIMIT n): the one bounded delete SQLite and PostgreSQL share.
  const result = await sql`delete from ${sql.table(table)} where id in (
    select id from ${sql.table(table)} where ${sql.ref(column)} < ${before} order by ${sql.ref(column)} limit ${RETENTION_BATCH}
  )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * The retention sweep (AUDIT_RETENTION_DAYS, SMS_LOG_RETENTION_DAYS). On PostgreSQL one instance
 * at a time: a pass runs only while it holds a session advisory lock, which the other instances
 * try and skip. On SQLite the file's own write lock serialises the batches of several processes.
 */
export function createRetentionSweep(deps: {
  database: Database;
  settings: RetentionSettings;
  now: () => number;
  log: Logger;
  /** Further sweeps of expired state in the database, each answering the rows it removed. */
  extra?: readonly ((now: number) => Promise<number>)[];
}): RetentionSweep {
  const { database, settings, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RetentionResult | undefined> | undefined;

  async function pass(db: Kysely<DatabaseSchema>): Promise<RetentionResult> {
    const now = deps.now();
    const drain = async (table: 'audit_events' | 'sms_messages', days: number) => {
      let total = 0;
      for (;;) {
        const deleted = await deleteBatch(db, table, now - days * DAY_MS);
        total += deleted;
        if (deleted < RETENTION_BATCH) return total;
        // Let requests in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const auditEvents = await drain('audit_events', settings.auditDays);
    const smsMessages = await drain('sms_messages', settings.smsLogDays);
    let other = 0;
    for (const sweep of deps.extra ?? []) other += await sweep(now);
    return { auditEvents, smsMessages, other };
  }

  async function runLocked(): Promise<RetentionResult | undefined> {
    if (database.kind === 'sqlite') return pass(database.db);
    return database.db.connection().execute(async (connection) => {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${RETENTION_LOCK_KEY}) as locked`.execute(connection);
      if (!rows[0]?.locked) return undefined;
      try {
        return await pass(connection);
      } finally {
        await sql`select pg_advisory_unlock(${RETENTION_LOCK_KEY})`.execute(connection);
      }
    });
  }

  const sweep: RetentionSweep = {
    runOnce() {
      running ??= runLocked()
        .then((result) => {
          if (result && result.auditEvents + result.smsMessages > 0) log.info({ ...result }, 'retention sweep deleted old rows');
          return result;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    start() {
      const run = () => {
        sweep.runOnce().catch((err: unknown) => log.error({ err }, 'retention sweep failed; it runs again within the hour'));
      };
      timer = setTimeout(function again() {
        run();
        timer = setTimeout(again, 3_600_000).unref();
      }, 60_000).unref();
    },
    stop() {
      clearTimeout(timer);
    },
  };
  return sweep;
}
