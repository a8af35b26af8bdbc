import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { geetestSignToken } from '../../src/captcha/geetest-captcha.js';
import { createTestApp, PHONE, type TestApp } from '../helpers/app.js';
import type { FakeServer } from '../fakes/fake-server.js';
import { startFakeGeetest } from '../fakes/geetest-server.js';
import { startFakeTencentCaptcha } from '../fakes/tencent-captcha-server.js';
import { postFrom } from './helpers.js';

const IP = '203.0.113.30';
// Generous for every call but the hung ones, so a loaded machine's slow answer is not read as an outage.
const TIMEOUT_MS = 10_000;
const HUNG_TIMEOUT_MS = 300;
const API_KEY = { secretId: 'AKIDcaptchacaptchacaptchacaptcha', secretKey: 'captcha-api-secret-0123456789' };
const APP = { appId: 190000001, appSecretKey: 'app-secret-key-0123456789abcdef' };
const GEETEST = { captchaId: '647f5ed2ed8acb4be36784e01556bb71', captchaKey: 'b09a7aafbfd83f73b35a9b530d0337bf' };

/** Starts a vendor fake for the describe block, and one app per test (closed after it). */
function withVendor<V extends FakeServer & { calls: unknown[]; setOutage(outage: undefined): void }>(startVendor: () => Promise<V>) {
  const state = {} as { vendor: V; t: TestApp };
  beforeAll(async () => {
    state.vendor = await startVendor();
  });
  afterAll(async () => {
    await state.vendor.close();
  });
  afterEach(async () => {
    state.vendor.setOutage(undefined);
    state.vendor.calls.length = 0;
    await state.t.close();
  });
  return state;
}

