import { mkdtempSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { memoryCaptchaStore, memoryCodeStore } from '../../src/stores/memory-store.js';
import { postgresCaptchaStore, postgresCodeStore } from '../../src/stores/postgres-store.js';
import { createRedisClient, waitUntilReady } from '../../src/stores/redis-client.js';
import { redisCaptchaStore, redisCodeStore } from '../../src/stores/redis-store.js';
import { sqliteCaptchaStore, sqliteCodeStore } from '../../src/stores/sqlite-store.js';
import { backendAvailable, postgresTestSchema, redisTestPrefix, silentLog, TEST_REDIS_URL } from '../helpers/backends.js';
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

if (backendAvailable('TEST_REDIS_URL')) {
  const prefix = redisTestPrefix();
  let run = 0;
  describeStoreConformance('redis', async () => {
    const client = createRedisClient({ url: TEST_REDIS_URL, clusterNodes: undefined, keyPrefix: '', timeoutMs: 2000 }, silentLog);
    if (!(await waitUntilReady(client, 5000))) throw new Error(`Redis at ${TEST_REDIS_URL} did not answer`);
    // A prefix per test, so one test's cooldown cannot leak into the next.
    const options = { keyPrefix: `${prefix}${++run}:` };
    return {
      codes: redisCodeStore(client, options),
      captchas: redisCaptchaStore(client, options),
      close: async () => {
        await client.quit();
      },
    };
  });
}

if (backendAvailable('TEST_REDIS_URL')) {
  describe('redis keys', () => {
    const prefix = redisTestPrefix();
    it('are one per pending code, hash-tagged by phone, and expire by themselves', async () => {
      const client = createRedisClient({ url: TEST_REDIS_URL, clusterNodes: undefined, keyPrefix: '', timeoutMs: 2000 }, silentLog);
      await waitUntilReady(client, 5000);
      try {
        const now = Date.now();
        await redisCodeStore(client, { keyPrefix: prefix }).beginSend(
          { phone: '+8613800138000', purpose: 'register' },
          { codeHash: 'h', expiresAt: now + 300_000, resendAt: now + 60_000, attempts: 0 },
          now,
        );
        await redisCaptchaStore(client, { keyPrefix: prefix }).put('c1', 'answer', now + 300_000, now);
        const codeKey = `${prefix}code:{+8613800138000}:register`;
        expect(await client.get(codeKey)).toBe(`0:${now + 300_000}:${now + 60_000}:h`);
        // The code's life plus the grace in which a late attempt still hears "expired".
        expect(await client.pttl(codeKey)).toBeGreaterThan(300_000);
        expect(await client.pttl(codeKey)).toBeLessThanOrEqual(900_000);
        const captchaTtl = await client.pttl(`${prefix}captcha:c1`);
        expect(captchaTtl).toBeGreaterThan(0);
        expect(captchaTtl).toBeLessThanOrEqual(300_000);
      } finally {
        await client.quit();
      }
    });
  });
}

if (backendAvailable('TEST_DATABASE_URL')) {
  const schema = postgresTestSchema();
  describeStoreConformance('postgres', async () => {
    await schema.truncate();
    const database = await schema.open();
    return {
      codes: postgresCodeStore(database.db),
      captchas: postgresCaptchaStore(database.db),
      close: () => database.close(),
    };
  });
}
