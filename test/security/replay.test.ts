import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CAPTCHA_TEXT, createTestApp, PASSWORD, PHONE, post, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { totpNow } from './helpers.js';

const OTHER = '+8613900139000';

/** Every credential works once, for its own purpose and its own user only. */
describe('replay and cross-use', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  async function withTwoFactor(phone: string) {
    const token = await registerUser(t, phone);
    const auth = { authorization: `Bearer ${token}` };
    const { secret } = (await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body;
    const { recoveryCodes } = (await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth)).body;
    return { token, auth, secret: secret as string, recoveryCodes: recoveryCodes as string[] };
  }
  const ticketFor = async (phone: string) => (await post(t.app, '/api/login/password', { phone, password: PASSWORD })).body.ticket as string;

  it('an SMS code: twice, for another purpose, for another number', async () => {
    await registerUser(t);
    await registerUser(t, OTHER);
    const code = await sendCode(t, PHONE, 'login');
    expect((await post(t.app, '/api/login/sms', { phone: OTHER, code })).body.error.code).toBe('code_invalid');
    expect((await post(t.app, '/api/password/reset', { phone: PHONE, code, newPassword: 'another password' })).body.error.code).toBe('code_invalid');
    expect((await post(t.app, '/api/login/sms', { phone: PHONE, code })).status).toBe(200);
    expect((await post(t.app, '/api/login/sms', { phone: PHONE, code })).body.error.code).toBe('code_invalid');
  });

  it('a change_phone code asked for by one account does not work for another', async () => {
    const alice = { authorization: `Bearer ${await registerUser(t)}` };
    const bob = { authorization: `Bearer ${await registerUser(t, '+8613700137000')}` };
    const code = await sendCode(t, OTHER, 'change_phone', alice);
    const stolen = await post(t.app, '/api/phone/change', { newPhone: OTHER, code, password: PASSWORD }, bob);
    expect(stolen.body.error.code).toBe('code_invalid');
    expect((await post(t.app, '/api/phone/change', { newPhone: OTHER, code, password: PASSWORD }, alice)).status).toBe(200);
  });

  it('an image captcha: twice', async () => {
    await t.close();
    t = await createTestApp({ env: { CAPTCHA: 'image' } });
    const { captchaId } = (await t.app.inject({ method: 'GET', url: '/api/captcha' })).json();
    const body = { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: CAPTCHA_TEXT };
    expect((await post(t.app, '/api/sms/send', body)).status).toBe(200);
    expect((await post(t.app, '/api/sms/send', { ...body, phone: OTHER })).body.error.code).toBe('captcha_invalid');
  });

  it("a ticket: twice, with another user's code, or as a session", async () => {
    const alice = await withTwoFactor(PHONE);
    const bob = await withTwoFactor(OTHER);
    t.clock.advance(30_000);
    const ticket = await ticketFor(PHONE);
    // Bob's TOTP and recovery codes are not Alice's.
    expect((await post(t.app, '/api/login/2fa', { ticket, code: await totpNow(bob.secret, t.clock) })).body.error.code).toBe('two_factor_invalid');
    expect((await post(t.app, '/api/login/2fa', { ticket, code: bob.recoveryCodes[0]! })).body.error.code).toBe('two_factor_invalid');
    // A ticket is no session.
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${ticket}` } })).statusCode).toBe(401);
    const done = await post(t.app, '/api/login/2fa', { ticket, code: await totpNow(alice.secret, t.clock) });
    expect(done.body.user.phone).toBe(PHONE);
    expect((await post(t.app, '/api/login/2fa', { ticket, code: alice.recoveryCodes[0]! })).body.error.code).toBe('ticket_invalid');
    // A session is no ticket.
    expect((await post(t.app, '/api/login/2fa', { ticket: done.body.token, code: alice.recoveryCodes[0]! })).body.error.code).toBe('ticket_invalid');
  });

  it('a recovery code: twice, or across the reset and sign-in routes', async () => {
    const alice = await withTwoFactor(PHONE);
    const code = alice.recoveryCodes[0]!;
    expect((await post(t.app, '/api/login/2fa', { ticket: await ticketFor(PHONE), code })).status).toBe(200);
    const resetCode = await sendCode(t, PHONE, 'reset_password');
    const reset = await post(t.app, '/api/password/reset', { phone: PHONE, code: resetCode, newPassword: 'a new password', totp: code });
    expect(reset.body.error.code).toBe('two_factor_invalid');
  });

  it('a TOTP code: reused by disable after sign-in', async () => {
    const alice = await withTwoFactor(PHONE);
    t.clock.advance(30_000);
    const totp = await totpNow(alice.secret, t.clock);
    expect((await post(t.app, '/api/login/2fa', { ticket: await ticketFor(PHONE), code: totp })).status).toBe(200);
    expect((await post(t.app, '/api/2fa/disable', { password: PASSWORD, code: totp }, alice.auth)).body.error.code).toBe('two_factor_invalid');
  });

  it('a session: after logout, and after a password reset', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ method: 'POST', url: '/api/logout', headers: auth })).statusCode).toBe(204);
    for (const url of ['/api/2fa/setup', '/api/phone/change']) {
      expect((await post(t.app, url, { newPhone: OTHER, code: '123456', password: PASSWORD }, auth)).status).toBe(401);
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/account/activity', headers: auth })).statusCode).toBe(401);
    const second = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.token;
    const resetCode = await sendCode(t, PHONE, 'reset_password');
    await post(t.app, '/api/password/reset', { phone: PHONE, code: resetCode, newPassword: 'a new password' });
    expect((await post(t.app, '/api/2fa/setup', { password: PASSWORD }, { authorization: `Bearer ${second}` })).status).toBe(401);
  });
});
