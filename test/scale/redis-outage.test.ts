import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, post, sendCode, type TestApp } from '../helpers/app.js';
import { hasRedisServer, ownRedisServer, type OwnRedisServer } from '../helpers/redis-server.js';

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const available = hasRedisServer();
if (!available) {
  if (process.env.CI === 'true') throw new Error('redis-server is not installed, and CI=true does not allow skipping the Redis fault test');
  process.stdout.write('[skip] redis-server is not on PATH: the Redis fault test is skipped\n');
}

/** Stops, freezes and restarts a redis-server of the test's own (never the machine's shared one). */
describe.runIf(available)('Redis going away', () => {
  let redis: OwnRedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await ownRedisServer();
    t = await createTestApp({ env: { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const ready = async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200;

  /** Everything that needs Redis answers 503 quickly; /readyz names redis; /healthz stays up. */
  async function expectRedisDown(phone: string) {
    for (const [url, body] of [
      ['/api/sms/send', { phone, purpose: 'register' }],
      ['/api/register', { phone, code: '123456', password: PASSWORD }],
    ] as const) {
      const start = Date.now();
      const res = await post(t.app, url, body);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
      expect(Date.now() - start).toBeLessThan(3000);
    }
    const readyz = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(readyz.statusCode).toBe(503);
    expect(readyz.json()).toMatchObject({ status: 'unavailable', down: ['redis'], checks: { sqlite: 'ok', redis: 'down' } });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }

  it('stopped: answers 503 and names redis, then recovers by itself when it is started again', async () => {
    expect(await ready()).toBe(true);
    await redis.stop();
    await expectRedisDown('+8613800138010');

    await redis.start();
    await eventually(ready);
    const code = await sendCode(t, '+8613800138010', 'register');
    expect((await post(t.app, '/api/register', { phone: '+8613800138010', code, password: PASSWORD })).status).toBe(201);
  });

  it('frozen (accepts connections, never answers): requests fail within the timeout instead of hanging, then recover', async () => {
    redis.pause();
    try {
      await expectRedisDown('+8613800138011');
    } finally {
      redis.resume();
    }
    await eventually(ready);
    expect((await post(t.app, '/api/sms/send', { phone: '+8613800138011', purpose: 'register' })).status).toBe(200);
  });
});
