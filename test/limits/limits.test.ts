import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { openSqliteDatabase } from '../../src/db/database.js';
import { memoryLimitBackend, postgresLimitBackend, redisLimitBackend, sqliteLimitBackend } from '../../src/limits/index.js';
import { backendAvailable, postgresTestSchema } from '../helpers/backends.js';
import { limitBackendConformance } from './limits.conformance.js';

limitBackendConformance('memory', async () => ({ backend: memoryLimitBackend(), close: async () => {} }));

limitBackendConformance('sqlite (better-sqlite3)', async () => {
  const database = openSqliteDatabase(':memory:');
  return { backend: sqliteLimitBackend(database.sqlite), close: () => database.close() };
});

const redisUrl = process.env.TEST_REDIS_URL;
if (redisUrl) {
  limitBackendConformance('redis', async () => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    // A prefix per run: the shared Redis may hold other runs' (or other engineers') keys.
    return { backend: redisLimitBackend(client, `sms-verify-test-${process.pid}-${Date.now()}`), close: async () => void (await client.quit()) };
  });
} else {
  describe('limit backend: redis', () => {
    it.skip('skipped: set TEST_REDIS_URL=redis://127.0.0.1:6379 to run the limit conformance suite against Redis', () => {});
  });
  console.info('[limits] Redis conformance skipped: TEST_REDIS_URL is not set');
}

// PostgreSQL: the counters of several instances without Redis (RATE_LIMIT_STORE=auto on a postgres DATABASE_URL).
const schema = postgresTestSchema();
if (backendAvailable('TEST_DATABASE_URL')) {
  limitBackendConformance('postgres', async () => {
    const database = await schema.open();
    await schema.truncate();
    return { backend: postgresLimitBackend(database.pool), close: () => database.close() };
  });
}
