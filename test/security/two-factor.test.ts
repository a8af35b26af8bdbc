import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, post, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { totpNow } from './helpers.js';

/** TOTP second factor: setup, enable, sign-in with a ticket, reset, disable; replay and single use. */
describe('two-factor authentication', () => {
  let t: TestApp;
  let token: string;
  let auth: Record<string, string>;
  beforeEach(async () => {
    t = await createTestApp();
    token = await registerUser(t);
    auth = { authorization: `Bearer ${token}` };
  });
  afterEach(async () => {
    await t.close();
  });

  async function setUp() {
    const setup = await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth);
    expect(setup.status).toBe(200);
    return setup.body as { otpauthUri: string; qrSvg: string; secret: string };
  }
  async function enable() {
    const { secret } = await setUp();
    const res = await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth);
    expect(res.status).toBe(200);
    // The next code must come from a later time step (the one just used is spent).
    t.clock.advance(30_000);
    return { secret, recoveryCodes: res.body.recoveryCodes as string[] };
  }

  it('asks for the current password before a setup: a stolen session alone cannot turn 2FA on', async () => {
    const wrong = await post(t.app, '/api/2fa/setup', { password: 'not the password' }, auth);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 'invalid_credentials', field: 'password' });
    expect((await post(t.app, '/api/2fa/setup', {}, auth)).body.error.code).toBe('invalid_request');
    expect((await post(t.app, '/api/2fa/enable', { code: '123456' }, auth)).body.error.code).toBe('two_factor_setup_required');
    expect((await setUp()).secret).toMatch(/^[A-Z2-7]+$/);
  });

  it('sets up with an otpauth URI and an SVG QR code, and is not on until enabled', async () => {
    const setup = await setUp();
    expect(setup.otpauthUri).toMatch(/^otpauth:\/\/totp\/sms-verify:.*\?.*secret=[A-Z2-7]+/);
    expect(setup.otpauthUri).not.toContain('13800138000');
    expect(setup.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    // Not on yet: password sign-in still answers a session.
    expect((await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.token).toEqual(expect.any(String));
  });

  it('enables with a current code and returns ten recovery codes; then password sign-in needs the second step', async () => {
    const wrong = await post(t.app, '/api/2fa/enable', { code: '000000' }, auth);
    expect(wrong.body.error.code).toBe('two_factor_setup_required');
    const { secret, recoveryCodes } = await enable();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect((await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body.error.code).toBe('two_factor_already_enabled');

    const first = await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ twoFactorRequired: true, ticket: expect.any(String), expiresIn: 300 });
    expect(first.headers['set-cookie']).toBeUndefined();

    const bad = await post(t.app, '/api/login/2fa', { ticket: first.body.ticket, code: '000000' });
    expect(bad.body.error.code).toBe('two_factor_invalid');
    const done = await post(t.app, '/api/login/2fa', { ticket: first.body.ticket, code: await totpNow(secret, t.clock) });
    expect(done.status).toBe(200);
    expect(done.body.user.phone).toBe(PHONE);
    expect(String(done.headers['set-cookie'])).toMatch(/HttpOnly/);
    // The ticket was single use.
    t.clock.advance(30_000);
    const again = await post(t.app, '/api/login/2fa', { ticket: first.body.ticket, code: await totpNow(secret, t.clock) });
    expect(again.body.error.code).toBe('ticket_invalid');
  });

  it('GET /api/2fa tells the account page whether 2FA is on and how many recovery codes are left', async () => {
    const get = () => t.app.inject({ method: 'GET', url: '/api/2fa', headers: auth });
    expect((await get()).json()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    // A setup not yet confirmed is not on.
    await setUp();
    expect((await get()).json()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    const { recoveryCodes } = await enable();
    expect((await get()).json()).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    const ticket = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    expect((await post(t.app, '/api/login/2fa', { ticket, code: recoveryCodes[0] })).status).toBe(200);
    expect((await get()).json()).toEqual({ enabled: true, recoveryCodesLeft: 9 });
    expect((await get()).headers['cache-control']).toBe('no-store');
    expect((await t.app.inject({ method: 'GET', url: '/api/2fa' })).json().error.code).toBe('unauthorized');
  });

  it('asks for the second step after an SMS sign-in too', async () => {
    await enable();
    const code = await sendCode(t, PHONE, 'login');
    const res = await post(t.app, '/api/login/sms', { phone: PHONE, code });
    expect(res.body.twoFactorRequired).toBe(true);
  });

  it('refuses a TOTP code replayed within its window, and an expired ticket', async () => {
    const { secret } = await enable();
    const code = await totpNow(secret, t.clock);
    const t1 = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    const t2 = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    expect((await post(t.app, '/api/login/2fa', { ticket: t1, code })).status).toBe(200);
    expect((await post(t.app, '/api/login/2fa', { ticket: t2, code })).body.error.code).toBe('two_factor_invalid');
    t.clock.advance(301_000);
    expect((await post(t.app, '/api/login/2fa', { ticket: t2, code: await totpNow(secret, t.clock) })).body.error.code).toBe('ticket_invalid');
  });

  it('accepts each recovery code once, in any case and with or without the dash', async () => {
    const { recoveryCodes } = await enable();
    const [first, second] = recoveryCodes as [string, string];
    const ticket = async () => (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    expect((await post(t.app, '/api/login/2fa', { ticket: await ticket(), code: first.toUpperCase().replace('-', ' ') })).status).toBe(200);
    expect((await post(t.app, '/api/login/2fa', { ticket: await ticket(), code: first })).body.error.code).toBe('two_factor_invalid');
    expect((await post(t.app, '/api/login/2fa', { ticket: await ticket(), code: second })).status).toBe(200);
  });

  it('requires totp (or a recovery code) for a password reset, giving the SMS code back when it is missing or wrong', async () => {
    const { secret, recoveryCodes } = await enable();
    const code = await sendCode(t, PHONE, 'reset_password');
    const missing = await post(t.app, '/api/password/reset', { phone: PHONE, code, newPassword: 'a new password' });
    expect(missing.body.error).toMatchObject({ code: 'two_factor_required', field: 'totp' });
    const wrong = await post(t.app, '/api/password/reset', { phone: PHONE, code, newPassword: 'a new password', totp: '000000' });
    expect(wrong.body.error.code).toBe('two_factor_invalid');
    const ok = await post(t.app, '/api/password/reset', { phone: PHONE, code, newPassword: 'a new password', totp: await totpNow(secret, t.clock) });
    expect(ok.status).toBe(200);
    // A recovery code works as the second factor too.
    t.clock.advance(61_000);
    const code2 = await sendCode(t, PHONE, 'reset_password');
    const byRecovery = await post(t.app, '/api/password/reset', { phone: PHONE, code: code2, newPassword: 'another password', totp: recoveryCodes[3]! });
    expect(byRecovery.status).toBe(200);
  });

  it('locks the second factor after FAILED_CHECKS_PER_PHONE_HOURLY wrong codes per user', async () => {
    const { secret } = await enable();
    const ticket = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    const outcomes: string[] = [];
    for (let i = 0; i < 11; i++) outcomes.push((await post(t.app, '/api/login/2fa', { ticket, code: String(100000 + i) })).body.error.code);
    expect(outcomes.slice(0, 10).every((c) => c === 'two_factor_invalid')).toBe(true);
    expect(outcomes[10]).toBe('rate_limited');
    const right = await post(t.app, '/api/login/2fa', { ticket, code: await totpNow(secret, t.clock) });
    expect(right.status).toBe(429);
  });

  it('disables with the password and a code, and then sign-in is one step again', async () => {
    const { secret } = await enable();
    const noPassword = await post(t.app, '/api/2fa/disable', { password: 'wrong password', code: await totpNow(secret, t.clock) }, auth);
    expect(noPassword.body.error.code).toBe('invalid_credentials');
    const noCode = await post(t.app, '/api/2fa/disable', { password: PASSWORD, code: '000000' }, auth);
    expect(noCode.body.error.code).toBe('two_factor_invalid');
    const ok = await post(t.app, '/api/2fa/disable', { password: PASSWORD, code: await totpNow(secret, t.clock) }, auth);
    expect(ok.body).toEqual({ enabled: false });
    expect((await post(t.app, '/api/2fa/disable', { password: PASSWORD, code: '123456' }, auth)).body.error.code).toBe('two_factor_not_enabled');
    expect((await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.token).toEqual(expect.any(String));
  });

  it('publishes the new routes in the OpenAPI document', async () => {
    const paths = Object.keys((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/2fa/setup', '/api/2fa/enable', '/api/2fa/disable', '/api/login/2fa', '/api/phone/change', '/api/account/activity']),
    );
  });

  it('needs a session for every 2FA route', async () => {
    for (const url of ['/api/2fa/setup', '/api/2fa/enable', '/api/2fa/disable']) {
      const res = await post(t.app, url, { code: '123456', password: PASSWORD });
      expect(res.status).toBe(401);
    }
  });

  it('stores neither the TOTP secret nor the recovery codes in the clear, and logs neither', async () => {
    const { secret, recoveryCodes } = await enable();
    const dump = ['test.db', 'test.db-wal']
      .map((f) => {
        try {
          return readFileSync(`${t.dir}/${f}`).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    const logs = JSON.stringify(t.logs);
    for (const s of [secret, ...recoveryCodes, ...recoveryCodes.map((c) => c.replace('-', ''))]) {
      expect(dump).not.toContain(s);
      expect(logs).not.toContain(s);
    }
  });
});
