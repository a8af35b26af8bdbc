/**
 * `npm run redis:memory`: what one pending verification costs in Redis. Stores COUNT codes for
 * fresh numbers through the real store (so the keys and values are exactly the service's), reads
 * INFO memory before and after, prints bytes per code, and deletes what it wrote.
 *
 *   REDIS_URL (default redis://127.0.0.1:6379), COUNT (default 100000)
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createHasher } from '../src/domain/codes.js';
import { createRedisClient, waitUntilReady } from '../src/stores/redis-client.js';
import { redisCodeStore } from '../src/stores/redis-store.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const count = Number(process.env.COUNT ?? 100_000);
const prefix = 'sms-verify:';
// A database of its own, so the measurement sees only these keys (other runs may share database 0).
const database = 15;

const silent = { info() {}, warn() {}, error() {} };
const admin = new Redis(`${url.replace(/\/\d*$/, '')}/${database}`);
if ((await admin.dbsize()) !== 0) {
  process.stderr.write(`database ${database} of ${url} is not empty; refusing to measure (or to delete) there\n`);
  process.exit(1);
}
const client = createRedisClient({ url: `${url.replace(/\/\d*$/, '')}/${database}`, clusterNodes: undefined, keyPrefix: prefix, timeoutMs: 5000 }, silent);
await waitUntilReady(client, 5000);
const store = redisCodeStore(client, { keyPrefix: prefix });
const hasher = createHasher(randomBytes(32).toString('hex'));

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
const before = await usedMemory();
const now = Date.now();
const batch = 500;
for (let i = 0; i < count; i += batch) {
  await Promise.all(
    Array.from({ length: Math.min(batch, count - i) }, (_, j) => {
      const phone = `+86139${String(10_000_000 + i + j).padStart(8, '0')}`;
      const code = String(100000 + ((i + j) % 900000));
      return store.beginSend(
        { phone, purpose: 'register' },
        { codeHash: hasher.code('register', phone, code), expiresAt: now + 300_000, resendAt: now + 60_000, attempts: 0 },
        now,
      );
    }),
  );
}
const after = await usedMemory();
const keys = await admin.dbsize();
const sampleKey = `${prefix}code:{+8613910000000}:register`;
const sample = await admin.memory('USAGE', sampleKey);
const perCode = (after - before) / count;
process.stdout.write(
  [
    `Redis ${/redis_version:(\S+)/.exec(await admin.info('server'))?.[1]}, ${count} pending codes (${keys} keys)`,
    `used_memory before ${before} B, after ${after} B: ${perCode.toFixed(1)} B per pending verification`,
    `MEMORY USAGE of one key (${sampleKey}): ${sample} B; value ${(await admin.get(sampleKey))?.length} characters`,
    '',
  ].join('\n'),
);
await admin.flushdb();
await client.quit();
await admin.quit();
