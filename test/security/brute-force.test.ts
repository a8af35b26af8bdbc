import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisLimitBackend } from '../../src/limits/index.js';
import { createTestApp, fakeClock, PASSWORD, PHONE, post, type TestApp } from '../helpers/app.js';
import { recordingSmsProvider } from '../helpers/fake-sms.js';

const HOUR = 3_600_000;
/** A wrong code for a pending one: any 6 digits but the right ones. */
const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

/**
 * Scripted guessing against one number. The documented budget: FAILED_CHECKS_PER_PHONE_HOURLY (10)
 * wrong codes per number and purpose per clock hour, however many fresh codes are sent.
 */
describe('brute force against one number', () => {
  const apps: TestApp[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function guessUntilLocked(instances: TestApp[]) {
    const [first] = instances;
    const outcomes: string[] = [];
    let code = '';
    // Three rounds of "send a fresh code, guess wrong five times": the budget of 10 runs out in the second round.
    for (let round = 0; round < 3; round++) {
      const sender = instances[round % instances.length]!;
      const sent = await post(sender.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
      expect(sent.status).toBe(200);
      code = first!.sms.lastCode(PHONE);
      for (let i = 0; i < 5; i++) {
        const guesser = instances[i % instances.length]!;
        const res = await post(guesser.app, '/api/register', { phone: PHONE, code: wrongFor(code), password: PASSWORD });
        outcomes.push(res.body.error.code);
      }
      for (const t of instances) t.clock.advance(61_000);
    }
    return { outcomes, code };
  }

  it('locks the number for the purpose after 10 wrong codes across resends, until the hour passes', async () => {
    const t = await createTestApp();
    apps.push(t);
    const { outcomes, code } = await guessUntilLocked([t]);
    expect(outcomes.slice(0, 10).every((c) => c === 'code_invalid' || c === 'code_attempts_exceeded')).toBe(true);
    expect(outcomes.filter((c) => c === 'code_invalid')).toHaveLength(10);
    expect(outcomes.slice(10)).toEqual(Array(5).fill('rate_limited'));

    // Even the right code of the freshest SMS is refused while locked, with the time left in the hour.
    const locked = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.error.retryAfter).toBe(3600 - 3 * 61);
    expect(t.logs.some((l) => l.msg === 'phone locked for the rest of the hour after too many wrong codes')).toBe(true);

    // Another purpose and another number are not locked.
    const other = await post(t.app, '/api/register', { phone: '+8613900139000', code: '123456', password: PASSWORD });
    expect(other.body.error.code).toBe('code_invalid');

    t.clock.advance(HOUR);
    await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    const fresh = t.sms.lastCode(PHONE);
    expect((await post(t.app, '/api/register', { phone: PHONE, code: fresh, password: PASSWORD })).status).toBe(201);
  });

  it('shares the budget between two instances on one SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-verify-bf-'));
    dirs.push(dir);
    const sms = recordingSmsProvider();
    const a = await createTestApp({ dir, sms, clock: fakeClock() });
    const b = await createTestApp({ dir, sms, clock: fakeClock() });
    apps.push(a, b);
    const { outcomes } = await guessUntilLocked([a, b]);
    expect(outcomes.filter((c) => c === 'code_invalid')).toHaveLength(10);
    expect(outcomes.slice(10)).toEqual(Array(5).fill('rate_limited'));
  });

  const redisUrl = process.env.TEST_REDIS_URL;
  it.skipIf(!redisUrl)('shares the budget between two instances through Redis (TEST_REDIS_URL)', async () => {
    const client = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
    try {
      const backend = redisLimitBackend(client, `sms-verify-test-bf-${process.pid}-${Date.now()}`);
      const dir = mkdtempSync(join(tmpdir(), 'sms-verify-bf-'));
      dirs.push(dir);
      const sms = recordingSmsProvider();
      // The codes still share the SQLite file; the counters live only in Redis.
      const a = await createTestApp({ dir, sms, limitBackend: backend, env: { RATE_LIMIT_STORE: 'memory' } });
      const b = await createTestApp({ dir, sms, limitBackend: backend, env: { RATE_LIMIT_STORE: 'memory' } });
      apps.push(a, b);
      const { outcomes } = await guessUntilLocked([a, b]);
      expect(outcomes.filter((c) => c === 'code_invalid')).toHaveLength(10);
      expect(outcomes.slice(10)).toEqual(Array(5).fill('rate_limited'));
    } finally {
      for (const t of apps.splice(0)) await t.close();
      await client.quit();
    }
  });
  if (!redisUrl) console.info('[brute-force] the Redis variant is skipped: TEST_REDIS_URL is not set');

  it('bounds concurrent guesses by the budget too (reserved before the check)', async () => {
    const t = await createTestApp({ env: { MAX_CHECK_ATTEMPTS: '20', CHECKS_PER_IP_HOURLY: '1000' } });
    apps.push(t);
    await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    const code = t.sms.lastCode(PHONE);
    const guesses = await Promise.all(
      Array.from({ length: 30 }, () => post(t.app, '/api/register', { phone: PHONE, code: wrongFor(code), password: PASSWORD })),
    );
    expect(guesses.filter((g) => g.body.error.code === 'code_invalid')).toHaveLength(10);
    expect(guesses.filter((g) => g.body.error.code === 'rate_limited')).toHaveLength(20);
  });
});
