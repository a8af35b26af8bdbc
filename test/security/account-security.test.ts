import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestApp, PASSWORD, PHONE, post, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { postFrom, totpNow } from './helpers.js';
import { recordingSmsProvider } from '../helpers/fake-sms.js';
import { SmsSendError, type SmsMessage } from '../../src/sms/provider.js';

const NEW_PHONE = '+8613900139000';

describe('phone change', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('moves the account with a change_phone code to the new number and the password, and tells the old number', async () => {
    t = await createTestApp();
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const code = await sendCode(t, NEW_PHONE, 'change_phone', auth);
    const wrongPassword = await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code, password: 'not the password' }, auth);
    expect(wrongPassword.body.error.code).toBe('invalid_credentials');
    const neither = await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code }, auth);
    expect(neither.body.error.code).toBe('invalid_request');
    const res = await post(t.app, '/api/phone/change', { newPhone: '139 0013 9000', code, password: PASSWORD }, auth);
    expect(res.status).toBe(200);
    expect(res.body.user.phone).toBe(NEW_PHONE);

    const notice = t.sms.sent.at(-1)!;
    expect(notice).toMatchObject({ to: PHONE, kind: 'notice', code: '' });
    expect(notice.text).toContain('+86139****9000');
    // The account now answers to the new number only.
    expect((await post(t.app, '/api/login/password', { phone: NEW_PHONE, password: PASSWORD })).status).toBe(200);
    expect((await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).status).toBe(401);
    // The code was single use (sent back to the old number, it is no pending code there).
    const back = await post(t.app, '/api/phone/change', { newPhone: PHONE, code, password: PASSWORD }, auth);
    expect(back.body.error.code).toBe('code_invalid');
  });

  it('accepts a TOTP code instead of the password when 2FA is on', async () => {
    t = await createTestApp();
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const { secret } = (await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body;
    await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth);
    t.clock.advance(30_000);
    const code = await sendCode(t, NEW_PHONE, 'change_phone', auth);
    const res = await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code, totp: await totpNow(secret, t.clock) }, auth);
    expect(res.status).toBe(200);
  });

  it('refuses without a session, and a number that has an account', async () => {
    t = await createTestApp();
    expect((await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code: '123456', password: PASSWORD })).status).toBe(401);
    const token = await registerUser(t);
    await registerUser(t, NEW_PHONE);
    const auth = { authorization: `Bearer ${token}` };
    expect((await post(t.app, '/api/sms/send', { phone: NEW_PHONE, purpose: 'change_phone' }, auth)).body.error.code).toBe('phone_taken');
  });
});

describe('GET /api/account/activity', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it("shows a user their own security events, newest first, with masked phone, IP and user agent", async () => {
    t = await createTestApp();
    const code = await sendCode(t, PHONE, 'register');
    const reg = await postFrom(t.app, '203.0.113.30', '/api/register', { phone: PHONE, code, password: PASSWORD }, { 'user-agent': 'TestBrowser/1.0\u0007' });
    const auth = { authorization: `Bearer ${reg.body.token}` };
    await post(t.app, '/api/login/password', { phone: PHONE, password: 'wrong password!' });
    await registerUser(t, NEW_PHONE); // someone else's events must not show

    const res = await t.app.inject({ method: 'GET', url: '/api/account/activity', headers: auth });
    expect(res.statusCode).toBe(200);
    const events = res.json().events as { type: string; phone: string; ip: string; userAgent: string }[];
    // The register SMS went out before the account existed, so it belongs to no one.
    expect(events.map((e) => e.type)).toEqual(['sign_in_failed', 'sign_up']);
    expect(events.find((e) => e.type === 'sign_up')).toMatchObject({ phone: '+86138****8000', ip: '203.0.113.30', userAgent: 'TestBrowser/1.0' });
    expect(JSON.stringify(events)).not.toContain(PHONE);
    expect(JSON.stringify(events)).not.toContain('139****9000');
    expect((await t.app.inject({ method: 'GET', url: '/api/account/activity' })).statusCode).toBe(401);
  });
});

