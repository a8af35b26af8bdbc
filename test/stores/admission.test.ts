import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPostgresDatabase, openSqliteDatabase } from '../../src/db/database.js';
import { DependencyUnavailableError } from '../../src/errors.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { PendingCode } from '../../src/stores/types.js';
import { memoryAdmission } from '../../src/stores/memory-admission.js';
import { memoryCodeStore } from '../../src/stores/memory-store.js';
import { postgresAdmission } from '../../src/stores/postgres-admission.js';
import { postgresCodeStore } from '../../src/stores/postgres-store.js';
import { redisAdmission } from '../../src/stores/redis-admission.js';
import { createRedisClient, waitUntilReady } from '../../src/stores/redis-client.js';
import { redisCodeStore } from '../../src/stores/redis-store.js';
import { sqliteAdmission } from '../../src/stores/sqlite-admission.js';
import { sqliteCodeStore } from '../../src/stores/sqlite-store.js';
import { backendAvailable, postgresTestSchema, redisTestPrefix, silentLog, TEST_REDIS_URL } from '../helpers/backends.js';
import { freePort } from '../helpers/server-process.js';
import { CONFORMANCE_LIMITS, describeAdmissionConformance } from './admission.conformance.js';

describeAdmissionConformance('memory', async () => {
  const codes = new Map<string, PendingCode>();
  return { admission: memoryAdmission(CONFORMANCE_LIMITS, { codes }), codes: memoryCodeStore(codes), close: async () => {} };
});

describeAdmissionConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-admission-'));
  const database = openSqliteDatabase(join(dir, 'admission.db'));
  await migrateToLatest(database.db);
  return {
    admission: sqliteAdmission(CONFORMANCE_LIMITS, database.sqlite),
    codes: sqliteCodeStore(database.sqlite),
    close: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

if (backendAvailable('TEST_DATABASE_URL')) {
  const schema = postgresTestSchema();
  describeAdmissionConformance('postgres', async () => {
    await schema.truncate();
    const database = await schema.open();
    await database.pool.query('TRUNCATE rate_limit_counters');
    return {
      admission: postgresAdmission(CONFORMANCE_LIMITS, database.pool),
      codes: postgresCodeStore(database.db),
      close: () => database.close(),
    };
  });
}

if (backendAvailable('TEST_REDIS_URL')) {
  const prefix = redisTestPrefix();
  let run = 0;
  describeAdmissionConformance('redis', async () => {
    const client = createRedisClient({ url: TEST_REDIS_URL, clusterNodes: undefined, keyPrefix: '', timeoutMs: 2000 }, silentLog);
    if (!(await waitUntilReady(client, 5000))) throw new Error(`Redis at ${TEST_REDIS_URL} did not answer`);
    const options = { keyPrefix: `${prefix}${++run}:` };
    return {
      admission: redisAdmission(CONFORMANCE_LIMITS, client, options),
      codes: redisCodeStore(client, options),
      close: async () => {
        await client.quit();
      },
    };
  });
}

describe('admission with its store down', () => {
  const request = {
    phone: '+8613800138000',
    purpose: 'register',
    ipKey: '192.0.2.1',
    prefix: '+861380013',
    pending: { codeHash: 'h', expiresAt: 300_000, resendAt: 60_000, attempts: 0 },
    now: 0,
  };
  const checkRequest = { phone: request.phone, purpose: 'register', ipKey: '192.0.2.1', candidateHash: 'h', now: 0, maxAttempts: 5 };

  it('answers dependency unavailable (503) from Redis, for a send and a check', async () => {
    const port = await freePort();
    const client = createRedisClient({ url: `redis://127.0.0.1:${port}`, clusterNodes: undefined, keyPrefix: '', timeoutMs: 500 }, silentLog);
    try {
      const admission = redisAdmission(CONFORMANCE_LIMITS, client, { keyPrefix: 'down:' });
      await expect(admission.admitSend(request)).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(admission.check(checkRequest)).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      client.disconnect();
    }
  });

  it('answers dependency unavailable (503) from PostgreSQL, for a send and a check', async () => {
    const port = await freePort();
    const database = openPostgresDatabase({ url: `postgres://postgres@127.0.0.1:${port}/none`, poolMax: 1, timeoutMs: 500 }, silentLog);
    try {
      const admission = postgresAdmission(CONFORMANCE_LIMITS, database.pool);
      await expect(admission.admitSend(request)).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(admission.check(checkRequest)).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      await database.close();
    }
  });
});
