/**
 * `npm run bench:admission`: the cost per call of each admission adapter beside what a send and a
 * check cost today through src/limits (rate-limiter-flexible, one counter at a time) and the code
 * store, on the same backend in the same run. Prints a table; docs/benchmarks.md quotes it.
 *
 *   --calls=N           calls per row (default 3000)
 *   --concurrency=N     calls in flight at once (default 1: the latency of one call; 32 for throughput)
 *   --redis-url=URL     default redis://127.0.0.1:6379 (keys under a prefix of this run, removed after)
 *   --database-url=URL  a PostgreSQL to include (a schema of this run, dropped after)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { loadConfig, type LimitSettings } from '../src/config.js';
import { openPostgresDatabase, openSqliteDatabase } from '../src/db/database.js';
import { migrateDatabase, migrateToLatest } from '../src/db/migrate.js';
import type { Admission, AdmissionLimits } from '../src/domain/admission.js';
import { reserveAll } from '../src/domain/limit-reservation.js';
import type { Logger } from '../src/domain/logger.js';
import { createLimits, memoryLimitBackend, postgresLimitBackend, redisLimitBackend, sqliteLimitBackend, type LimitBackend } from '../src/limits/index.js';
import { memoryAdmission } from '../src/stores/memory-admission.js';
import { memoryCodeStore } from '../src/stores/memory-store.js';
import { postgresAdmission } from '../src/stores/postgres-admission.js';
import { postgresCodeStore } from '../src/stores/postgres-store.js';
import { redisAdmission } from '../src/stores/redis-admission.js';
import { createRedisClient, waitUntilReady } from '../src/stores/redis-client.js';
import { redisCodeStore } from '../src/stores/redis-store.js';
import { sqliteAdmission } from '../src/stores/sqlite-admission.js';
import { sqliteCodeStore } from '../src/stores/sqlite-store.js';
import type { CodeStore, PendingCode } from '../src/stores/types.js';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
) as Record<string, string>;
const CALLS = Number(args.calls ?? 3000);
const CONCURRENCY = Number(args.concurrency ?? 1);
const REDIS_URL = args['redis-url'] ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = args['database-url'];
const PREFIX = `sms-verify-bench-admission:${process.pid}:`;
const silent: Logger = { info() {}, warn() {}, error() {} };

/** Ceilings nobody reaches: the cost of counting is measured, never a refusal (except the cooldown rows). */
const LIMITS: AdmissionLimits = {
  smsPerIpHourly: 1e9,
  smsPerPhoneHourly: 1e9,
  smsPerPhoneDaily: 1e9,
  smsPerPrefixHourly: 1e9,
  smsDailyBudget: 1e9,
  checksPerIpHourly: 1e9,
  failedChecksPerPhoneHourly: 1e9,
};

interface Backend {
  name: string;
  admission: Admission;
  codes: CodeStore;
  limitBackend: LimitBackend;
  close(): Promise<void>;
}

let serial = 0;
const phone = () => `+86139${String(serial++).padStart(8, '0')}`;
const pending = (now: number): PendingCode => ({ codeHash: `h${serial}`, expiresAt: now + 300_000, resendAt: now + 60_000, attempts: 0 });

/** Runs `op` CALLS times, CONCURRENCY at a time; answers µs of wall time and of this process's CPU per call. */
async function time(op: (i: number) => Promise<unknown>): Promise<{ wallUs: number; cpuUs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) await op(next++);
    }),
  );
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { wallUs: wall / CALLS, cpuUs: (used.user + used.system) / CALLS };
}

