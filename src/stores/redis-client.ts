import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../config.js';
import type { Logger } from '../domain/logger.js';

/** A single Redis (or Sentinel-managed) connection, or a Cluster client: the stores use either. */
export type RedisClient = Redis | Cluster;

/** How often to try to reconnect: fast enough that the service recovers within a second or so. */
const reconnectDelayMs = (attempt: number) => Math.min(attempt * 100, 1000);

/**
 * Opens the Redis connection with bounded waits. Every choice here serves one rule: when Redis is
 * down, a request fails within about `timeoutMs` (and answers 503) instead of queueing forever,
 * and the client keeps reconnecting in the background so the service recovers without a restart.
 *
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once instead of waiting
 *   for a reconnect that may never come.
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops fails too; the
 *   client, not this process, decides whether to retry the request.
 * - `commandTimeout`: a Redis that accepts connections but does not answer (paused, swapping)
 *   still cannot hold a request.
 */
export function createRedisClient(config: RedisConfig, log: Logger): RedisClient {
  const common = {
    connectTimeout: config.timeoutMs,
    commandTimeout: config.timeoutMs,
    maxRetriesPerRequest: 0,
    // After a Sentinel or managed failover the old primary answers READONLY: reconnect to the new one.
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
  } as const;
  const client: RedisClient = config.clusterNodes
    ? new Cluster(
        config.clusterNodes.map((node) => {
          const [host, port] = node.split(':');
          return { host: host ?? '', port: Number(port) };
        }),
        { enableOfflineQueue: false, clusterRetryStrategy: reconnectDelayMs, redisOptions: common },
      )
    : new Redis(config.url ?? '', { ...common, enableOfflineQueue: false, retryStrategy: reconnectDelayMs });

  // Without a listener ioredis prints every reconnect failure; log the first of each outage only.
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    // Not `code`: the logger censors that field everywhere, since a verification code could be in it.
    log.error({ reason: err.message, errorCode: (err as { code?: unknown }).code }, 'redis unavailable');
  });
  client.on('ready', () => {
    if (down) log.info({}, 'redis available again');
    down = false;
  });
  return client;
}

/**
 * Waits until the client is ready, at most `timeoutMs`. Returns false instead of throwing: the
 * service starts without Redis (answering 503 and reporting it on /readyz) and recovers when it comes.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}
