import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../domain/logger.js';
import { postgresCaptchaStore, postgresCodeStore } from './postgres-store.js';
import { createRedisClient, waitUntilReady, type RedisClient } from './redis-client.js';
import { redisCaptchaStore, redisCodeStore, redisHealthCheck } from './redis-store.js';
import { sqliteCaptchaStore, sqliteCodeStore } from './sqlite-store.js';
import type { CaptchaStore, CodeStore, HealthCheck } from './types.js';

/** Where the short-lived verification state lives, chosen from the config. */
export interface StateStores {
  readonly codes: CodeStore;
  readonly captchas: CaptchaStore;
  /** Dependencies /readyz should ping: the database, and Redis when it is used. */
  readonly checks: readonly HealthCheck[];
  /** The Redis client when Redis is used, so the limit counters can share its connection. */
  readonly redis?: RedisClient;
  close(): Promise<void>;
}

/**
 * Redis when REDIS_URL or REDIS_CLUSTER_NODES is set; otherwise the database itself (SQLite for
 * one host, PostgreSQL for several instances without Redis).
 */
export async function createStateStores(config: Config, database: Database, log: Logger): Promise<StateStores> {
  if (config.redis) {
    const client = createRedisClient(config.redis, log);
    // Start even if Redis is not up yet: requests answer 503 and /readyz says why until it is.
    if (!(await waitUntilReady(client, config.redis.timeoutMs * 3))) log.warn({}, 'starting without redis; will keep trying');
    const options = { keyPrefix: config.redis.keyPrefix };
    return {
      codes: redisCodeStore(client, options),
      captchas: redisCaptchaStore(client, options),
      checks: [database.health, redisHealthCheck(client)],
      redis: client,
      close: async () => {
        await client.quit().catch(() => client.disconnect());
      },
    };
  }
  if (database.kind === 'postgres') {
    return {
      codes: postgresCodeStore(database.db),
      captchas: postgresCaptchaStore(database.db),
      checks: [database.health],
      close: async () => {},
    };
  }
  return {
    codes: sqliteCodeStore(database.sqlite),
    captchas: sqliteCaptchaStore(database.sqlite),
    checks: [database.health],
    close: async () => {},
  };
}
