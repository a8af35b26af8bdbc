import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, fakeClock, PHONE, post, type TestApp } from '../helpers/app.js';

/** RATE_LIMIT_STORE wired from the environment, as an operator sets it. */
describe('RATE_LIMIT_STORE (auto unless set)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('fails closed with 503 service_unavailable, not 500, when Redis does not answer', async () => {
    // Port 1 on loopback: nothing listens there, so every command fails at once.
    t = await createTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1', REDIS_TIMEOUT_MS: '200' } });
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    expect(t.sms.sent).toHaveLength(0);
  });

  const redisUrl = process.env.TEST_REDIS_URL;
  it.skipIf(!redisUrl)('counts in Redis when REDIS_URL is set (TEST_REDIS_URL)', async () => {
    t = await createTestApp({
      env: { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `sms-verify-test-${process.pid}-${Date.now()}:`, SMS_PER_PHONE_HOURLY: '1' },
    });
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
    t.clock.advance(61_000);
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).body.error.code).toBe('rate_limited');
  });
  if (!redisUrl) console.info('[limit-store] the Redis variant is skipped: TEST_REDIS_URL is not set');

  it('sqlite (the default) keeps the counts across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-verify-limits-'));
    try {
      const clock = fakeClock();
      t = await createTestApp({ dir, clock, env: { SMS_PER_PHONE_HOURLY: '1' } });
      expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
      await t.close();
      clock.advance(61_000);
      t = await createTestApp({ dir, clock, env: { SMS_PER_PHONE_HOURLY: '1' } });
      expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).body.error.code).toBe('rate_limited');
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('memory works for a single process', async () => {
    t = await createTestApp({ env: { RATE_LIMIT_STORE: 'memory', SMS_PER_PHONE_HOURLY: '1' } });
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
    t.clock.advance(61_000);
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).body.error.code).toBe('rate_limited');
  });
});
