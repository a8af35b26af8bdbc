import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { createTestApp, PASSWORD, PHONE, registerUser, type TestApp } from '../helpers/app.js';
import { backendAvailable, postgresTestSchema } from '../helpers/backends.js';

/**
 * Every endpoint fed hostile input: never a 500, never a hang, always a documented error code with
 * its documented status. Each value replaces one field of an otherwise valid body.
 */
const HOSTILE_VALUES: [string, unknown][] = [
  ['a number', 13800138000],
  ['null', null],
  ['true', true],
  ['an array', ['+8613800138000']],
  ['an object', { $gt: '' }],
  ['an empty string', ''],
  ['a huge string', 'x'.repeat(12_000)],
  ['emoji', '📱📱📱📱📱📱📱📱'],
  ['full-width digits', '１３８００１３８０００'],
  ['right-to-left and zero-width marks', '\u202e138\u200b0013\u200d8000'],
  ['a NUL byte', '138\u00000138000'],
  ['control characters', '\u0001\u0002\u001b[31m\u007f'],
  ['CR LF header injection', 'x\r\nSet-Cookie: sms_verify_session=evil\r\n'],
  ['SQL injection', "' OR '1'='1' --"],
  ['SQL stacked query', "'); DROP TABLE users; --"],
  ['a lone surrogate', '\ud800abc'],
  ['a prototype key', '__proto__'],
  ['six digits with a newline', '123456\n'],
];

interface Endpoint {
  method: 'POST' | 'GET';
  url: string;
  body?: Record<string, unknown>;
  session?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { method: 'POST', url: '/api/sms/send', body: { phone: PHONE, purpose: 'login', captchaId: 'x', captchaAnswer: 'y', captchaToken: 'z' } },
  { method: 'POST', url: '/api/register', body: { phone: '+8613900139000', code: '123456', password: PASSWORD } },
  { method: 'POST', url: '/api/login/password', body: { phone: PHONE, password: PASSWORD } },
  { method: 'POST', url: '/api/login/sms', body: { phone: PHONE, code: '123456' } },
  { method: 'POST', url: '/api/login/2fa', body: { ticket: 'a'.repeat(43), code: '123456' } },
  { method: 'POST', url: '/api/password/reset', body: { phone: PHONE, code: '123456', newPassword: 'a new password', totp: '123456' } },
  { method: 'POST', url: '/api/2fa/setup', body: { password: PASSWORD }, session: true },
  { method: 'POST', url: '/api/2fa/enable', body: { code: '123456' }, session: true },
  { method: 'POST', url: '/api/2fa/disable', body: { password: PASSWORD, code: '123456' }, session: true },
  { method: 'POST', url: '/api/phone/change', body: { newPhone: '+8613700137000', code: '123456', password: PASSWORD }, session: true },
  { method: 'POST', url: '/api/logout', session: true },
  { method: 'GET', url: '/api/me', session: true },
  { method: 'GET', url: '/api/account/activity', session: true },
  { method: 'GET', url: '/api/captcha' },
  { method: 'GET', url: '/api/config' },
  { method: 'POST', url: '/api/token/refresh', body: { refreshToken: `rt_${'a'.repeat(43)}` } },
  { method: 'GET', url: '/.well-known/jwks.json' },
];

