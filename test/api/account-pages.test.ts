import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, post, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { totpNow } from '../security/helpers.js';

const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';
const MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

/** What the account pages need from the server (issue 9): sessions, recovery codes, the signed-in state, the country list, the SMS language. */
describe('the account pages API', () => {
  let t: TestApp;
  beforeEach(async () => {
    // Behind a trusted proxy, so each sign-in below comes from its own address.
    t = await createTestApp({ env: { TRUST_PROXY: 'true' } });
  });
  afterEach(async () => {
    await t.close();
  });

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await t.app.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, body: res.json() as any };
  };
  const signIn = async (userAgent: string, ip: string) => {
    const res = await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD }, { 'user-agent': userAgent, 'x-forwarded-for': ip });
    expect(res.status).toBe(200);
    return { authorization: `Bearer ${res.body.token as string}` };
  };

  it('lists the signed-in sessions with their device, IP and last use, the current one marked', async () => {
    await registerUser(t);
    t.clock.advance(60_000);
    const phone = await signIn(ANDROID, '198.51.100.7');
    t.clock.advance(5 * 60_000);
    const laptop = await signIn(MAC, '203.0.113.9');

    const { status, body } = await get('/api/account/sessions', laptop);
    expect(status).toBe(200);
    // Three sessions: the one from sign-up, the phone's, the laptop's; most recently used first.
    expect(body.sessions).toHaveLength(3);
    expect(body.sessions[0]).toEqual({
      current: true,
      createdAt: new Date(t.clock.now()).toISOString(),
      lastSeenAt: new Date(t.clock.now()).toISOString(),
      ip: '203.0.113.9',
      userAgent: MAC,
    });
    expect(body.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(body.sessions[1]).toMatchObject({ current: false, ip: '198.51.100.7', userAgent: ANDROID });
    // Nothing in the list could be replayed as a session.
    expect(JSON.stringify(body)).not.toMatch(/token|[A-Za-z0-9_-]{43}/);

    // The phone's own view marks the phone's session.
    const fromPhone = await get('/api/account/sessions', phone);
    expect(fromPhone.body.sessions.find((s: { current: boolean }) => s.current).userAgent).toBe(ANDROID);
  });

  it('moves "last seen" on use, but writes it at most once a minute per session', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const signedUpAt = t.clock.now();
    const lastSeen = async () => (await get('/api/account/sessions', auth)).body.sessions[0].lastSeenAt as string;

    t.clock.advance(30_000);
    expect(await lastSeen()).toBe(new Date(signedUpAt).toISOString());
    t.clock.advance(31_000);
    await get('/api/me', auth);
    expect(await lastSeen()).toBe(new Date(signedUpAt + 61_000).toISOString());

    // Read from the table itself: every request below moves the clock, so any write would change the value.
    const stored = () => (t.database!.sqlite.prepare('SELECT last_seen_at FROM sessions').get() as { last_seen_at: number }).last_seen_at;
    const before = stored();
    for (let i = 0; i < 10; i++) {
      t.clock.advance(1000);
      await get('/api/me', auth);
    }
    expect(stored()).toBe(before);
  });

  it('"sign out other devices" ends every other session and keeps this one', async () => {
    await registerUser(t);
    const phone = await signIn(ANDROID, '198.51.100.7');
    const laptop = await signIn(MAC, '203.0.113.9');

    const res = await post(t.app, '/api/account/sessions/sign-out-others', {}, laptop);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ended: 2 });
    expect((await get('/api/me', phone)).status).toBe(401);
    expect((await get('/api/me', laptop)).status).toBe(200);
    expect((await get('/api/account/sessions', laptop)).body.sessions).toHaveLength(1);
    const events = (await get('/api/account/activity', laptop)).body.events as { type: string; detail: string; userAgent: string }[];
    expect(events[0]).toMatchObject({ type: 'sessions_revoked', detail: 'ended=2' });

    expect((await post(t.app, '/api/account/sessions/sign-out-others', {})).status).toBe(401);
    expect((await get('/api/account/sessions')).status).toBe(401);
  });

  it('GET /api/session answers the user, or null without a 401 for a signed-out visitor', async () => {
    expect(await get('/api/session')).toEqual({ status: 200, body: { user: null } });
    expect(await get('/api/session', { authorization: 'Bearer not-a-session' })).toEqual({ status: 200, body: { user: null } });
    const token = await registerUser(t);
    const signedIn = await get('/api/session', { cookie: `sms_verify_session=${token}` });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toMatchObject({ phone: PHONE });
  });

  it('regenerates the recovery codes with the password and a current code; every old code stops working', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const notOn = await post(t.app, '/api/2fa/recovery-codes', { password: PASSWORD, code: '123456' }, auth);
    expect(notOn.body.error.code).toBe('two_factor_not_enabled');

    const { secret } = (await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body as { secret: string };
    const enabled = await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth);
    const oldCodes = enabled.body.recoveryCodes as string[];
    t.clock.advance(30_000);

    const wrongPassword = await post(t.app, '/api/2fa/recovery-codes', { password: 'not the password', code: await totpNow(secret, t.clock) }, auth);
    expect(wrongPassword.body.error).toMatchObject({ code: 'invalid_credentials', field: 'password' });
    const wrongCode = await post(t.app, '/api/2fa/recovery-codes', { password: PASSWORD, code: '000000' }, auth);
    expect(wrongCode.body.error.code).toBe('two_factor_invalid');
    expect((await post(t.app, '/api/2fa/recovery-codes', { password: PASSWORD })).status).toBe(400);

    const fresh = await post(t.app, '/api/2fa/recovery-codes', { password: PASSWORD, code: await totpNow(secret, t.clock) }, auth);
    expect(fresh.status).toBe(200);
    const newCodes = fresh.body.recoveryCodes as string[];
    expect(newCodes).toHaveLength(10);
    expect(newCodes.some((c) => oldCodes.includes(c))).toBe(false);
    expect((await get('/api/2fa', auth)).body).toEqual({ enabled: true, recoveryCodesLeft: 10 });

    // An old code no longer signs in; a new one does.
    const ticket = async () => (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket as string;
    const withOld = await post(t.app, '/api/login/2fa', { ticket: await ticket(), code: oldCodes[1] });
    expect(withOld.body.error.code).toBe('two_factor_invalid');
    const withNew = await post(t.app, '/api/login/2fa', { ticket: await ticket(), code: newCodes[0] });
    expect(withNew.status).toBe(200);
    const types = ((await get('/api/account/activity', auth)).body.events as { type: string }[]).map((e) => e.type);
    expect(types).toContain('recovery_codes_regenerated');
  });

  it('publishes the allowed regions with their calling codes, in the allow-list order', async () => {
    expect((await get('/api/config')).body.countries).toEqual([{ region: 'CN', callingCode: '86' }]);
    await t.close();
    t = await createTestApp({ env: { SMS_ALLOWED_COUNTRIES: 'CN,HK,US', DEFAULT_REGION: 'CN' } });
    expect((await get('/api/config')).body).toMatchObject({
      defaultRegion: 'CN',
      countries: [
        { region: 'CN', callingCode: '86' },
        { region: 'HK', callingCode: '852' },
        { region: 'US', callingCode: '1' },
      ],
    });
    await t.close();
    t = await createTestApp({ env: { SMS_ALLOWED_COUNTRIES: '*' } });
    const every = (await get('/api/config')).body.countries as { region: string }[];
    expect(every.length).toBeGreaterThan(200);
    expect(every).toContainEqual({ region: 'GB', callingCode: '44' });
  });

  it('writes the SMS in the language the page asked for; Chinese without a locale', async () => {
    await sendCode(t, PHONE, 'register');
    expect(t.sms.sent.at(-1)!.text).toMatch(/^【sms-verify】您的注册验证码是\d{6}，5分钟内有效/);
    const other = '+8613800138001';
    const res = await post(t.app, '/api/sms/send', { phone: other, purpose: 'register', locale: 'en' });
    expect(res.status).toBe(200);
    const sent = t.sms.sent.at(-1)!;
    expect(sent.text).toBe(`[sms-verify] Your sign-up code is ${sent.code}. It is valid for 5 minutes. Do not share it with anyone.`);
    const bad = await post(t.app, '/api/sms/send', { phone: other, purpose: 'login', locale: 'fr' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', field: 'locale' });
  });

  it('inside the resend cooldown says a code was already sent and is still valid, with the wait', async () => {
    const code = await sendCode(t, PHONE, 'register');
    t.clock.advance(6_000);
    const again = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(again.status).toBe(429);
    expect(again.body.error).toMatchObject({ code: 'rate_limited', reason: 'resend_cooldown', retryAfter: 54 });
    expect(again.body.error.message).toMatch(/already sent/);
    expect(t.sms.sent).toHaveLength(1);
    // And it is: the first code still registers.
    expect((await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD })).status).toBe(201);
  });

  it('publishes the new routes in the OpenAPI document with their schemas, and each needs a session', async () => {
    const doc = (await get('/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const [path, method] of [
      ['/api/session', 'get'],
      ['/api/account/sessions', 'get'],
      ['/api/account/sessions/sign-out-others', 'post'],
      ['/api/2fa/recovery-codes', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.responses['200'], path).toBeDefined();
    }
    expect((await post(t.app, '/api/2fa/recovery-codes', { password: PASSWORD, code: '123456' })).status).toBe(401);
    expect((await post(t.app, '/api/account/sessions/sign-out-others', {}, { authorization: 'Bearer nope' })).status).toBe(401);
  });
});
