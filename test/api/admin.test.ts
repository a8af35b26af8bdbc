import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PHONE, post, registerUser, type TestApp } from '../helpers/app.js';
import { adminCli, signedInOperator } from '../helpers/admin.js';

const OPERATOR = '+8613900139000';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every admin route, with a body where it takes one. */
const ROUTES: [method: 'GET' | 'POST', url: string, body?: object][] = [
  ['GET', '/api/admin/me'],
  ['GET', '/api/admin/overview'],
  ['GET', '/api/admin/messages'],
  ['POST', '/api/admin/messages/x/reveal'],
  ['GET', `/api/admin/users?phone=${encodeURIComponent(PHONE)}`],
  ['POST', '/api/admin/users/x/sessions/end'],
  ['POST', '/api/admin/users/x/disable'],
  ['POST', '/api/admin/users/x/enable'],
  ['GET', '/api/admin/fraud-guard'],
  ['POST', '/api/admin/fraud-guard/unblock', { scope: 'prefix:+86 1391234' }],
];

describe('admin API', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { SMS_PER_IP_HOURLY: '1000', SMS_PER_PREFIX_HOURLY: '1000' } });
  });
  afterEach(async () => t.close());

  const call = (method: 'GET' | 'POST', url: string, token: string | undefined, body?: object) =>
    t.app.inject({ method, url, headers: token ? bearer(token) : {}, ...(method === 'POST' ? { payload: body ?? {} } : {}) });

  it('every admin route refuses no session, a non-operator and an operator without 2FA', async () => {
    const user = await registerUser(t, PHONE);
    const operatorWithout2fa = await signedInOperator(t, OPERATOR, { twoFactor: false });
    for (const [method, url, body] of ROUTES) {
      expect((await call(method, url, undefined, body)).json().error.code, `${method} ${url}`).toBe('unauthorized');
      const plain = await call(method, url, user, body);
      expect([plain.statusCode, plain.json().error.code], `${method} ${url}`).toEqual([403, 'operator_required']);
      const no2fa = await call(method, url, operatorWithout2fa, body);
      expect([no2fa.statusCode, no2fa.json().error.code], `${method} ${url}`).toEqual([403, 'operator_two_factor_required']);
    }
    // The list above is every route under /api/admin, and each is in the OpenAPI document.
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, object> };
    const documented = Object.entries(spec.paths)
      .filter(([path]) => path.startsWith('/api/admin'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(
      ROUTES.map(([m, url]) => `${m} ${url.split('?')[0]!.replace('/messages/x/', '/messages/{id}/').replace('/users/x/', '/users/{id}/')}`).sort(),
    );
  });

  it('the CLI grants and revokes, and says when the person has no account', async () => {
    expect((await adminCli(t, 'grant', '+8613700137000')).code).toBe(1);
    const token = await signedInOperator(t, OPERATOR);
    expect((await call('GET', '/api/admin/me', token)).statusCode).toBe(200);
    expect((await adminCli(t, 'list')).output).toContain(OPERATOR);
    expect((await adminCli(t, 'revoke', OPERATOR)).output).toBe(`${OPERATOR} is no longer an operator`);
    expect((await call('GET', '/api/admin/me', token)).json().error.code).toBe('operator_required');
    expect((await adminCli(t, 'bogus')).code).toBe(2);
  });

  it('finds a user, ends their sessions, disables and re-enables the account, each action audited', async () => {
    const operator = await signedInOperator(t, OPERATOR);
    const userToken = await registerUser(t, PHONE);
    const found = await call('GET', `/api/admin/users?phone=${encodeURIComponent('138 0013 8000')}`, operator);
    expect(found.statusCode).toBe(200);
    const user = found.json();
    expect(user).toMatchObject({ phone: PHONE, twoFactorEnabled: false, operator: false, disabledAt: null });
    expect(user.sessions).toHaveLength(1);
    expect(user.activity.map((e: { type: string }) => e.type)).toContain('sign_up');

    expect((await call('POST', `/api/admin/users/${user.id}/sessions/end`, operator)).json()).toEqual({ ended: 1 });
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: bearer(userToken) })).statusCode).toBe(401);

    const disabled = await call('POST', `/api/admin/users/${user.id}/disable`, operator);
    expect(disabled.json().disabledAt).toBe(t.clock.now());
    // A disabled account can neither sign in nor receive codes.
    const login = await post(t.app, '/api/login/password', { phone: PHONE, password: 'correct horse battery' });
    expect([login.status, login.body.error.code]).toEqual([403, 'account_disabled']);
    const send = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'login' });
    expect([send.status, send.body.error.code]).toEqual([403, 'account_disabled']);

    expect((await call('POST', `/api/admin/users/${user.id}/enable`, operator)).json().disabledAt).toBeNull();
    expect((await post(t.app, '/api/login/password', { phone: PHONE, password: 'correct horse battery' })).status).toBe(200);

    const audited = (await t.services.admin.findUser({ userId: 'x' }, PHONE)).activity.map((e) => e.type);
    expect(audited).toEqual(expect.arrayContaining(['admin_sessions_ended', 'account_disabled', 'account_enabled']));
    const operatorId = (await call('GET', '/api/admin/me', operator)).json().userId;
    const operatorEvents = (await t.services.admin.findUser({ userId: 'x' }, OPERATOR)).activity.map((e) => e.type);
    expect(operatorEvents).toContain('admin_user_viewed');
    expect(operatorId).toBeTruthy();
  });

  it('an operator cannot disable their own account; unknown users and numbers are clear errors', async () => {
    const operator = await signedInOperator(t, OPERATOR);
    const id = (await call('GET', '/api/admin/me', operator)).json().userId;
    expect((await call('POST', `/api/admin/users/${id}/disable`, operator)).json().error.code).toBe('invalid_request');
    expect((await call('POST', '/api/admin/users/nope/disable', operator)).statusCode).toBe(404);
    expect((await call('GET', '/api/admin/users?phone=12', operator)).json().error.code).toBe('invalid_phone');
    expect((await call('GET', `/api/admin/users?phone=${encodeURIComponent('+8613700137000')}`, operator)).json().error.code).toBe(
      'phone_not_registered',
    );
    expect((await call('GET', '/api/admin/messages?limit=0', operator)).json().error.code).toBe('invalid_request');
    expect((await call('POST', '/api/admin/fraud-guard/unblock', operator, { scope: 'nonsense' })).json().error.code).toBe('invalid_request');
  });

  it('the message log is masked until a reveal, which is audited', async () => {
    const operator = await signedInOperator(t, OPERATOR);
    // What a real provider's attempt writes (the recording provider of the tests writes none).
    const now = t.clock.now();
    await t.services.smsMessages.record({
      id: 'attempt-1',
      messageId: 'message-1',
      provider: 'console',
      providerMessageId: 'p-1',
      phone: PHONE,
      purpose: 'register',
      status: 'sent',
      errorCode: undefined,
      fee: 1,
      createdAt: now,
      updatedAt: now,
    });
    // Message-log rows are written in batches off the request path; the operator reads them once written.
    await t.services.flushRecords();
    const list = (await call('GET', `/api/admin/messages?phone=${encodeURIComponent(PHONE)}`, operator)).json();
    expect(list.messages).toHaveLength(1);
    expect(list.messages[0]).toMatchObject({ phoneMasked: '+86138****8000', status: 'sent', provider: 'console', purpose: 'register' });
    expect(JSON.stringify(list)).not.toContain('13800138000');
    const revealed = await call('POST', `/api/admin/messages/${list.messages[0].id}/reveal`, operator);
    expect(revealed.json()).toEqual({ phone: PHONE });
    const events = (await t.services.admin.findUser({ userId: 'x' }, OPERATOR)).activity.map((e) => e.type);
    expect(events).toContain('admin_phone_revealed');
    expect((await call('GET', '/api/admin/messages?status=failed', operator)).json().messages).toEqual([]);
  });

  it('the fraud guard view lists a blocked prefix, and unblock lifts it (audited)', async () => {
    const operator = await signedInOperator(t, OPERATOR);
    for (let i = 0; i < 20; i++) await post(t.app, '/api/sms/send', { phone: `+861391234${String(i).padStart(4, '0')}`, purpose: 'register' });
    const view = (await call('GET', '/api/admin/fraud-guard', operator)).json();
    expect(view.mode).toBe('block');
    expect(view.blocks.map((b: { scope: string }) => b.scope)).toEqual(['prefix:+86 1391234']);
    const unblocked = await call('POST', '/api/admin/fraud-guard/unblock', operator, { scope: 'prefix:+86 1391234' });
    expect(unblocked.json()).toEqual({ ok: true });
    expect((await call('GET', '/api/admin/fraud-guard', operator)).json().blocks).toEqual([]);
    expect((await call('POST', '/api/admin/fraud-guard/unblock', operator, { scope: 'prefix:+86 1391234' })).statusCode).toBe(404);
    expect((await post(t.app, '/api/sms/send', { phone: '+8613912340099', purpose: 'register' })).status).toBe(200);
    const overview = (await call('GET', '/api/admin/overview', operator)).json();
    expect(overview.countries[0]).toMatchObject({ target: 'CN' });
  });
});
