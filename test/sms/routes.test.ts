import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { post, TEST_SECRET } from '../helpers/app.js';
import { startFakeTencentSms, type FakeTencentSms } from '../fakes/tencent-sms-server.js';
import { aliyunHarness, twilioHarness, type ProviderHarness } from './harnesses.js';
import { createProviderTestApp, type ProviderTestApp } from './provider-app.js';

const CN = '+8613800138000';
const US = '+12025550123';
const HK = '+85291234567';

const TENCENT = { secretId: 'AKIDroutesroutesroutesroutes', secretKey: 'routes-secret-key-0123456789', sdkAppId: '1400001234', signName: '路由测试' };

describe('SMS_ROUTES: providers per destination region', () => {
  let tencent: FakeTencentSms;
  let aliyun: ProviderHarness;
  let twilio: ProviderHarness;
  let t: ProviderTestApp | undefined;
  let tencentEnv: Record<string, string>;
  beforeAll(async () => {
    [tencent, aliyun, twilio] = await Promise.all([
      startFakeTencentSms({ ...TENCENT, templates: { '1110': 2 }, intlTemplates: { '2220': 2 }, intlSignName: 'Routes Test' }),
      aliyunHarness(),
      twilioHarness(),
    ]);
    tencentEnv = {
      TENCENTCLOUD_SECRET_ID: TENCENT.secretId,
      TENCENTCLOUD_SECRET_KEY: TENCENT.secretKey,
      TENCENT_SMS_SDK_APP_ID: TENCENT.sdkAppId,
      TENCENT_SMS_SIGN_NAME: TENCENT.signName,
      TENCENT_SMS_TEMPLATE_ID: '1110',
      TENCENT_SMS_ENDPOINT: tencent.url,
    };
  });
  afterAll(async () => {
    await Promise.all([tencent.close(), aliyun.close(), twilio.close()]);
  });
  afterEach(async () => {
    tencent.setOutage(undefined);
    await t?.close();
    t = undefined;
  });
  const start = (env: Record<string, string>) =>
    createProviderTestApp({ ...tencentEnv, ...aliyun.env, ...twilio.env, SMS_ALLOWED_COUNTRIES: '*', ...env });
  const send = (phone: string) => post(t!.app, '/api/sms/send', { phone, purpose: 'register' });
  const counts = () => ({ tencent: tencent.requestCount(), aliyun: aliyun.requestCount(), twilio: twilio.requestCount() });
  const since = (before: ReturnType<typeof counts>) => {
    const now = counts();
    return { tencent: now.tencent - before.tencent, aliyun: now.aliyun - before.aliyun, twilio: now.twilio - before.twilio };
  };

  it('sends a +86 number through Tencent and a +1 number through Twilio, in one process', async () => {
    t = await start({ SMS_ROUTES: 'CN=tencent,aliyun;*=twilio' });
    const before = counts();
    expect((await send(CN)).status).toBe(200);
    expect((await send(US)).status).toBe(200);
    expect(since(before)).toEqual({ tencent: 1, aliyun: 0, twilio: 1 });
    expect(tencent.accepted.at(-1)).toMatchObject({ phone: CN, templateId: '1110', signName: TENCENT.signName });
    // Each code works for its own number: the route changed nothing else.
    expect((await post(t.app, '/api/register', { phone: CN, code: tencent.lastCode(CN), password: 'correct horse battery' })).status).toBe(201);
    expect((await post(t.app, '/api/register', { phone: US, code: twilio.lastCode(US), password: 'correct horse battery' })).status).toBe(201);
  });

  it('fails over inside the CN route (Tencent down, Aliyun sends) without touching the other route', async () => {
    t = await start({ SMS_ROUTES: 'CN=tencent,aliyun;*=twilio' });
    tencent.setOutage({ http: 502 });
    const before = counts();
    expect((await send(CN)).status).toBe(200);
    expect(since(before)).toEqual({ tencent: 1, aliyun: 1, twilio: 0 });
    expect((await post(t.app, '/api/register', { phone: CN, code: aliyun.lastCode(CN), password: 'correct horse battery' })).status).toBe(201);
    expect((await t.messageRows()).map((r) => [r.provider, r.status])).toEqual([
      ['tencent', 'failed'],
      ['aliyun', 'sent'],
    ]);
  });

  it('refuses a destination no route covers as region_not_allowed, before any provider is asked', async () => {
    t = await start({ SMS_ROUTES: 'CN=tencent;US=twilio' });
    const before = counts();
    const res = await send(HK);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'region_not_allowed', field: 'phone' } } });
    expect(since(before)).toEqual({ tencent: 0, aliyun: 0, twilio: 0 });
    expect((await send(US)).status).toBe(200);
  });

  it('keeps SMS_ALLOWED_COUNTRIES in force under the catch-all route', async () => {
    t = await start({ SMS_ROUTES: 'CN=tencent;*=twilio', SMS_ALLOWED_COUNTRIES: 'CN,HK' });
    expect((await send(US)).body.error.code).toBe('region_not_allowed');
    expect((await send(HK)).status).toBe(200);
  });

  it('sends numbers outside +86 through Tencent with the international signature and template', async () => {
    t = await start({ SMS_ROUTES: 'CN,HK=tencent;*=twilio', TENCENT_SMS_INTL_TEMPLATE_ID: '2220', TENCENT_SMS_INTL_SIGN_NAME: 'Routes Test' });
    expect((await send(HK)).status).toBe(200);
    expect(tencent.accepted.at(-1)).toMatchObject({ phone: HK, templateId: '2220', signName: 'Routes Test' });
    expect((await send(CN)).status).toBe(200);
    expect(tencent.accepted.at(-1)).toMatchObject({ phone: CN, templateId: '1110', signName: TENCENT.signName });
  });

  it('refuses to start when a route would send numbers outside +86 through Tencent without an international template', () => {
    const env = { DATABASE_URL: 'sqlite::memory:', SECRET: TEST_SECRET, ...tencentEnv, ...twilio.env, SMS_ALLOWED_COUNTRIES: '*' };
    expect(() => loadConfig({ ...env, SMS_ROUTES: 'CN,HK=tencent;*=twilio' })).toThrow(/TENCENT_SMS_INTL_TEMPLATE_ID: required because SMS_ROUTES sends CN,HK through tencent/);
    expect(() => loadConfig({ ...env, SMS_ROUTES: '*=tencent,twilio' })).toThrow(/TENCENT_SMS_INTL_TEMPLATE_ID/);
    // Tencent only for CN: nothing international reaches it.
    expect(loadConfig({ ...env, SMS_ROUTES: 'CN=tencent;*=twilio' }).smsRoutes).toHaveLength(2);
    // The catch-all reaches only CN when only CN is allowed.
    expect(loadConfig({ ...env, SMS_ALLOWED_COUNTRIES: 'CN', SMS_ROUTES: '*=tencent' }).smsRoutes).toHaveLength(1);
  });

  it('without SMS_ROUTES, refuses a number outside +86 at send as sms_send_failed, and the log says why', async () => {
    t = await start({ SMS_PROVIDER: 'tencent', SMS_ALLOWED_COUNTRIES: 'CN,HK' });
    const before = counts();
    expect((await send(HK)).body.error.code).toBe('sms_send_failed');
    expect(since(before).tencent).toBe(0);
    const line = t.logs.find((l) => l.msg === 'sms send failed');
    expect(String(line?.reason)).toMatch(/TENCENT_SMS_INTL_TEMPLATE_ID is not set/);
    expect(line?.phone).not.toBe(HK);
    expect((await send(CN)).status).toBe(200);
  });

  it('without SMS_ROUTES, moves a number outside +86 on to the next provider without opening Tencent\'s circuit', async () => {
    t = await start({ SMS_PROVIDER: 'tencent,twilio', SMS_ALLOWED_COUNTRIES: 'CN,HK', SMS_CIRCUIT_FAILURES: '1' });
    const before = counts();
    expect((await send(HK)).status).toBe(200);
    expect((await send('+85291234568')).status).toBe(200);
    expect((await send(CN)).status).toBe(200);
    expect(since(before)).toEqual({ tencent: 1, aliyun: 0, twilio: 2 });
  });
});

describe('SMS_ROUTES syntax', () => {
  const load = (SMS_ROUTES: string) => loadConfig({ DATABASE_URL: 'sqlite::memory:', SMS_ROUTES });
  it('reads regions, providers and the catch-all', () => {
    expect(load(' cn , hk = console ; * = console ').smsRoutes).toEqual([
      { regions: ['CN', 'HK'], providers: ['console'] },
      { regions: '*', providers: ['console'] },
    ]);
  });
  it.each([
    ['CN=tencent;CN=twilio', /CN has two routes/],
    ['CN:tencent', /is not REGIONS=PROVIDERS/],
    ['CHN=console', /two-letter regions/],
    ['CN=sms77', /comma list of console, tencent, aliyun, twilio/],
    ['CN=console,console', /names a provider twice/],
    ['*,CN=console', /two-letter regions, nor \*/],
  ])('refuses %s, naming SMS_ROUTES', (value, message) => {
    expect(() => load(value)).toThrow(/SMS_ROUTES: /);
    expect(() => load(value)).toThrow(message);
  });
});
