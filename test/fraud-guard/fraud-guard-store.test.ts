import { Redis } from 'ioredis';
import { openSqliteDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { redisFraudGuardStore } from '../../src/stores/fraud-guard-redis.js';
import { memoryFraudGuardStore, sqlFraudGuardStore } from '../../src/stores/fraud-guard-store.js';
import { backendAvailable, postgresTestSchema, redisTestPrefix, TEST_REDIS_URL } from '../helpers/backends.js';
import { sql } from 'kysely';
import { fraudGuardStoreConformance } from './fraud-guard-store.conformance.js';

fraudGuardStoreConformance('memory', async () => ({ store: memoryFraudGuardStore(), close: async () => {} }));

fraudGuardStoreConformance('sqlite', async () => {
  const database = openSqliteDatabase(':memory:');
  await migrateToLatest(database.db);
  return { store: sqlFraudGuardStore(database.db), close: () => database.close() };
});

const schema = postgresTestSchema();
if (backendAvailable('TEST_DATABASE_URL')) {
  fraudGuardStoreConformance('postgres', async () => {
    const database = await schema.open();
    await sql`truncate fraud_guard_counts, fraud_guard_blocks`.execute(database.db);
    return { store: sqlFraudGuardStore(database.db), close: () => database.close() };
  });
}

const prefix = redisTestPrefix();
if (backendAvailable('TEST_REDIS_URL')) {
  let run = 0;
  fraudGuardStoreConformance('redis', async () => {
    const client = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
    return { store: redisFraudGuardStore(client, { keyPrefix: `${prefix}${run++}:` }), close: async () => void (await client.quit()) };
  });
}
