import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { PASSWORD, PHONE, post } from '../helpers/app.js';
import type { NumberFailureKind, OutageKind, ProviderHarness } from './harnesses.js';
import { CALLBACK_TOKEN, createProviderTestApp, type ProviderTestApp } from './provider-app.js';

const FULL_NUMBER = PHONE.slice(3);

/** What the client must get for each failure class: the catalogue's answer and nothing more. */
const EXPECTED = {
  invalid_number: { status: 400, error: { code: 'invalid_phone', message: ERRORS.invalid_phone.message, field: 'phone' } },
  rate_limited: { status: 429, error: { code: 'rate_limited', message: ERRORS.rate_limited.message } },
  rejected: { status: 502, error: { code: 'sms_send_failed', message: ERRORS.sms_send_failed.message } },
  unavailable: { status: 502, error: { code: 'sms_send_failed', message: ERRORS.sms_send_failed.message } },
} as const;

/** No pending code (code_invalid without attemptsLeft) and no cooldown (a new send goes out at once). */
async function expectNothingLeftBehind(t: ProviderTestApp, harness: ProviderHarness): Promise<void> {
  const check = await post(t.app, '/api/register', { phone: PHONE, code: '000000', password: PASSWORD });
  expect(check.body).toEqual({ error: { code: 'code_invalid', message: ERRORS.code_invalid.message, field: 'code' } });
  harness.setOutage(undefined);
  harness.failNumber(PHONE, undefined);
  expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
}

/** Logs may carry the provider's code, never the full number. */
function expectCleanLogs(t: ProviderTestApp): void {
  expect(JSON.stringify(t.logs)).not.toContain(FULL_NUMBER);
}

/**
 * The contract every real SMS provider meets, driven through the HTTP API with the provider
 * built from the config and pointed at its fake. Run it for a new provider by writing a harness.
 */
