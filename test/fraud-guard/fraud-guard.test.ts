import { afterEach, describe, expect, it } from 'vitest';
import type { E164 } from '../../src/domain/phone.js';
import { backendAvailable, redisTestPrefix, TEST_REDIS_URL } from '../helpers/backends.js';
import { createTestApp, post, type TestApp } from '../helpers/app.js';

/**
 * The SMS-pumping guard end to end: the real verification service on SQLite, the real guard and
 * its SQL store, a recording provider. The simulation drives the service below HTTP (a right code
 * is a consume) so a population of hundreds stays fast; the refusals are also checked over HTTP.
 */

/** Limits wide enough that only the guard can stop the simulated traffic. */
const OPEN_LIMITS = {
  SMS_PER_IP_HOURLY: '100000',
  SMS_PER_PREFIX_HOURLY: '100000',
  SMS_DAILY_BUDGET: '0',
  CHECKS_PER_IP_HOURLY: '100000',
};

/** A small seeded generator (mulberry32), so the population is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** +86 139 1234 nnnn: the pumped prefix "+86 1391234". */
const pumped = (n: number) => `+861391234${String(n).padStart(4, '0')}`;
/** Ordinary people across twenty other prefixes (+86 1380000 … +86 1380019). */
const person = (n: number) => `+8613800${String(n % 20).padStart(2, '0')}${String(Math.floor(n / 20)).padStart(4, '0')}`;

const errorCode = (err: unknown) => (err as { code?: string }).code;

async function sendOne(t: TestApp, phone: string): Promise<'sent' | string> {
  try {
    await t.services.verification.send({ phone, purpose: 'register' });
    return 'sent';
  } catch (err) {
    return errorCode(err) ?? 'threw';
  }
}

