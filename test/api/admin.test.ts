import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RETRY_WINDOW_MS } from '../../src/webhooks/worker.js';
import { startWebhookReceiver } from '../fakes/webhook-receiver.js';
import { createTestApp, fakeClock, PHONE, post, registerUser, type TestApp } from '../helpers/app.js';
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
  ['GET', '/api/admin/verify/services'],
  ['GET', '/api/admin/api-keys'],
  ['POST', '/api/admin/api-keys', { name: 'backend' }],
  ['POST', `/api/admin/api-keys/SK${'0'.repeat(32)}/revoke`],
  ['GET', '/api/admin/webhooks/deliveries'],
  ['POST', '/api/admin/webhooks/deliveries/x/retry'],
];

/** A request path as the OpenAPI document names it. */
const documentedPath = (url: string) =>
  url
    .split('?')[0]!
    .replace(/\/(messages|users|deliveries)\/x\//, '/$1/{id}/')
    .replace(/\/api-keys\/SK0+\//, '/api-keys/{sid}/');
const basic = (sid: string, secret: string) => `Basic ${Buffer.from(`${sid}:${secret}`).toString('base64')}`;

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
      ROUTES.map(([m, url]) => `${m} ${documentedPath(url)}`).sort(),
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

  it('lists services, creates a key whose secret is shown once, and a revoked key is refused by /v2 (each audited)', async () => {
    const operator = await signedInOperator(t, OPERATOR);
    const created = await call('POST', '/api/admin/api-keys', operator, { name: 'shop backend' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const key = created.json() as { sid: string; secret: string; accountSid: string };
    expect(key.sid).toMatch(/^SK[0-9a-f]{32}$/);
    expect(key.accountSid).toBe(t.services.accountSid);
    const v2 = (method: 'GET' | 'POST', url: string, payload?: string) =>
      t.app.inject({
        method,
        url,
        headers: { authorization: basic(key.sid, key.secret), ...(payload ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(payload ? { payload } : {}),
      });
    const service = await v2('POST', '/v2/Services', 'FriendlyName=Acme');
    expect(service.statusCode).toBe(201);

    expect((await call('GET', '/api/admin/verify/services', operator)).json().services).toEqual([
      expect.objectContaining({ sid: service.json().sid, friendlyName: 'Acme', codeLength: 6 }),
    ]);
    const listed = await call('GET', '/api/admin/api-keys', operator);
    expect(listed.json().keys).toEqual([{ sid: key.sid, name: 'shop backend', createdAt: t.clock.now(), revokedAt: null }]);
    expect(listed.body).not.toContain(key.secret);

    expect((await call('POST', `/api/admin/api-keys/${key.sid}/revoke`, operator)).json()).toEqual({ ok: true });
    expect((await v2('GET', '/v2/Services')).statusCode).toBe(401);
    expect((await call('GET', '/api/admin/api-keys', operator)).json().keys[0].revokedAt).toBe(t.clock.now());
    // Revoking twice, an unknown sid, a malformed sid and an empty name are clear errors.
    expect((await call('POST', `/api/admin/api-keys/${key.sid}/revoke`, operator)).statusCode).toBe(404);
    expect((await call('POST', `/api/admin/api-keys/SK${'0'.repeat(32)}/revoke`, operator)).statusCode).toBe(404);
    expect((await call('POST', '/api/admin/api-keys/nonsense/revoke', operator)).json().error.code).toBe('invalid_request');
    expect((await call('POST', '/api/admin/api-keys', operator, { name: '' })).json().error.code).toBe('invalid_request');

    const operatorEvents = (await t.services.admin.findUser({ userId: 'x' }, OPERATOR)).activity;
    expect(operatorEvents.filter((e) => e.type.startsWith('admin_api_key')).map((e) => [e.type, e.detail])).toEqual([
      ['admin_api_key_revoked', `api key ${key.sid}`],
      ['admin_api_key_created', `api key ${key.sid}`],
    ]);
  });
});

describe('admin API: webhook deliveries', () => {
  const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

  it('lists deliveries without payloads or receiver tokens, and retry re-queues a failed one (audited)', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    const t = await createTestApp({ clock: fakeClock(Date.now()), env: { WEBHOOK_URL: `${receiver.url}/hooks?token=receiver-token`, WEBHOOK_SECRET: SECRET } });
    try {
      const operator = await signedInOperator(t, OPERATOR);
      const call = (method: 'GET' | 'POST', url: string) =>
        t.app.inject({ method, url, headers: bearer(operator), ...(method === 'POST' ? { payload: {} } : {}) });
      // The receiver is down for the whole retry window: the delivery gives up.
      receiver.mode = 'down';
      t.clock.advance(RETRY_WINDOW_MS + 1);
      while ((await t.services.webhooks.worker!.deliverDue()) > 0);

      const listed = await call('GET', '/api/admin/webhooks/deliveries?state=failed');
      expect(listed.headers['cache-control']).toBe('no-store');
      const { configured, deliveries } = listed.json();
      expect(configured).toBe(true);
      // The operator's sign-up and 2FA are the events; both gave up.
      expect(deliveries.map((d: { type: string }) => d.type).sort()).toEqual(['user.created', 'user.two_factor_enabled']);
      deliveries.sort((a: { type: string }, b: { type: string }) => a.type.localeCompare(b.type));
      expect(deliveries[0]).toMatchObject({ type: 'user.created', state: 'failed', attempts: 1, lastStatus: 503, lastError: 'status 503', url: `${receiver.url}/hooks…` });
      expect(listed.body).not.toContain('receiver-token');
      expect(listed.body).not.toContain('13900139000');
      expect(deliveries[0]).not.toHaveProperty('payload');

      receiver.mode = 'ok';
      expect((await call('POST', `/api/admin/webhooks/deliveries/${deliveries[0].id}/retry`)).json()).toEqual({ ok: true });
      expect((await call('GET', '/api/admin/webhooks/deliveries?state=pending')).json().deliveries.map((d: { id: string }) => d.id)).toEqual([deliveries[0].id]);
      while ((await t.services.webhooks.worker!.deliverDue()) > 0);
      expect(receiver.received.map((e) => e.type)).toEqual(['user.created']);
      const after = (await call('GET', '/api/admin/webhooks/deliveries')).json().deliveries as { id: string; state: string }[];
      expect(after.find((d) => d.id === deliveries[0].id)).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 204 });
      expect(after.filter((d) => d.state === 'failed')).toHaveLength(1);
      // A delivered one is not sent again; an unknown id is a 404.
      expect((await call('POST', `/api/admin/webhooks/deliveries/${deliveries[0].id}/retry`)).statusCode).toBe(404);
      expect((await call('POST', '/api/admin/webhooks/deliveries/no-such-id/retry')).statusCode).toBe(404);
      expect((await call('GET', '/api/admin/webhooks/deliveries?state=bogus')).json().error.code).toBe('invalid_request');

      const events = (await t.services.admin.findUser({ userId: 'x' }, OPERATOR)).activity;
      expect(events.filter((e) => e.type === 'admin_webhook_retried').map((e) => e.detail)).toEqual([`delivery ${deliveries[0].id}`]);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
