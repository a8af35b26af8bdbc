import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, post, registerUser, sendCode, type TestApp } from '../helpers/app.js';

describe('accounts and sessions', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const me = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/me', headers });

  it('registers with the code: 201, the user in E.164, a token and an HttpOnly SameSite=Lax cookie', async () => {
    const code = await sendCode(t, '13800138000', 'register');
    const res = await post(t.app, '/api/register', { phone: '13800138000', code, password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ id: expect.any(String), phone: PHONE });
    expect(res.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toContain(`sms_verify_session=${res.body.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);

    const viaBearer = await me({ authorization: `Bearer ${res.body.token}` });
    expect(viaBearer.statusCode).toBe(200);
    expect(viaBearer.json().user).toEqual({ id: res.body.user.id, phone: PHONE, createdAt: new Date(t.clock.now()).toISOString() });
    const viaCookie = await me({ cookie: `sms_verify_session=${res.body.token}` });
    expect(viaCookie.statusCode).toBe(200);
  });

  it('marks the cookie Secure behind an HTTPS proxy when TRUST_PROXY is on', async () => {
    await t.close();
    t = await createTestApp({ env: { TRUST_PROXY: 'true' } });
    const code = await sendCode(t, PHONE, 'register');
    const res = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD }, { 'x-forwarded-proto': 'https' });
    expect(String(res.headers['set-cookie'])).toMatch(/Secure/);
  });

  it('checks the password before the code, so a short password does not cost an attempt', async () => {
    const code = await sendCode(t, PHONE, 'register');
    for (const password of ['short', 'x'.repeat(129)]) {
      const res = await post(t.app, '/api/register', { phone: PHONE, code, password });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'weak_password', field: 'password' });
    }
    // 8 characters as a person counts them, though 8 CJK characters are 24 bytes.
    const ok = await post(t.app, '/api/register', { phone: PHONE, code, password: '密码密码密码密码' });
    expect(ok.status).toBe(201);
  });

  it('answers code_invalid with attempts left, then burns the code after 5 wrong tries', async () => {
    const code = await sendCode(t, PHONE, 'register');
    const wrong = code === '000000' ? '111111' : '000000';
    const left: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(t.app, '/api/register', { phone: PHONE, code: wrong, password: PASSWORD });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('code_invalid');
      left.push(res.body.error.attemptsLeft);
    }
    expect(left).toEqual([4, 3, 2, 1, 0]);
    const right = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(right.status).toBe(400);
    expect(right.body.error.code).toBe('code_attempts_exceeded');
  });

  it('answers code_invalid without attemptsLeft when no code is pending', async () => {
    const res = await post(t.app, '/api/register', { phone: PHONE, code: '123456', password: PASSWORD });
    expect(res.body.error.code).toBe('code_invalid');
    expect(res.body.error.attemptsLeft).toBeUndefined();
  });

  it('answers code_expired after CODE_TTL_SECONDS', async () => {
    const code = await sendCode(t, PHONE, 'register');
    t.clock.advance(299_000);
    t.clock.advance(1_000);
    const res = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('code_expired');
  });

  it('never accepts a code for another purpose', async () => {
    await registerUser(t);
    const loginCode = await sendCode(t, PHONE, 'login');
    const asReset = await post(t.app, '/api/password/reset', { phone: PHONE, code: loginCode, newPassword: 'another password' });
    expect(asReset.body.error.code).toBe('code_invalid');
    expect((await post(t.app, '/api/login/sms', { phone: PHONE, code: loginCode })).status).toBe(200);
  });

  it('uses a code once', async () => {
    const code = await sendCode(t, PHONE, 'register');
    expect((await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD })).status).toBe(201);
    const again = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    // The code is checked first, so a used code says so whether or not the number has an account.
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('code_invalid');
  });

  it('accepts only digit codes', async () => {
    for (const code of ['12a456', '123', '12345678901', ' 123456']) {
      const res = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
      expect(res.body.error.code).toBe('invalid_request');
    }
  });

  it('signs in with the password, and refuses a wrong one or an unknown phone alike', async () => {
    await registerUser(t);
    const ok = await post(t.app, '/api/login/password', { phone: '138 0013 8000', password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.body.user.phone).toBe(PHONE);
    expect(String(ok.headers['set-cookie'])).toMatch(/HttpOnly/);
    const wrong = await post(t.app, '/api/login/password', { phone: PHONE, password: 'not the password' });
    const unknown = await post(t.app, '/api/login/password', { phone: '+8613900139000', password: PASSWORD });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_credentials');
    }
    expect(wrong.body).toEqual(unknown.body);
  });

  it('signs in with an SMS code', async () => {
    await registerUser(t);
    const code = await sendCode(t, PHONE, 'login');
    const res = await post(t.app, '/api/login/sms', { phone: PHONE, code });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { phone: PHONE }, token: expect.any(String) });
  });

  it('resets the password and ends every session', async () => {
    const first = await registerUser(t);
    const second = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.token as string;
    const short = await post(t.app, '/api/password/reset', { phone: PHONE, code: '123456', newPassword: 'short' });
    expect(short.body.error).toMatchObject({ code: 'weak_password', field: 'newPassword' });

    const code = await sendCode(t, PHONE, 'reset_password');
    const res = await post(t.app, '/api/password/reset', { phone: PHONE, code, newPassword: 'a brand new password' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    for (const token of [first, second]) {
      const gone = await me({ authorization: `Bearer ${token}` });
      expect(gone.statusCode).toBe(401);
      expect(gone.json().error.code).toBe('unauthorized');
    }
    expect((await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).status).toBe(401);
    expect((await post(t.app, '/api/login/password', { phone: PHONE, password: 'a brand new password' })).status).toBe(200);
  });

  it('answers code_invalid for a reset of an unknown number: the code comes first, so nothing tells it from a wrong code', async () => {
    const res = await post(t.app, '/api/password/reset', { phone: PHONE, code: '123456', newPassword: 'a brand new password' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('code_invalid');
  });

  it('logs out: 204, the session is dead, and logging out again is unauthorized', async () => {
    const token = await registerUser(t);
    const out = await t.app.inject({ method: 'POST', url: '/api/logout', headers: { authorization: `Bearer ${token}` } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/sms_verify_session=;/);
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(401);
    const again = await t.app.inject({ method: 'POST', url: '/api/logout', headers: { authorization: `Bearer ${token}` } });
    expect(again.statusCode).toBe(401);
  });

  it('answers unauthorized without a session, with a garbage token, and after expiry', async () => {
    expect((await me({})).json().error.code).toBe('unauthorized');
    expect((await me({ authorization: 'Bearer not-a-real-token-at-all' })).statusCode).toBe(401);
    expect((await me({ authorization: 'Basic Zm9vOmJhcg==' })).statusCode).toBe(401);
    const token = await registerUser(t);
    t.clock.advance(30 * 24 * 3600 * 1000);
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(401);
  });

  it('stores no code, password or token in the database', async () => {
    const code = await sendCode(t, PHONE, 'register');
    const token = (await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD })).body.token as string;
    await sendCode(t, PHONE, 'login');
    const loginCode = t.sms.lastCode(PHONE);
    const { readFileSync } = await import('node:fs');
    const dump = ['test.db', 'test.db-wal']
      .map((f) => {
        try {
          return readFileSync(`${t.dir}/${f}`).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    expect(dump).toContain(PHONE);
    for (const secret of [loginCode, PASSWORD, token]) expect(dump).not.toContain(secret);
  });
});