describe('PRIVACY_MODE=strict', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('answers send identically for registered and unknown numbers, with a notice instead of a code where it does not apply', async () => {
    t = await createTestApp({ env: { PRIVACY_MODE: 'strict' } });
    await registerUser(t);
    const registeredAgain = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    const unknownLogin = await post(t.app, '/api/sms/send', { phone: NEW_PHONE, purpose: 'login' });
    const unknownReset = await post(t.app, '/api/sms/send', { phone: NEW_PHONE, purpose: 'reset_password' });
    const fresh = await post(t.app, '/api/sms/send', { phone: '+8613700137000', purpose: 'register' });
    for (const res of [registeredAgain, unknownLogin, unknownReset, fresh]) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual(fresh.body);
    }
    const [, toRegistered, toUnknownLogin, , toFresh] = t.sms.sent;
    expect(toRegistered).toMatchObject({ to: PHONE, kind: 'notice', code: '' });
    expect(toRegistered!.text).toContain('已注册');
    expect(toUnknownLogin).toMatchObject({ to: NEW_PHONE, kind: 'notice' });
    expect(toUnknownLogin!.text).toContain('尚未注册');
    expect(toFresh).toMatchObject({ kind: 'code', code: expect.stringMatching(/^\d{6}$/) });

    // The follow-up checks cannot tell the numbers apart either: both have a pending (decoy) code.
    const resetUnknown = await post(t.app, '/api/password/reset', { phone: NEW_PHONE, code: '123456', newPassword: 'long enough pw' });
    const registerKnown = await post(t.app, '/api/register', { phone: PHONE, code: '123456', password: 'long enough pw' });
    expect(resetUnknown.body.error).toMatchObject({ code: 'code_invalid', attemptsLeft: 4 });
    expect(registerKnown.body.error).toMatchObject({ code: 'code_invalid', attemptsLeft: 4 });
    // And the cooldown looks the same.
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).body.error.code).toBe('rate_limited');
    expect((await post(t.app, '/api/sms/send', { phone: NEW_PHONE, purpose: 'login' })).body.error.code).toBe('rate_limited');
  });
});

describe('PRIVACY_MODE=strict with a template-only provider', () => {
  it('answers a send whose notice cannot be delivered exactly like a delivered code', async () => {
    const sms = recordingSmsProvider();
    const sendCodeOnly = sms.send.bind(sms);
    // Tencent and Aliyun refuse notices (they only fill verification templates).
    const templateOnly = Object.assign(sms, {
      send: (message: SmsMessage, signal: AbortSignal) =>
        message.kind === 'notice' ? Promise.reject(new SmsSendError('rejected', 'no notice template')) : sendCodeOnly(message, signal),
    });
    const t = await createTestApp({ env: { PRIVACY_MODE: 'strict' }, sms: templateOnly });
    try {
      await registerUser(t);
      const registeredAgain = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
      const fresh = await post(t.app, '/api/sms/send', { phone: NEW_PHONE, purpose: 'register' });
      expect(registeredAgain.status).toBe(200);
      expect(registeredAgain.body).toEqual(fresh.body);
      expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).body.error.code).toBe('rate_limited');
      expect(t.logs.some((l) => l.msg === 'privacy notice not delivered')).toBe(true);
    } finally {
      await t.close();
    }
  });
});

describe('TEST_PHONE_NUMBERS', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });
  const TEST_NUMBER = '+8613800000000';

  it('gives a fixed code without an SMS and without limits', async () => {
    t = await createTestApp({ env: { TEST_PHONE_NUMBERS: `${TEST_NUMBER}:246810`, SMS_PER_PHONE_HOURLY: '1' } });
    for (let i = 0; i < 3; i++) {
      const res = await post(t.app, '/api/sms/send', { phone: TEST_NUMBER, purpose: 'register' });
      expect(res.status).toBe(200);
    }
    expect(t.sms.sent).toHaveLength(0);
    expect((await post(t.app, '/api/register', { phone: TEST_NUMBER, code: '246810', password: PASSWORD })).status).toBe(201);
    expect(JSON.stringify(t.logs)).not.toContain('246810');
  });

  it('is refused at start in production unless ALLOW_TEST_NUMBERS_IN_PRODUCTION=true', () => {
    const env = { NODE_ENV: 'production', SECRET: 'x'.repeat(32), TEST_PHONE_NUMBERS: `${TEST_NUMBER}:246810` };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/TEST_PHONE_NUMBERS: refused when NODE_ENV=production/);
    expect(loadConfig({ ...env, ALLOW_TEST_NUMBERS_IN_PRODUCTION: 'true' }).testPhoneNumbers.get(TEST_NUMBER)).toBe('246810');
    expect(() => loadConfig({ TEST_PHONE_NUMBERS: '13800000000:12' })).toThrow(/TEST_PHONE_NUMBERS/);
  });
});