describe('CAPTCHA=tencent (Tencent Captcha, DescribeCaptchaResult)', () => {
  const s = withVendor(() => startFakeTencentCaptcha({ ...API_KEY, ...APP }));
  const start = (env: Record<string, string> = {}) =>
    createTestApp({
      env: {
        CAPTCHA: 'tencent',
        CAPTCHA_SITE_KEY: String(APP.appId),
        CAPTCHA_SECRET: APP.appSecretKey,
        TENCENTCLOUD_SECRET_ID: API_KEY.secretId,
        TENCENTCLOUD_SECRET_KEY: API_KEY.secretKey,
        CAPTCHA_VERIFY_URL: s.vendor.url,
        CAPTCHA_VERIFY_TIMEOUT_MS: String(TIMEOUT_MS),
        ...env,
      },
    });
  const send = (answer: { ticket?: string; randstr?: string }, phone = PHONE) =>
    postFrom(s.t.app, IP, '/api/sms/send', { phone, purpose: 'register', captchaToken: answer.ticket, captchaRandstr: answer.randstr });

  it('publishes the kind and the CaptchaAppId for the widget', async () => {
    s.t = await start();
    expect((await s.t.app.inject({ method: 'GET', url: '/api/config' })).json()).toMatchObject({ captcha: 'tencent', captchaSiteKey: String(APP.appId) });
  });

  it('sends after CaptchaCode 1, having asked with CaptchaType 9, the ticket, randstr, client IP, app id and secret, TC3-signed', async () => {
    s.t = await start();
    const answer = s.vendor.solve();
    expect((await send(answer)).status).toBe(200);
    expect(s.t.sms.sent).toHaveLength(1);
    expect(s.vendor.calls).toEqual([{ CaptchaType: 9, Ticket: answer.ticket, Randstr: answer.randstr, UserIp: IP, CaptchaAppId: APP.appId, AppSecretKey: APP.appSecretKey }]);
  });

  it('refuses a missing, forged, mismatched, reused or expired answer with captcha_invalid (or captcha_required)', async () => {
    s.t = await start();
    expect((await send({})).body.error.code).toBe('captcha_required');
    expect((await send({ ticket: s.vendor.solve().ticket })).body.error.code).toBe('captcha_required');
    expect((await send({ ticket: 't03forged', randstr: '@abc' })).body.error.code).toBe('captcha_invalid');
    expect((await send({ ticket: s.vendor.solve().ticket, randstr: '@notit' })).body.error.code).toBe('captcha_invalid');
    expect((await send(s.vendor.solve({ expired: true }))).body.error.code).toBe('captcha_invalid');
    const used = s.vendor.solve();
    expect((await send(used)).status).toBe(200);
    const calls = s.vendor.calls.length;
    expect((await send(used, '+8613900139000')).body.error.code).toBe('captcha_invalid');
    // Refused from our own memory of used tickets, before Tencent is asked again.
    expect(s.vendor.calls.length).toBe(calls);
    expect(s.t.sms.sent).toHaveLength(1);
  });

  it('lets exactly one of many simultaneous sends with one ticket through', async () => {
    s.t = await start();
    const answer = s.vendor.solve();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => send(answer, `+861390013900${i}`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error?.code === 'captcha_invalid')).toHaveLength(7);
  });

  it.each([7, 8, 9, 10, 15, 21, 25])('maps CaptchaCode %i (the answer is wrong) to 400 captcha_invalid', async (captchaCode) => {
    s.t = await start();
    s.vendor.setOutage({ captchaCode });
    expect(await send(s.vendor.solve())).toMatchObject({ status: 400, body: { error: { code: 'captcha_invalid' } } });
  });

  it.each([16, 26, 31, 100, 6])('maps CaptchaCode %i (our setup or Tencent, not the person) to 503 service_unavailable', async (captchaCode) => {
    s.t = await start();
    s.vendor.setOutage({ captchaCode });
    expect(await send(s.vendor.solve())).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
    expect(s.t.logs.some((l) => l.msg === 'captcha verifier unavailable' && String(l.reason).includes(`CaptchaCode ${captchaCode}`))).toBe(true);
  });

  it('answers 503 when the Cloud API key is wrong (the fake checks the TC3 signature) and keeps the key out of the log', async () => {
    s.t = await start({ TENCENTCLOUD_SECRET_KEY: 'not-the-api-secret-0123456789' });
    expect((await send(s.vendor.solve())).status).toBe(503);
    expect(JSON.stringify(s.t.logs)).toMatch(/AuthFailure\.SignatureFailure/);
    expect(JSON.stringify(s.t.logs)).not.toContain('not-the-api-secret');
  });

  it('answers 503 for a wrong AppSecretKey (CaptchaCode 100), not a wrong answer', async () => {
    s.t = await start({ CAPTCHA_SECRET: 'not-the-app-secret' });
    expect((await send(s.vendor.solve())).status).toBe(503);
  });

  it.each([['down', { http: 502 }], ['garbage', 'bad_body'], ['refusing the request', { error: 'RequestLimitExceeded' }]] as const)(
    'answers 503 service_unavailable when Tencent is %s',
    async (_label, outage) => {
      s.t = await start();
      s.vendor.setOutage(outage);
      expect((await send(s.vendor.solve())).status).toBe(503);
      expect(s.t.sms.sent).toHaveLength(0);
    },
  );

  it('answers 503 within CAPTCHA_VERIFY_TIMEOUT_MS when Tencent hangs, and closes the connection', async () => {
    s.t = await start({ CAPTCHA_VERIFY_TIMEOUT_MS: String(HUNG_TIMEOUT_MS) });
    s.vendor.setOutage('hang');
    const started = performance.now();
    const res = await send(s.vendor.solve());
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
    // Generous: the deadline is 300 ms, and the 10 s of the other tests would be the answer without it.
    expect(performance.now() - started).toBeLessThan(5000);
    await s.vendor.hungRequestClosed();
  });
});