export function describeSmsProviderConformance(makeHarness: () => Promise<ProviderHarness>): void {
  let harness: ProviderHarness;
  let t: ProviderTestApp | undefined;
  const app = async (env: Record<string, string> = {}) => {
    t = await createProviderTestApp({ ...harness.env, ...env });
    return t;
  };

  beforeAll(async () => {
    harness = await makeHarness();
  });
  afterAll(async () => {
    await harness.close();
  });
  afterEach(async () => {
    harness.setOutage(undefined);
    harness.failNumber(PHONE, undefined);
    await t?.close();
    t = undefined;
  });

  it('sends a correctly signed SMS the fake accepts, and the whole sign-up works with its code', async () => {
    const t = await app();
    const sent = await post(t.app, '/api/sms/send', { phone: '13800138000', purpose: 'register' });
    expect(sent).toMatchObject({ status: 200, body: { sent: true, expiresIn: 300, resendAfter: 60 } });
    const code = harness.lastCode(PHONE);
    expect(code).toMatch(/^\d{6}$/);

    const registered = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(registered.status).toBe(201);
    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${registered.body.token}` } });
    expect(me.json().user.phone).toBe(PHONE);

    // The message log has the attempt, with the provider's id and without the code.
    const rows = (await t.messageRows());
    expect(rows).toEqual([
      expect.objectContaining({
        provider: harness.name,
        provider_message_id: harness.lastProviderMessageId(PHONE),
        phone: PHONE,
        purpose: 'register',
        status: 'sent',
        error_code: null,
      }),
    ]);
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(JSON.stringify(t.logs)).not.toContain(code);
    expectCleanLogs(t);
  });

  it('is refused with a wrong key: 502 sms_send_failed, the provider code only in the log', async () => {
    const t = await app(harness.wrongKey.env);
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect({ status: res.status, ...res.body }).toEqual(EXPECTED.rejected);
    expect(JSON.stringify(res.body)).not.toContain(harness.wrongKey.providerCode);
    expect(t.logs.some((l) => l.providerCode === harness.wrongKey.providerCode && l.kind === 'rejected')).toBe(true);
    expect((await t.messageRows())).toEqual([expect.objectContaining({ status: 'failed', error_code: harness.wrongKey.providerCode })]);
    expectCleanLogs(t);
  });

  for (const kind of ['invalid_number', 'rate_limited', 'rejected'] as const satisfies NumberFailureKind[]) {
    it(`maps a per-number ${kind} answer to ${EXPECTED[kind].status} ${EXPECTED[kind].error.code}, leaving no code and no cooldown`, async (ctx) => {
      const providerCode = harness.numberFailures[kind];
      if (!providerCode) return ctx.skip();
      const t = await app();
      harness.failNumber(PHONE, kind);
      const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
      expect({ status: res.status, ...res.body }).toEqual(EXPECTED[kind]);
      expect(JSON.stringify(res.body)).not.toContain(providerCode);
      expect(res.headers['retry-after']).toBeUndefined();
      expect(t.logs.some((l) => l.providerCode === providerCode && l.kind === kind)).toBe(true);
      expect((await (await t.messageRows()))[0]).toMatchObject({ status: 'failed', error_code: providerCode });
      await expectNothingLeftBehind(t, harness);
      expectCleanLogs(t);
    });
  }

  for (const [outage, kind] of [
    ['rejected', 'rejected'],
    ['http_5xx', 'unavailable'],
    ['bad_body', 'unavailable'],
  ] as const satisfies [OutageKind, keyof typeof EXPECTED][]) {
    it(`maps a request-level ${outage} failure to 502 sms_send_failed, leaving no code and no cooldown`, async () => {
      const t = await app();
      harness.setOutage(outage);
      const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
      expect({ status: res.status, ...res.body }).toEqual(EXPECTED[kind]);
      expect(JSON.stringify(res.body)).not.toMatch(/upstream|gateway|told to fail/);
      expect(t.logs.some((l) => l.kind === kind && (outage !== 'rejected' || l.providerCode === harness.rejectedCode))).toBe(true);
      await expectNothingLeftBehind(t, harness);
      expectCleanLogs(t);
    });
  }

  it('gives up on a hung provider within SMS_PROVIDER_TIMEOUT_MS and closes the connection', async () => {
    const t = await app({ SMS_PROVIDER_TIMEOUT_MS: '400' });
    harness.setOutage('hang');
    const started = Date.now();
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect({ status: res.status, ...res.body }).toEqual(EXPECTED.unavailable);
    // Generous bound for a busy 2-core machine; the point is seconds, not the SDK's 60 s.
    expect(Date.now() - started).toBeLessThan(3000);
    // The abort reached the socket: the fake sees its hung request closed.
    await harness.hungRequestClosed();
    await expectNothingLeftBehind(t, harness);
  });

  it('is reached through failover when the provider before it is down', async () => {
    const other = harness.name === 'tencent' ? 'aliyun' : 'tencent';
    const { aliyunHarnessDeadEnv, tencentHarnessDeadEnv } = DEAD_ENVS;
    const dead = other === 'tencent' ? tencentHarnessDeadEnv : aliyunHarnessDeadEnv;
    const t = await app({ ...dead, SMS_PROVIDER: `${other},${harness.name}` });
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(res.status).toBe(200);
    expect(harness.lastCode(PHONE)).toMatch(/^\d{6}$/);
    expect((await t.messageRows())).toEqual([
      expect.objectContaining({ provider: other, status: 'failed', error_code: 'unavailable' }),
      expect.objectContaining({ provider: harness.name, status: 'sent' }),
    ]);
    expect(t.logs.some((l) => l.msg === 'sms provider failed, trying the next one' && l.provider === other)).toBe(true);
  });

  it('takes delivery reports into the message log, behind the callback token', async (ctx) => {
    const reports = harness.deliveryReports;
    if (!reports) return ctx.skip();
    const t = await app();
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
    const delivered = harness.lastProviderMessageId(PHONE);
    expect((await post(t.app, '/api/sms/send', { phone: '+8613900139000', purpose: 'register' })).status).toBe(200);
    const lost = harness.lastProviderMessageId('+8613900139000');

    const wrong = await post(t.app, `/api/sms/callback/${reports.route}/not-the-token-0123456789`, reports.body(delivered, true));
    expect(wrong.status).toBe(404);
    expect((await t.messageRows()).map((r) => r.status)).toEqual(['sent', 'sent']);

    const ok = await post(t.app, `/api/sms/callback/${reports.route}/${CALLBACK_TOKEN}`, reports.body(delivered, true));
    expect(ok).toMatchObject({ status: 200, body: reports.answer });
    const failed = await post(t.app, `/api/sms/callback/${reports.route}/${CALLBACK_TOKEN}`, reports.body(lost, false));
    expect(failed).toMatchObject({ status: 200, body: reports.answer });
    // A report for a message we never sent is acknowledged, so the provider stops retrying it.
    const unknown = await post(t.app, `/api/sms/callback/${reports.route}/${CALLBACK_TOKEN}`, reports.body('no-such-message', true));
    expect(unknown).toMatchObject({ status: 200, body: reports.answer });

    expect((await t.messageRows())).toEqual([
      expect.objectContaining({ provider_message_id: delivered, status: 'delivered', error_code: null }),
      expect.objectContaining({ provider_message_id: lost, status: 'undelivered', error_code: reports.undeliveredCode }),
    ]);
    expect(JSON.stringify(t.logs)).not.toContain(CALLBACK_TOKEN);
  });
}

/** Dead endpoints of the two providers the failover test puts in front of the one under test. */
const DEAD_ENVS = {
  tencentHarnessDeadEnv: {
    TENCENTCLOUD_SECRET_ID: 'AKIDdeaddeaddeaddeaddead',
    TENCENTCLOUD_SECRET_KEY: 'dead-key-0123456789',
    TENCENT_SMS_SDK_APP_ID: '1400000000',
    TENCENT_SMS_SIGN_NAME: 'dead',
    TENCENT_SMS_TEMPLATE_ID: '1',
    TENCENT_SMS_ENDPOINT: 'http://127.0.0.1:1',
  },
  aliyunHarnessDeadEnv: {
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIdeaddeaddead',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'dead-secret-0123456789',
    ALIYUN_SMS_SIGN_NAME: 'dead',
    ALIYUN_SMS_TEMPLATE_CODE: 'SMS_1',
    ALIYUN_SMS_ENDPOINT: 'http://127.0.0.1:1',
  },
};
