import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_SECRET } from '../helpers/app.js';
import { basic, createVerifyTestApp, expectTwilioError, verifyBackends, type VerifyTestApp } from './harness.js';

const run = promisify(execFile);

describe.each(verifyBackends())('Verify API keys and bad input ($name)', ({ env }) => {
  let a: VerifyTestApp;
  let b: VerifyTestApp;
  let service: string;
  beforeAll(async () => {
    const backend = await env();
    a = await createVerifyTestApp({ env: { ...backend, FAILED_CHECKS_PER_PHONE_HOURLY: '1000', SMS_PER_PHONE_HOURLY: '1000', SMS_PER_PHONE_DAILY: '10000', SMS_PER_PREFIX_HOURLY: '100000' } });
    // A second instance on the same backends (the same SQLite file, or the same PostgreSQL schema and Redis prefix).
    b = await createVerifyTestApp({ env: backend, ...(backend.DATABASE_URL ? {} : { dir: a.dir }) });
    service = await a.createService();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a key revoked on one instance is refused at once by the other', async () => {
    const key = await a.services.apiKeys.create('to revoke');
    const auth = basic(key.sid, key.secret);
    expect((await b.call('GET', `/v2/Services/${service}`, undefined, { auth })).status).toBe(200);
    expect(await a.services.apiKeys.revoke(key.sid)).toBe(true);
    expectTwilioError(await b.call('GET', `/v2/Services/${service}`, undefined, { auth }), 20003, 401);
    expectTwilioError(await a.call('GET', `/v2/Services/${service}`, undefined, { auth }), 20003, 401);
    expect((await a.services.apiKeys.list()).find((k) => k.sid === key.sid)?.revokedAt).not.toBeNull();
  });

  it('keys are stored only as keyed hashes', async () => {
    const key = await a.services.apiKeys.create('stored');
    const listed = JSON.stringify(await a.services.apiKeys.list());
    expect(listed).not.toContain(key.secret);
    if (a.database) {
      const rows = a.database.sqlite.prepare('select * from api_keys').all();
      expect(JSON.stringify(rows)).not.toContain(key.secret);
    }
  });

  const HOSTILE: [string, unknown][] = [
    ['a number', 13800138000],
    ['true', true],
    ['null', null],
    ['an array', ['+8613800138000', '+8613800138001']],
    ['an object', { $gt: '' }],
    ['an empty string', ''],
    ['a huge string', 'x'.repeat(12_000)],
    ['a NUL byte', '138\u00000138000'],
    ['control characters', '\u0001\u001b[31m\u007f'],
    ['CR LF', 'x\r\nSet-Cookie: a=b'],
    ['SQL', "' OR '1'='1' --"],
    ['a lone surrogate', '\ud800abc'],
    ['a prototype key', '__proto__'],
    ['emoji', '📱📱📱'],
    ['a negative number', -1],
    ['a float', 6.5],
  ];

  const endpoints = () => [
    { url: '/v2/Services', body: { FriendlyName: 'x', CodeLength: 6, Psd2Enabled: 'false', DoNotShareWarningEnabled: 'true' } },
    { url: `/v2/Services/${service}`, body: { FriendlyName: 'x', CodeLength: 6 } },
    { url: `/v2/Services/${service}/Verifications`, body: { To: '+8613800138123', Channel: 'sms', Locale: 'en', CustomFriendlyName: 'x', Amount: '1', Payee: 'y', DeviceIp: '192.0.2.1' } },
    { url: `/v2/Services/${service}/VerificationCheck`, body: { To: '+8613800138123', Code: '123456', VerificationSid: `VE${'0'.repeat(32)}` } },
    { url: `/v2/Services/${service}/Verifications/VE${'0'.repeat(32)}`, body: { Status: 'canceled' } },
  ];

  // One test per endpoint, each with room for a loaded machine: hundreds of requests apiece.
  for (const index of [0, 1, 2, 3, 4]) {
    it(`endpoint ${index + 1} of 5: every field with hostile values, as JSON and as a form body: a Twilio-shaped answer below 500`, { timeout: 180_000 }, async () => {
      const { url, body } = endpoints()[index]!;
      for (const field of Object.keys(body)) {
        for (const [label, value] of HOSTILE) {
          for (const json of [true, false]) {
            if (!json && (value === null || typeof value === 'object')) continue;
            const res = await a.call('POST', url, { ...body, [field]: value }, { json });
            const what = `${url} ${field} = ${label} (${json ? 'JSON' : 'form'})`;
            expect(res.status, what).toBeLessThan(500);
            if (res.status >= 400) {
              expect(res.body.status, what).toBe(res.status);
              expect(typeof res.body.code, what).toBe('number');
              expect(res.body.more_info, what).toBe(`https://www.twilio.com/docs/errors/${res.body.code}`);
            }
          }
        }
      }
    });
  }

  it('unknown services and sids of every shape are 20404; missing fields are 60200 naming them', async () => {
    for (const sid of ['nope', `VA${'0'.repeat(32)}`, `VA${'A'.repeat(32)}`, 'VA', '%00', 'x'.repeat(64)]) {
      expectTwilioError(await a.call('GET', `/v2/Services/${encodeURIComponent(sid)}`), 20404, 404, sid);
      expectTwilioError(await a.call('POST', `/v2/Services/${encodeURIComponent(sid)}/Verifications`, { To: '+8613800138123', Channel: 'sms' }), 20404, 404, sid);
    }
    expectTwilioError(await a.call('GET', `/v2/Services/${service}/Verifications/${'x'.repeat(600)}`), 20404, 404);
    const noTo = await a.call('POST', `/v2/Services/${service}/Verifications`, { Channel: 'sms' });
    expectTwilioError(noTo, 60200, 400);
    expect(noTo.body.message).toContain('To');
    const noCode = await a.call('POST', `/v2/Services/${service}/VerificationCheck`, { To: '+8613800138123' });
    expect(noCode.body.message).toContain('Code');
    const neither = await a.call('POST', `/v2/Services/${service}/VerificationCheck`, { Code: '123456' });
    expectTwilioError(neither, 60200, 400);
  });

  it('malformed bodies, other content types, repeated parameters and a body too large: 60200, never a 500', async () => {
    const url = `/v2/Services/${service}/Verifications`;
    const cases: [string, string | undefined, string][] = [
      ['{"To": ', 'application/json', 'truncated JSON'],
      ['', 'application/json', 'empty JSON'],
      ['To=+8613800138123&Channel=sms', 'text/plain', 'text/plain'],
      ['<To/>', 'application/xml', 'XML'],
      ['To=%2B8613800138123&To=%2B8613800138124&Channel=sms', 'application/x-www-form-urlencoded', 'repeated To'],
      ['To=%ZZ&Channel=sms', 'application/x-www-form-urlencoded', 'bad percent escape'],
      [`To=${'1'.repeat(20_000)}&Channel=sms`, 'application/x-www-form-urlencoded', 'too large'],
      ['[1,2]', 'application/json', 'a JSON array'],
    ];
    for (const [payload, type, label] of cases) {
      const res = await a.app.inject({ method: 'POST', url, payload, headers: { authorization: a.auth, ...(type ? { 'content-type': type } : {}) } });
      expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, label).toBeLessThan(500);
      expect(res.json().more_info, label).toMatch(/^https:\/\/www\.twilio\.com\/docs\/errors\/\d+$/);
    }
  });
});

