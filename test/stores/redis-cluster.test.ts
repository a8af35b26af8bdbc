import { afterAll, beforeAll } from 'vitest';
import { createRedisClient, waitUntilReady } from '../../src/stores/redis-client.js';
import { redisCaptchaStore, redisCodeStore } from '../../src/stores/redis-store.js';
import { silentLog } from '../helpers/backends.js';
import { hasRedisServer, ownRedisCluster, type OwnRedisCluster } from '../helpers/redis-server.js';
import { redisAdmission } from '../../src/stores/redis-admission.js';
import { CONFORMANCE_LIMITS, describeAdmissionConformance } from './admission.conformance.js';
import { describeStoreConformance } from './code-store.conformance.js';

const available = hasRedisServer();
if (!available) {
  if (process.env.CI === 'true') throw new Error('redis-server is not installed, and CI=true does not allow skipping the Redis Cluster suite');
  process.stdout.write('[skip] redis-server is not on PATH: the Redis Cluster conformance suite is skipped\n');
}

/**
 * The store on a real three-shard Redis Cluster of the test's own: every script touches one key,
 * hash-tagged by phone, so it must run wherever the phone's slot lives.
 */
if (available) {
  let cluster: OwnRedisCluster;
  beforeAll(async () => {
    cluster = await ownRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  let run = 0;
  describeStoreConformance('redis cluster', async () => {
    const client = createRedisClient({ url: undefined, clusterNodes: cluster.nodes, keyPrefix: '', timeoutMs: 2000 }, silentLog);
    if (!(await waitUntilReady(client, 10_000))) throw new Error('the Redis Cluster did not become ready');
    const options = { keyPrefix: `t${++run}:` };
    return {
      codes: redisCodeStore(client, options),
      captchas: redisCaptchaStore(client, options),
      close: async () => {
        await client.quit();
      },
    };
  });

  // The admission step: each number's keys in its own slot, the shared counters in the slot of
  // {limits}, so the two scripts of a send usually run on different shards.
  describeAdmissionConformance('redis cluster', async () => {
    const client = createRedisClient({ url: undefined, clusterNodes: cluster.nodes, keyPrefix: '', timeoutMs: 2000 }, silentLog);
    if (!(await waitUntilReady(client, 10_000))) throw new Error('the Redis Cluster did not become ready');
    const options = { keyPrefix: `a${++run}:` };
    return {
      admission: redisAdmission(CONFORMANCE_LIMITS, client, options),
      codes: redisCodeStore(client, options),
      close: async () => {
        await client.quit();
      },
    };
  });
}