describe('fraud guard', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('blocks a pumping run after at most FRAUD_GUARD_MIN_SENDS sends and never blocks a normal population', async () => {
    t = await createTestApp({ env: OPEN_LIMITS });
    const random = seeded(14);
    const pumpResults: string[] = [];
    let people = 0;
    let verified = 0;
    const peopleRefused: string[] = [];
    // Interleaved: three ordinary people for every pumped number, 150 pumped numbers in all.
    for (let round = 0; round < 150; round++) {
      pumpResults.push(await sendOne(t, pumped(round)));
      for (let k = 0; k < 3; k++) {
        const phone = person(people++);
        const result = await sendOne(t, phone);
        if (result !== 'sent') {
          peopleRefused.push(`${phone}: ${result}`);
          continue;
        }
        // About 70 % of people type their code in.
        if (random() < 0.7) {
          const code = t.sms.sent.at(-1)!.code;
          await t.services.verification.consume(phone as E164, 'register', code);
          verified++;
        }
      }
      t.clock.advance(10_000);
    }
    const pumpedSms = t.sms.sent.filter((m) => m.to.startsWith('+861391234'));
    expect(pumpedSms.length).toBeLessThanOrEqual(t.config.fraudGuard.minSends);
    expect(pumpResults.filter((r) => r === 'sent')).toHaveLength(pumpedSms.length);
    expect(new Set(pumpResults.slice(pumpedSms.length))).toEqual(new Set(['destination_blocked']));
    expect(peopleRefused).toEqual([]);
    expect(verified / people).toBeGreaterThan(0.6);

    const blocks = await t.services.fraudGuard.blocks();
    expect(blocks.map((b) => [b.scope, b.enforced, b.verified])).toEqual([['prefix:+86 1391234', true, 0]]);
    expect(t.logs.some((l) => l.level === 40 && l.msg === 'fraud guard: destination blocked for low conversion')).toBe(true);
  });

  it('a blocked send answers 403 destination_blocked over HTTP, calls no provider and costs no limit points', async () => {
    t = await createTestApp({ env: { SMS_PER_IP_HOURLY: '25', SMS_PER_PREFIX_HOURLY: '1000', FRAUD_GUARD_MIN_SENDS: '20' } });
    for (let i = 0; i < 20; i++) expect((await post(t.app, '/api/sms/send', { phone: pumped(i), purpose: 'register' })).status).toBe(200);
    expect(t.sms.sent).toHaveLength(20);
    for (let i = 20; i < 30; i++) {
      const res = await post(t.app, '/api/sms/send', { phone: pumped(i), purpose: 'register' });
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        code: 'destination_blocked',
        message: 'SMS to this number range is paused because of suspected abuse. Try again later.',
        field: 'phone',
      });
    }
    expect(t.sms.sent).toHaveLength(20);
    // The IP used 20 of its 25 points: the ten refusals took none, so five more sends elsewhere go out.
    for (let i = 0; i < 5; i++) expect((await post(t.app, '/api/sms/send', { phone: person(i), purpose: 'register' })).status).toBe(200);
    expect((await post(t.app, '/api/sms/send', { phone: person(5), purpose: 'register' })).body.error.code).toBe('rate_limited');
  });

  it('monitor never refuses: it flags, audits and logs the prefix', async () => {
    t = await createTestApp({ env: { ...OPEN_LIMITS, FRAUD_GUARD: 'monitor' } });
    for (let i = 0; i < 60; i++) expect(await sendOne(t, pumped(i))).toBe('sent');
    expect(t.sms.sent).toHaveLength(60);
    const blocks = await t.services.fraudGuard.blocks();
    expect(blocks.map((b) => [b.scope, b.enforced])).toEqual([['prefix:+86 1391234', false]]);
    expect(t.logs.some((l) => l.msg === 'fraud guard (monitor): destination would be blocked for low conversion')).toBe(true);
  });

  it('off counts nothing and blocks nothing', async () => {
    t = await createTestApp({ env: { ...OPEN_LIMITS, FRAUD_GUARD: 'off' } });
    for (let i = 0; i < 40; i++) expect(await sendOne(t, pumped(i))).toBe('sent');
    expect(await t.services.fraudGuard.figures('prefix', 10)).toEqual([]);
  });

  it('unblock lets the prefix receive codes again, counting from zero', async () => {
    t = await createTestApp({ env: OPEN_LIMITS });
    for (let i = 0; i < 20; i++) await sendOne(t, pumped(i));
    expect(await sendOne(t, pumped(20))).toBe('destination_blocked');
    expect(await t.services.fraudGuard.unblock('prefix:+86 1391234', { userId: 'operator-1' })).toBe(true);
    expect(await sendOne(t, pumped(21))).toBe('sent');
    expect(await t.services.fraudGuard.blocks()).toEqual([]);
    expect(await t.services.fraudGuard.unblock('prefix:+86 1391234', { userId: 'operator-1' })).toBe(false);
  });

  it('a block ends by itself after FRAUD_GUARD_BLOCK_HOURS', async () => {
    t = await createTestApp({ env: { ...OPEN_LIMITS, FRAUD_GUARD_BLOCK_HOURS: '2' } });
    for (let i = 0; i < 20; i++) await sendOne(t, pumped(i));
    expect(await sendOne(t, pumped(20))).toBe('destination_blocked');
    t.clock.advance(2 * 3_600_000);
    expect(await sendOne(t, pumped(21))).toBe('sent');
  });

  it('a country whose conversion collapses is blocked at ten times the sends', async () => {
    t = await createTestApp({ env: { ...OPEN_LIMITS, FRAUD_GUARD_MIN_SENDS: '3' } });
    // 30 prefixes, one send each: no prefix reaches its 3 sends, the country reaches its 30.
    for (let i = 0; i < 30; i++) expect(await sendOne(t, `+86138${String(i).padStart(2, '0')}000000`)).toBe('sent');
    expect(await sendOne(t, '+8613999000000')).toBe('destination_blocked');
    expect((await t.services.fraudGuard.blocks()).map((b) => b.scope)).toEqual(['country:CN']);
  });

  it('test numbers and safe prefixes are never counted or blocked', async () => {
    t = await createTestApp({
      env: { ...OPEN_LIMITS, TEST_PHONE_NUMBERS: '+8613912340000:123456', FRAUD_GUARD_SAFE_PREFIXES: '+86 1391234' },
    });
    for (let i = 0; i < 40; i++) expect(await sendOne(t, pumped(i))).toBe('sent');
    expect(await t.services.fraudGuard.blocks()).toEqual([]);
    expect(await t.services.fraudGuard.figures('prefix', 10)).toEqual([]);
  });

  const redisPrefix = redisTestPrefix();
  it.runIf(backendAvailable('TEST_REDIS_URL'))('with Redis as the shared state: two instances see one block', async () => {
    const env = { ...OPEN_LIMITS, REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: redisPrefix };
    t = await createTestApp({ env });
    const other = await createTestApp({ env, clock: t.clock });
    try {
      // Sends alternate between the instances; the counts are shared, so the 20th send blocks the prefix.
      for (let i = 0; i < 20; i++) expect(await sendOne(i % 2 === 0 ? t : other, pumped(i))).toBe('sent');
      // The instance that made the block refuses at once; the other reads the block list at most
      // BLOCK_CACHE_MS late (its copy is fresh, and the fake clock has not moved): one more SMS goes out there.
      expect(await sendOne(other, pumped(20))).toBe('destination_blocked');
      expect(await sendOne(t, pumped(21))).toBe('sent');
      t.clock.advance(2_000);
      expect(await sendOne(t, pumped(22))).toBe('destination_blocked');
      expect(await other.services.fraudGuard.unblock('prefix:+86 1391234', { userId: 'operator-1' })).toBe(true);
      expect(await sendOne(other, pumped(23))).toBe('sent');
      t.clock.advance(2_000);
      expect(await sendOne(t, pumped(24))).toBe('sent');
    } finally {
      await other.close();
    }
  });
});