/** The suite, on the embedded SQLite default and, when TEST_DATABASE_URL is set, with everything in PostgreSQL. */
function describeBadInput(where: string, databaseEnv: () => Promise<Record<string, string>>) {
describe(`bad input on every endpoint (${where})`, () => {
  let t: TestApp;
  let auth: Record<string, string>;
  beforeAll(async () => {
    // Limits high enough that the flood is about input, not quota (quota answers would be documented anyway).
    t = await createTestApp({
      env: { ...(await databaseEnv()), CAPTCHA: 'image', CHECKS_PER_IP_HOURLY: '100000', SMS_PER_IP_HOURLY: '100000', CAPTCHAS_PER_IP_HOURLY: '100000', FAILED_CHECKS_PER_PHONE_HOURLY: '1000' },
    });
    // Registered through a test-free path: the captcha is on, so send with the known answer.
    const { captchaId } = (await t.app.inject({ method: 'GET', url: '/api/captcha' })).json();
    await t.app.inject({ method: 'POST', url: '/api/sms/send', payload: { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: 'Ak3X' } });
    const code = t.sms.lastCode(PHONE);
    const res = await t.app.inject({ method: 'POST', url: '/api/register', payload: { phone: PHONE, code, password: PASSWORD } });
    auth = { authorization: `Bearer ${res.json().token}` };
  });
  afterAll(async () => {
    await t?.close();
  });

  /** One request, refusing to wait forever: a hang fails the test instead of stalling the suite. */
  async function call(options: InjectOptions) {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${options.method} ${options.url} did not answer within 10 s`)), 10_000);
    });
    try {
      return await Promise.race([t.app.inject(options), hang]);
    } finally {
      clearTimeout(timer);
    }
  }

  function expectDocumented(res: Awaited<ReturnType<typeof call>>, label: string) {
    expect(res.statusCode, label).toBeLessThan(500);
    if (res.statusCode >= 400) {
      const { error } = res.json() as { error: { code: keyof typeof ERRORS } };
      expect(Object.keys(ERRORS), label).toContain(error.code);
      expect(ERRORS[error.code].status, label).toBe(res.statusCode);
    }
  }

  for (const endpoint of ENDPOINTS.filter((e) => e.body && Object.keys(e.body).length)) {
    it(`${endpoint.method} ${endpoint.url}: each field with hostile values`, async () => {
      for (const field of Object.keys(endpoint.body!)) {
        for (const [label, value] of HOSTILE_VALUES) {
          const res = await call({
            method: endpoint.method,
            url: endpoint.url,
            payload: { ...endpoint.body, [field]: value },
            headers: endpoint.session ? auth : {},
          });
          expectDocumented(res, `${field} = ${label}`);
          // Wrong JSON types are the schema's to refuse.
          if (['a number', 'null', 'true', 'an array', 'an object'].includes(label)) {
            expect(res.json().error.code, `${field} = ${label}`).toBe('invalid_request');
          }
        }
      }
    });
  }

  it('every endpoint: malformed bodies, wrong content types, duplicate keys, a body too large', async () => {
    const raw = (e: Endpoint, payload: string, contentType: string | undefined) =>
      call({ method: e.method, url: e.url, payload, headers: { ...(contentType ? { 'content-type': contentType } : {}), ...(e.session ? auth : {}) } });
    for (const e of ENDPOINTS.filter((x) => x.method === 'POST')) {
      const valid = JSON.stringify(e.body ?? {});
      const cases: [string, string, string | undefined][] = [
        ['truncated JSON', '{"phone":', 'application/json'],
        ['a JSON string', '"hello"', 'application/json'],
        ['a JSON array', '[1,2,3]', 'application/json'],
        ['text/plain', valid, 'text/plain'],
        ['a form', 'phone=1&purpose=login', 'application/x-www-form-urlencoded'],
        ['multipart', '--b\r\ncontent-disposition: form-data; name="phone"\r\n\r\n1\r\n--b--', 'multipart/form-data; boundary=b'],
        ['XML', '<phone>1</phone>', 'application/xml'],
        ['a prototype pollution attempt', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', 'application/json'],
        ['a body too large', JSON.stringify({ ...(e.body ?? {}), pad: 'x'.repeat(20_000) }), 'application/json'],
        ['deeply nested JSON', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/json'],
      ];
      for (const [label, payload, type] of cases) {
        const res = await raw(e, payload, type);
        expectDocumented(res, `${e.url}: ${label}`);
        if (label === 'a body too large') expect(res.json().error.code).toBe('payload_too_large');
        else if (e.body && Object.keys(e.body).length) expect(res.statusCode, `${e.url}: ${label}`).toBe(400);
      }
      // Duplicate keys: JSON.parse keeps the last; whatever wins is validated like any other value.
      const dup = await raw(e, valid.replace(/^\{/, '{"phone":"\'; DROP TABLE users; --","code":[],'), 'application/json');
      expectDocumented(dup, `${e.url}: duplicate keys`);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('hostile headers: session tokens, user agents and forwarded addresses', async () => {
    const headers: Record<string, string>[] = [
      { authorization: 'Bearer ' + 'A'.repeat(5000) },
      { authorization: "Bearer ' OR 1=1 --" },
      { authorization: 'Basic ' + Buffer.from('a:b').toString('base64') },
      { cookie: 'sms_verify_session=' + 'x'.repeat(4000) },
      { cookie: 'sms_verify_session=%00%0d%0a' },
      { 'user-agent': '\u00ff'.repeat(3000) },
      { 'x-forwarded-for': "'; DROP TABLE audit_events; --" },
    ];
    for (const h of headers) {
      for (const e of ENDPOINTS) {
        const res = await call({ method: e.method, url: e.url, headers: h, ...(e.method === 'POST' ? { payload: e.body ?? {} } : {}) });
        expectDocumented(res, `${e.url} with ${Object.keys(h)[0]}`);
      }
    }
  });

  it('logged no unhandled error along the way', () => {
    const errors = t.logs.filter((l) => (l.level as number) >= 50);
    expect(errors.map((l) => l.msg)).toEqual([]);
  });
});
}

describeBadInput('SQLite', async () => ({}));
// PostgreSQL refuses bytes SQLite stores (NUL), so the same input must be stopped before it gets there.
const schema = postgresTestSchema();
if (backendAvailable('TEST_DATABASE_URL')) {
  describeBadInput('PostgreSQL', async () => {
    await schema.create();
    return { DATABASE_URL: schema.url };
  });
}