describe('CAPTCHA=geetest (GeeTest v4 validate)', () => {
  const s = withVendor(() => startFakeGeetest(GEETEST));
  const start = (env: Record<string, string> = {}) =>
    createTestApp({
      env: {
        CAPTCHA: 'geetest',
        CAPTCHA_SITE_KEY: GEETEST.captchaId,
        CAPTCHA_SECRET: GEETEST.captchaKey,
        CAPTCHA_VERIFY_URL: `${s.vendor.url}/validate`,
        CAPTCHA_VERIFY_TIMEOUT_MS: String(TIMEOUT_MS),
        ...env,
      },
    });
  const send = (geetest: object | undefined, phone = PHONE) => postFrom(s.t.app, IP, '/api/sms/send', { phone, purpose: 'register', geetest });

  it('publishes the kind and the captcha_id for the widget', async () => {
    s.t = await start();
    expect((await s.t.app.inject({ method: 'GET', url: '/api/config' })).json()).toMatchObject({ captcha: 'geetest', captchaSiteKey: GEETEST.captchaId });
  });

  it('sends after result "success", having posted the four values and sign_token = HMAC-SHA256(lot_number)', async () => {
    s.t = await start();
    const pass = s.vendor.solve();
    expect((await send(pass)).status).toBe(200);
    expect(s.t.sms.sent).toHaveLength(1);
    const [call] = s.vendor.calls;
    expect(Object.fromEntries(call!)).toEqual({ ...pass, sign_token: geetestSignToken(GEETEST.captchaKey, pass.lot_number) });
  });

  it('refuses a missing, forged, reused or expired pass', async () => {
    s.t = await start();
    expect((await send(undefined)).body.error.code).toBe('captcha_required');
    expect((await send({ ...s.vendor.solve(), pass_token: 'f'.repeat(64) })).body.error.code).toBe('captcha_invalid');
    expect((await send(s.vendor.solve({ expired: true }))).body.error.code).toBe('captcha_invalid');
    const pass = s.vendor.solve();
    expect((await send(pass)).status).toBe(200);
    const calls = s.vendor.calls.length;
    expect((await send(pass, '+8613900139000')).body.error.code).toBe('captcha_invalid');
    expect(s.vendor.calls.length).toBe(calls);
  });

  it('refuses malformed values by schema, before GeeTest is asked', async () => {
    s.t = await start();
    const pass = s.vendor.solve();
    for (const bad of [{ ...pass, gen_time: 'yesterday' }, { ...pass, lot_number: 'a/b' }, { ...pass, extra: 1 }, { lot_number: pass.lot_number }]) {
      expect((await send(bad)).status).toBe(400);
    }
    expect(s.vendor.calls).toHaveLength(0);
  });

  it('lets exactly one of many simultaneous sends with one pass through', async () => {
    s.t = await start();
    const pass = s.vendor.solve();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => send(pass, `+861390013900${i}`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('answers 503, not captcha_invalid, when our captcha key is wrong (GeeTest refuses the sign_token)', async () => {
    s.t = await start({ CAPTCHA_SECRET: 'not-the-captcha-key' });
    expect((await send(s.vendor.solve())).status).toBe(503);
    expect(JSON.stringify(s.t.logs)).not.toContain('not-the-captcha-key');
  });

  it('answers 503 for an unknown captcha_id (status "error")', async () => {
    s.t = await start({ CAPTCHA_SITE_KEY: 'not-our-captcha-id' });
    expect((await send(s.vendor.solve())).status).toBe(503);
  });

  it.each([['down', { http: 502 }], ['garbage', 'bad_body']] as const)('answers 503 when GeeTest is %s', async (_label, outage) => {
    s.t = await start();
    s.vendor.setOutage(outage);
    expect((await send(s.vendor.solve())).status).toBe(503);
  });

  it('answers 503 within CAPTCHA_VERIFY_TIMEOUT_MS when GeeTest hangs, and closes the connection', async () => {
    s.t = await start({ CAPTCHA_VERIFY_TIMEOUT_MS: String(HUNG_TIMEOUT_MS) });
    s.vendor.setOutage('hang');
    const started = performance.now();
    expect((await send(s.vendor.solve())).status).toBe(503);
    expect(performance.now() - started).toBeLessThan(5000);
    await s.vendor.hungRequestClosed();
  });
});

describe('Tencent and GeeTest captcha configuration', () => {
  it('names every missing setting', () => {
    expect(() => loadConfig({ CAPTCHA: 'tencent' })).toThrow(/CAPTCHA_SITE_KEY: required when CAPTCHA=tencent[\s\S]*CAPTCHA_SECRET[\s\S]*TENCENTCLOUD_SECRET_ID[\s\S]*TENCENTCLOUD_SECRET_KEY/);
    expect(() => loadConfig({ CAPTCHA: 'tencent', CAPTCHA_SITE_KEY: 'abc', CAPTCHA_SECRET: 's', TENCENTCLOUD_SECRET_ID: 'i', TENCENTCLOUD_SECRET_KEY: 'k' })).toThrow(/numeric CaptchaAppId/);
    expect(() => loadConfig({ CAPTCHA: 'geetest', CAPTCHA_SITE_KEY: 'id' })).toThrow(/CAPTCHA_SECRET: required when CAPTCHA=geetest/);
  });
});
