import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { phoneN, postFrom } from './helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The SMS and check limits of docs/security.md, each at its default unless the test says otherwise. */
describe('abuse limits', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });
  const send = (phone: string, ip = '203.0.113.1', purpose = 'register') => postFrom(t.app, ip, '/api/sms/send', { phone, purpose });

  it('sends at most SMS_PER_PHONE_HOURLY (5) per number per hour, whatever the purpose and cooldown', async () => {
    t = await createTestApp();
    for (let i = 0; i < 5; i++) {
      expect((await send(PHONE)).status).toBe(200);
      t.clock.advance(61_000);
    }
    const refused = await send(PHONE);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    // The fake clock starts on the hour; 5 × 61 s have passed.
    expect(refused.body.error.retryAfter).toBe(3600 - 5 * 61);
    expect(refused.headers['retry-after']).toBe(String(3600 - 5 * 61));
    expect(t.sms.sent).toHaveLength(5);
    t.clock.advance(HOUR);
    expect((await send(PHONE)).status).toBe(200);
  });

  it('sends at most SMS_PER_PHONE_DAILY (10) per number per UTC day', async () => {
    t = await createTestApp();
    let sent = 0;
    for (let hour = 0; hour < 3; hour++) {
      for (let i = 0; i < 5; i++) {
        if ((await send(PHONE)).status === 200) sent++;
        t.clock.advance(61_000);
      }
      t.clock.advance(HOUR);
    }
    expect(sent).toBe(10);
    const refused = await send(PHONE);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.retryAfter).toBeGreaterThan(3600);
  });

  it('sends at most SMS_PER_IP_HOURLY (20) per client IP per hour; other IPs are not affected', async () => {
    t = await createTestApp();
    for (let i = 0; i < 20; i++) expect((await send(phoneN(i, String(i).padStart(4, '0')))).status).toBe(200);
    const refused = await send(phoneN(99, '0099'));
    expect(refused.status).toBe(429);
    expect((await send(phoneN(99, '0099'), '198.51.100.7')).status).toBe(200);
  });

  // Issue 10: per /64, one home /56 was 256 buckets, 5,120 SMS an hour against the default cap.
  it('counts an IPv6 client by its /56 by default, so rotating through its /64s gains nothing', async () => {
    t = await createTestApp({ env: { SMS_PER_IP_HOURLY: '2' } });
    expect((await send(phoneN(1, '0001'), '2001:db8:1:2::1')).status).toBe(200);
    expect((await send(phoneN(2, '0002'), '2001:db8:1:3::2')).status).toBe(200);
    expect((await send(phoneN(3, '0003'), '2001:db8:1:ff:ffff::3')).body.error.code).toBe('rate_limited');
    // The next /56 is another client.
    expect((await send(phoneN(3, '0003'), '2001:db8:1:100::1')).status).toBe(200);
  });

  it('counts IPv6 per IPV6_LIMIT_PREFIX bits when set (here a /64)', async () => {
    t = await createTestApp({ env: { SMS_PER_IP_HOURLY: '2', IPV6_LIMIT_PREFIX: '64' } });
    expect((await send(phoneN(1, '0001'), '2001:db8:1:2::1')).status).toBe(200);
    expect((await send(phoneN(2, '0002'), '2001:db8:1:2::2')).status).toBe(200);
    expect((await send(phoneN(3, '0003'), '2001:db8:1:2:ffff::3')).body.error.code).toBe('rate_limited');
    expect((await send(phoneN(3, '0003'), '2001:db8:1:3::1')).status).toBe(200);
  });

  it('caps SMS per number prefix (SMS_PER_PREFIX_HOURLY) against pumping a range of numbers', async () => {
    t = await createTestApp({ env: { SMS_PER_PREFIX_HOURLY: '3', SMS_PREFIX_DIGITS: '7' } });
    // +86 1380013 0000..0003: one block of 10 000 numbers, each from its own IP.
    for (let i = 0; i < 3; i++) expect((await send(phoneN(i), `203.0.113.${i + 1}`)).status).toBe(200);
    expect((await send(phoneN(3), '203.0.113.99')).body.error.code).toBe('rate_limited');
    // Another block is not affected.
    expect((await send('+8613900139000', '203.0.113.99')).status).toBe(200);
  });

  it('answers 403 region_not_allowed outside SMS_ALLOWED_COUNTRIES, before any SMS', async () => {
    t = await createTestApp();
    const hk = await send('+85251234567');
    expect(hk.status).toBe(403);
    expect(hk.body.error.code).toBe('region_not_allowed');
    expect(t.sms.sent).toHaveLength(0);
    await t.close();
    t = await createTestApp({ env: { SMS_ALLOWED_COUNTRIES: 'CN,HK' } });
    expect((await send('+85251234567')).status).toBe(200);
  });

  it('stops all sending past SMS_DAILY_BUDGET with 503 and an error log line, until the next UTC day', async () => {
    t = await createTestApp({ env: { SMS_DAILY_BUDGET: '2' } });
    expect((await send(phoneN(1, '0001'))).status).toBe(200);
    expect((await send(phoneN(2, '0002'))).status).toBe(200);
    const stopped = await send(phoneN(3, '0003'));
    expect(stopped.status).toBe(503);
    expect(stopped.body.error.code).toBe('service_unavailable');
    expect(t.logs.some((l) => l.level === 50 && String(l.msg).includes('daily SMS budget exhausted'))).toBe(true);
    t.clock.advance(24 * HOUR);
    expect((await send(phoneN(3, '0003'))).status).toBe(200);
  });

  it('gives the points back when nothing is sent (cooldown, refused purpose, provider failure)', async () => {
    t = await createTestApp({ env: { SMS_PER_PHONE_HOURLY: '2' } });
    expect((await send(PHONE)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await send(PHONE)).body.error.code).toBe('rate_limited'); // cooldown
    expect((await send(PHONE, undefined, 'login')).body.error.code).toBe('phone_not_registered');
    t.clock.advance(61_000);
    t.sms.failWith('unavailable');
    expect((await send(PHONE)).status).toBe(502);
    t.sms.failWith(undefined);
    // Only one point was spent so far: the second send of the hour goes out, the third does not.
    expect((await send(PHONE)).status).toBe(200);
    t.clock.advance(61_000);
    expect((await send(PHONE)).body.error.code).toBe('rate_limited');
    expect(t.sms.sent).toHaveLength(2);
  });

  it('limits code checks per IP (CHECKS_PER_IP_HOURLY) on every route that takes a code', async () => {
    t = await createTestApp({ env: { CHECKS_PER_IP_HOURLY: '4' } });
    const ip = '203.0.113.5';
    const tries = [
      postFrom(t.app, ip, '/api/register', { phone: phoneN(1), code: '123456', password: 'long enough pw' }),
      postFrom(t.app, ip, '/api/login/sms', { phone: phoneN(2), code: '123456' }),
      postFrom(t.app, ip, '/api/register', { phone: phoneN(3), code: '123456', password: 'long enough pw' }),
      postFrom(t.app, ip, '/api/login/sms', { phone: phoneN(4), code: '123456' }),
    ];
    for (const res of await Promise.all(tries)) expect(res.body.error.code).toBe('code_invalid');
    const refused = await postFrom(t.app, ip, '/api/login/sms', { phone: phoneN(5), code: '123456' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await postFrom(t.app, '203.0.113.6', '/api/login/sms', { phone: phoneN(5), code: '123456' })).body.error.code).toBe('code_invalid');
  });

  it('limits image captchas per IP (CAPTCHAS_PER_IP_HOURLY, 60)', async () => {
    t = await createTestApp({ env: { CAPTCHA: 'image' } });
    const get = (ip: string) => t.app.inject({ method: 'GET', url: '/api/captcha', remoteAddress: ip });
    for (let i = 0; i < 60; i++) expect((await get('203.0.113.9')).statusCode).toBe(200);
    const refused = await get('203.0.113.9');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    expect((await get('203.0.113.10')).statusCode).toBe(200);
  });

  it('takes the client IP from X-Forwarded-For only when TRUST_PROXY says so', async () => {
    t = await createTestApp({ env: { SMS_PER_IP_HOURLY: '1' } });
    expect((await send(phoneN(1, '0001'), '10.0.0.1')).status).toBe(200);
    // Without TRUST_PROXY a forged header does not give a fresh IP.
    const forged = await postFrom(t.app, '10.0.0.1', '/api/sms/send', { phone: phoneN(2, '0002'), purpose: 'register' }, { 'x-forwarded-for': '1.2.3.4' });
    expect(forged.status).toBe(429);
    await t.close();
    t = await createTestApp({ env: { SMS_PER_IP_HOURLY: '1', TRUST_PROXY: '10.0.0.0/8' } });
    const viaProxy = (client: string, phone: string) =>
      postFrom(t.app, '10.0.0.1', '/api/sms/send', { phone, purpose: 'register' }, { 'x-forwarded-for': client });
    expect((await viaProxy('1.2.3.4', phoneN(1, '0001'))).status).toBe(200);
    expect((await viaProxy('1.2.3.4', phoneN(2, '0002'))).status).toBe(429);
    expect((await viaProxy('5.6.7.8', phoneN(2, '0002'))).status).toBe(200);
  });
});