describe('Verify API limits and regions', () => {
  let t: VerifyTestApp;
  let service: string;
  beforeAll(async () => {
    t = await createVerifyTestApp({ env: { SMS_ALLOWED_COUNTRIES: 'CN', SMS_PER_PHONE_HOURLY: '1', SMS_PER_IP_HOURLY: '2' } });
    service = await t.createService();
  });
  afterAll(async () => {
    await t?.close();
  });
  const start = (To: string, extra: Record<string, string> = {}) => t.call('POST', `/v2/Services/${service}/Verifications`, { To, Channel: 'sms', ...extra });

  it('a region outside SMS_ALLOWED_COUNTRIES is 403 60605, and sends nothing', async () => {
    expectTwilioError(await start('+14155550123'), 60605, 403);
    expect(t.sms.sent).toHaveLength(0);
  });

  it('the per-number cap answers 20429 with Retry-After', async () => {
    expect((await start('+8613800138001')).status).toBe(201);
    t.clock.advance(61_000);
    const capped = await start('+8613800138001');
    expectTwilioError(capped, 20429, 429);
    expect(Number(capped.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('DeviceIp is counted against the per-IP limit; without it the backend is not throttled per IP', async () => {
    expect((await start('+8613800138002', { DeviceIp: '198.51.100.7' })).status).toBe(201);
    expect((await start('+8613800138003', { DeviceIp: '198.51.100.7' })).status).toBe(201);
    expectTwilioError(await start('+8613800138004', { DeviceIp: '198.51.100.7' }), 20429, 429);
    for (const n of ['5', '6', '7']) expect((await start(`+861380013800${n}`)).status).toBe(201);
  });
});

describe('Verify API and the fraud guard', () => {
  let t: VerifyTestApp;
  let service: string;
  beforeAll(async () => {
    t = await createVerifyTestApp({ env: { FRAUD_GUARD: 'block', FRAUD_GUARD_MIN_SENDS: '3', SMS_PER_PREFIX_HOURLY: '1000' } });
    service = await t.createService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a prefix whose codes are never verified is blocked: 403 60410 before the provider is called', async () => {
    for (let i = 0; i < 3; i++) {
      const started = await t.call('POST', `/v2/Services/${service}/Verifications`, { To: `+861380013810${i}`, Channel: 'sms' });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
    }
    const sent = t.sms.sent.length;
    expectTwilioError(await t.call('POST', `/v2/Services/${service}/Verifications`, { To: '+8613800138109', Channel: 'sms' }), 60410, 403);
    expect(t.sms.sent).toHaveLength(sent);
  });
});

describe('npm run apikey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-apikey-'));
  const cliEnv = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'keys.db')}`, SECRET: TEST_SECRET, LOG_LEVEL: 'warn' };
  // The CLI as npm runs it (tsx), without npx's own start-up; generous bounds for a loaded machine.
  const apikey = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/db/apikey-cli.ts', ...args], { env: cliEnv, timeout: 120_000 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('create prints the key once as one JSON line; list shows no secret; revoke ends it for the service', { timeout: 300_000 }, async () => {
    const { stdout } = await apikey('create', '--name', 'backend');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const key = JSON.parse(lines[0]!) as { sid: string; secret: string; accountSid: string };
    expect(key.sid).toMatch(/^SK[0-9a-f]{32}$/);
    expect(key.accountSid).toMatch(/^AC[0-9a-f]{32}$/);

    const t = await createTestApp({ dir, env: { DATABASE_URL: cliEnv.DATABASE_URL } });
    try {
      expect(key.accountSid).toBe(t.services.accountSid);
      const auth = { authorization: basic(key.sid, key.secret) };
      expect((await t.app.inject({ method: 'GET', url: '/v2/Services', headers: auth })).statusCode).toBe(200);

      const listed = await apikey('list');
      expect(listed.stdout).toContain(key.sid);
      expect(listed.stdout).toContain('backend');
      expect(listed.stdout).not.toContain(key.secret);
      expect(readFileSync(join(dir, 'keys.db')).includes(Buffer.from(key.secret))).toBe(false);

      expect((await apikey('revoke', key.sid)).stdout).toContain('revoked');
      expect((await t.app.inject({ method: 'GET', url: '/v2/Services', headers: auth })).json().code).toBe(20003);
    } finally {
      await t.close();
    }
  });

  it('a missing name or an unknown command is refused with the usage', { timeout: 180_000 }, async () => {
    await Promise.all([expect(apikey('create')).rejects.toMatchObject({ code: 2 }), expect(apikey('frobnicate')).rejects.toMatchObject({ code: 2 })]);
  });
});