async function measure(b: Backend): Promise<string[]> {
  const limits = createLimits(
    {
      ...LIMITS,
      captchasPerIpHourly: 1e9,
      failedLoginsPerIpHourly: 1e9,
      failedLoginsPerPhoneHourly: 1e9,
      allowedCountries: '*',
      prefixDigits: 7,
      captchaFailuresPerIpHourly: 1e9,
      ipv6LimitPrefix: 56,
    } satisfies LimitSettings,
    b.limitBackend,
  );
  const now = Date.now();
  const rows: string[] = [];
  const row = (what: string, t: { wallUs: number; cpuUs: number }) =>
    rows.push(`| ${b.name} | ${what} | ${t.wallUs.toFixed(1)} | ${t.cpuUs.toFixed(1)} |`);

  // Today's send: five takes one after the other, then the code store's beginSend.
  row(
    'send today (5 limit takes + beginSend)',
    await time(async () => {
      const p = phone();
      const rules = [
        [limits.smsPerIpHourly, '192.0.2.1'],
        [limits.smsPerPhoneHourly, p],
        [limits.smsPerPhoneDaily, p],
        [limits.smsPerPrefixHourly, p.slice(0, 10)],
        [limits.smsDailyBudget!, 'all'],
      ] as const;
      await reserveAll(rules, now, silent);
      await b.codes.beginSend({ phone: p, purpose: 'register' }, pending(now), now);
    }),
  );
  row(
    'send, admission step',
    await time(async () => {
      const p = phone();
      await b.admission.admitSend({ phone: p, purpose: 'register', ipKey: '192.0.2.1', prefix: p.slice(0, 10), pending: pending(now), now });
    }),
  );
  // A refused send: one number inside its cooldown. Today every take counts and is given back.
  const busy = phone();
  await b.admission.admitSend({ phone: busy, purpose: 'register', ipKey: '192.0.2.1', prefix: busy.slice(0, 10), pending: pending(now), now });
  row(
    'cooldown refusal today',
    await time(async () => {
      const rules = [
        [limits.smsPerIpHourly, '192.0.2.1'],
        [limits.smsPerPhoneHourly, busy],
        [limits.smsPerPhoneDaily, busy],
        [limits.smsPerPrefixHourly, busy.slice(0, 10)],
        [limits.smsDailyBudget!, 'all'],
      ] as const;
      const reservation = await reserveAll(rules, now, silent);
      const begun = await b.codes.beginSend({ phone: busy, purpose: 'register' }, pending(now), now);
      if (!begun.ok && 'release' in reservation) await reservation.release();
    }),
  );
  row(
    'cooldown refusal, admission step',
    await time(() => b.admission.admitSend({ phone: busy, purpose: 'register', ipKey: '192.0.2.1', prefix: busy.slice(0, 10), pending: pending(now), now })),
  );
  // Today's wrong-code check: per-IP take, budget take, the code script, the budget given back (missing code).
  row(
    'wrong-code check today (2 takes + check + give-back)',
    await time(async () => {
      const p = phone();
      await limits.checksPerIpHourly.take('192.0.2.1', now);
      const budget = await limits.failedChecksPerPhoneHourly.take(`register:${p}`, now);
      const result = await b.codes.check({ phone: p, purpose: 'register' }, 'wrong', now, 5);
      if (result.outcome !== 'wrong' && budget.allowed) await budget.release();
    }),
  );
  row(
    'wrong-code check, admission step',
    await time(async () => {
      await b.admission.check({ phone: phone(), purpose: 'register', ipKey: '192.0.2.1', candidateHash: 'wrong', now, maxAttempts: 5 });
    }),
  );
  return rows;
}

async function main(): Promise<void> {
  const backends: (() => Promise<Backend>)[] = [
    async () => {
      const map = new Map<string, PendingCode>();
      return { name: 'memory', admission: memoryAdmission(LIMITS, { codes: map }), codes: memoryCodeStore(map), limitBackend: memoryLimitBackend(), close: async () => {} };
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sms-verify-bench-admission-'));
      const database = openSqliteDatabase(join(dir, 'bench.db'));
      await migrateToLatest(database.db);
      return {
        name: 'sqlite',
        admission: sqliteAdmission(LIMITS, database.sqlite),
        codes: sqliteCodeStore(database.sqlite),
        limitBackend: sqliteLimitBackend(database.sqlite),
        close: async () => {
          await database.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    async () => {
      const client = createRedisClient({ url: REDIS_URL, clusterNodes: undefined, keyPrefix: '', timeoutMs: 5000 }, silent);
      if (!(await waitUntilReady(client, 5000))) throw new Error(`no Redis at ${REDIS_URL}`);
      return {
        name: 'redis',
        admission: redisAdmission(LIMITS, client, { keyPrefix: PREFIX }),
        codes: redisCodeStore(client, { keyPrefix: PREFIX }),
        limitBackend: redisLimitBackend(client, `${PREFIX}rlf`),
        close: async () => {
          await client.quit();
        },
      };
    },
  ];
  if (DATABASE_URL) {
    backends.push(async () => {
      const schema = `sms_verify_bench_${process.pid}`;
      const admin = openPostgresDatabase({ url: DATABASE_URL, poolMax: 1, timeoutMs: 5000 }, silent);
      await sql`create schema ${sql.id(schema)}`.execute(admin.db);
      const url = new URL(DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const config = loadConfig({ DATABASE_URL: url.toString() });
      const database = openPostgresDatabase({ ...config.postgres!, poolMax: 10 }, silent);
      await migrateDatabase(config, database, silent);
      return {
        name: 'postgres',
        admission: postgresAdmission(LIMITS, database.pool),
        codes: postgresCodeStore(database.db),
        limitBackend: postgresLimitBackend(database.pool),
        close: async () => {
          await database.close();
          await sql`drop schema ${sql.id(schema)} cascade`.execute(admin.db);
          await admin.close();
        },
      };
    });
  }
  const rows: string[] = [];
  for (const open of backends) {
    const backend = await open();
    try {
      // The first pass warms up (JIT, prepared statements, loaded scripts); the second counts.
      await measure(backend);
      rows.push(...(await measure(backend)));
    } finally {
      await backend.close();
    }
  }
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
  process.stdout.write(
    `${CALLS} calls per row, ${CONCURRENCY} in flight; µs per call (wall time, and CPU of this process, which runs the adapter and the client)\n\n| backend | what | wall µs/call | CPU µs/call |\n|---|---|---|---|\n${rows.join('\n')}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