describe('password guessing at sign-in', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });
  const login = (phone: string, password: string, ip = '203.0.113.1') => postFrom(t.app, ip, '/api/login/password', { phone, password });

  it('allows FAILED_LOGINS_PER_PHONE_HOURLY wrong passwords per number, then waits; a right one does not count', async () => {
    t = await createTestApp({ env: { FAILED_LOGINS_PER_PHONE_HOURLY: '3' } });
    await registerUser(t);
    expect((await login(PHONE, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await login(PHONE, `wrong guess ${i}`, `198.51.100.${i}`)).body.error.code).toBe('invalid_credentials');
    const locked = await login(PHONE, PASSWORD, '192.0.2.9');
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // SMS sign-in is another door and stays open.
    const code = await sendCode(t, PHONE, 'login');
    expect((await postFrom(t.app, '192.0.2.9', '/api/login/sms', { phone: PHONE, code })).status).toBe(200);
    t.clock.advance(HOUR);
    expect((await login(PHONE, PASSWORD)).status).toBe(200);
  });

  it('allows FAILED_LOGINS_PER_IP_HOURLY wrong passwords per client IP across numbers, unknown numbers included', async () => {
    t = await createTestApp({ env: { FAILED_LOGINS_PER_IP_HOURLY: '4' } });
    await registerUser(t);
    for (let i = 0; i < 4; i++) expect((await login(phoneN(i, String(i).padStart(4, '0')), 'some guess')).status).toBe(401);
    expect((await login(PHONE, PASSWORD)).body.error.code).toBe('rate_limited');
    expect((await login(PHONE, PASSWORD, '198.51.100.7')).status).toBe(200);
  });

  it('lets no more than the budget of concurrent guesses through to argon2', async () => {
    t = await createTestApp({ env: { FAILED_LOGINS_PER_PHONE_HOURLY: '5' } });
    await registerUser(t);
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => login(PHONE, `guess ${i}`, `198.51.100.${i}`)));
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(10);
  });
});
