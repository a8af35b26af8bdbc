import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifyTestApp, expectTwilioError, basic, verifyBackends, type VerifyTestApp } from './harness.js';

const TO = '+8613800138000';
const SID = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

describe.each(verifyBackends())('Verify API ($name)', ({ env }) => {
  let t: VerifyTestApp;
  let service: string;
  let phoneSeq = 0;
  /** A fresh number per test, so the per-number limits of one test do not reach the next. */
  const nextPhone = () => `+86139001${String(39000 + phoneSeq++).padStart(5, '0')}`;
  const start = (to: string, fields: Record<string, unknown> = {}, svc = service) =>
    t.call('POST', `/v2/Services/${svc}/Verifications`, { To: to, Channel: 'sms', ...fields });
  const check = (fields: Record<string, unknown>, svc = service) => t.call('POST', `/v2/Services/${svc}/VerificationCheck`, fields);
  const codeFor = (to: string) => /(\d{6})/.exec(t.sms.sent.filter((m) => m.to === to).at(-1)?.text ?? '')?.[1] ?? '';
  const wrong = (code: string) => (code === '000000' ? '111111' : '000000');
  const afterCooldown = () => t.clock.advance(61_000);

  beforeAll(async () => {
    t = await createVerifyTestApp({ env: { ...(await env()), FAILED_CHECKS_PER_PHONE_HOURLY: '10', SMS_PER_PHONE_HOURLY: '20', SMS_PER_PHONE_DAILY: '50' } });
    service = await t.createService({ FriendlyName: 'Acme Shop' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a missing, malformed, unknown or wrong key with 401 20003, and sends nothing', async () => {
    const before = t.sms.sent.length;
    const [keySid] = [t.keySid];
    for (const auth of [null, 'Bearer x', 'Basic !!!', basic('SKnotasid', 'x'), basic(`SK${'0'.repeat(32)}`, 'x'), basic(keySid, 'wrong secret'), basic(keySid, '')]) {
      const res = await t.call('POST', `/v2/Services/${service}/Verifications`, { To: TO, Channel: 'sms' }, { auth });
      expectTwilioError(res, 20003, 401, String(auth));
    }
    expect(t.sms.sent.length).toBe(before);
  });

  it('services: create, fetch, list, update and delete, with Twilio fields', async () => {
    const created = await t.call('POST', '/v2/Services', { FriendlyName: 'My App', CodeLength: 8, Psd2Enabled: false, DoNotShareWarningEnabled: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      friendly_name: 'My App',
      code_length: 8,
      psd2_enabled: false,
      do_not_share_warning_enabled: true,
      account_sid: t.services.accountSid,
    });
    expect(created.body.sid).toMatch(SID('VA'));
    expect(created.body.account_sid).toMatch(SID('AC'));
    expect(created.body.url).toMatch(new RegExp(`/v2/Services/${created.body.sid}$`));
    const sid = created.body.sid as string;
    expect((await t.call('GET', `/v2/Services/${sid}`)).body.friendly_name).toBe('My App');
    expect((await t.call('GET', '/v2/Services')).body.services.map((s: { sid: string }) => s.sid)).toContain(sid);
    const updated = await t.call('POST', `/v2/Services/${sid}`, { FriendlyName: 'Renamed', CodeLength: 4 });
    expect(updated.body).toMatchObject({ friendly_name: 'Renamed', code_length: 4, do_not_share_warning_enabled: true });
    expect((await t.call('DELETE', `/v2/Services/${sid}`)).status).toBe(204);
    expectTwilioError(await t.call('GET', `/v2/Services/${sid}`), 20404, 404);
    expectTwilioError(await t.call('DELETE', `/v2/Services/${sid}`), 20404, 404);
  });

  it('services: FriendlyName is required and CodeLength is 4 to 10', async () => {
    expectTwilioError(await t.call('POST', '/v2/Services', { CodeLength: 6 }), 60200, 400);
    for (const CodeLength of [3, 11, 'six', 6.5]) {
      const res = await t.call('POST', '/v2/Services', { FriendlyName: 'x', CodeLength });
      expectTwilioError(res, 60200, 400, String(CodeLength));
      expect(res.body.message).toContain('CodeLength');
    }
  });

  it('start and check: a wrong code stays pending, the right one approves once', async () => {
    const to = nextPhone();
    const started = await start(to);
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ service_sid: service, to, channel: 'sms', status: 'pending', valid: false, amount: null, payee: null });
    expect(started.body.sid).toMatch(SID('VE'));
    expect(started.body.send_code_attempts).toHaveLength(1);
    expect(started.body.send_code_attempts[0]).toMatchObject({ channel: 'sms' });
    expect(t.sms.sent.at(-1)!.text).toContain('Acme Shop');
    const code = codeFor(to);

    const miss = await check({ To: to, Code: wrong(code) });
    expect(miss.status).toBe(200);
    expect(miss.body).toMatchObject({ status: 'pending', valid: false, sid: started.body.sid });
    const hit = await check({ To: to, Code: code });
    expect(hit.status).toBe(200);
    expect(hit.body).toMatchObject({ status: 'approved', valid: true, sid: started.body.sid });
    expectTwilioError(await check({ To: to, Code: code }), 20404, 404, 'approved already');
    expect((await t.call('GET', `/v2/Services/${service}/Verifications/${started.body.sid}`)).body).toMatchObject({ status: 'approved', valid: true });
  });

  it('a JSON body works like a form body, and CustomFriendlyName and Locale shape the SMS', async () => {
    const to = nextPhone();
    const res = await t.call('POST', `/v2/Services/${service}/Verifications`, { To: to, Channel: 'sms', Locale: 'en', CustomFriendlyName: 'Acme Pay' }, { json: true });
    expect(res.status).toBe(201);
    expect(t.sms.sent.at(-1)!.text).toMatch(/^\[Acme Pay\] Your verification code is \d{6}/);
    expect((await check({ VerificationSid: res.body.sid, Code: codeFor(to) })).body.status).toBe('approved');
  });

  it('starting again for a pending number resends on the same verification, after the cooldown and up to five sends', async () => {
    const to = nextPhone();
    const first = await start(to);
    const early = await start(to);
    expectTwilioError(early, 60212, 429, 'inside the cooldown');
    expect(Number(early.headers['retry-after'])).toBeGreaterThan(0);
    for (let n = 2; n <= 5; n++) {
      afterCooldown();
      const again = await start(to);
      expect(again.status).toBe(201);
      expect(again.body.sid).toBe(first.body.sid);
      expect(again.body.send_code_attempts).toHaveLength(n);
    }
    afterCooldown();
    expectTwilioError(await start(to), 60203, 429, 'sixth send');
    // Only the newest code is valid.
    expect((await check({ To: to, Code: codeFor(to) })).body.status).toBe('approved');
  });

  it('after MAX_CHECK_ATTEMPTS wrong codes the next check answers 60202, whatever the code', async () => {
    const to = nextPhone();
    await start(to);
    const code = codeFor(to);
    for (let i = 0; i < 5; i++) expect((await check({ To: to, Code: wrong(code) })).body.valid).toBe(false);
    expectTwilioError(await check({ To: to, Code: code }), 60202, 429);
  });

  it('a wrong-code flood is locked out across resends: a fresh code does not reset the budget', async () => {
    const to = nextPhone();
    await start(to);
    for (let i = 0; i < 5; i++) await check({ To: to, Code: wrong(codeFor(to)) });
    afterCooldown();
    expect((await start(to)).status).toBe(201);
    for (let i = 0; i < 5; i++) await check({ To: to, Code: wrong(codeFor(to)) });
    afterCooldown();
    expect((await start(to)).status).toBe(201);
    // FAILED_CHECKS_PER_PHONE_HOURLY (10) wrong codes spent: even the right code is refused this hour.
    const locked = await check({ To: to, Code: codeFor(to) });
    expectTwilioError(locked, 60202, 429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('a 20-way concurrent check of one code approves exactly once', async () => {
    const to = nextPhone();
    const started = await start(to);
    const code = codeFor(to);
    const results = await Promise.all(Array.from({ length: 20 }, () => check({ VerificationSid: started.body.sid, Code: code })));
    expect(results.filter((r) => r.status === 200 && r.body.status === 'approved')).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expect([20404, 60202]).toContain(r.body.code);
    expect((await t.call('GET', `/v2/Services/${service}/Verifications/${started.body.sid}`)).body.status).toBe('approved');
  });

  it('cancel and approve by update; a finished verification is 20404 to checks and updates', async () => {
    const to = nextPhone();
    const started = await start(to);
    const code = codeFor(to);
    const canceled = await t.call('POST', `/v2/Services/${service}/Verifications/${started.body.sid}`, { Status: 'canceled' });
    expect(canceled.body).toMatchObject({ status: 'canceled', valid: false });
    expectTwilioError(await check({ To: to, Code: code }), 20404, 404, 'canceled');
    expectTwilioError(await check({ VerificationSid: started.body.sid, Code: code }), 20404, 404, 'canceled, by sid');
    expectTwilioError(await t.call('POST', `/v2/Services/${service}/Verifications/${started.body.sid}`, { Status: 'approved' }), 20404, 404);

    const other = nextPhone();
    const second = await start(other);
    expectTwilioError(await t.call('POST', `/v2/Services/${service}/Verifications/${second.body.sid}`, { Status: 'done' }), 60200, 400);
    const approved = await t.call('POST', `/v2/Services/${service}/Verifications/${second.body.sid}`, { Status: 'approved' });
    expect(approved.body).toMatchObject({ status: 'approved', valid: true });
    expectTwilioError(await check({ To: other, Code: codeFor(other) }), 20404, 404, 'approved by update');
  });

  it('an expired verification is 20404 and reads as expired', async () => {
    const to = nextPhone();
    const started = await start(to);
    t.clock.advance(301_000);
    expectTwilioError(await check({ To: to, Code: codeFor(to) }), 20404, 404);
    expect((await t.call('GET', `/v2/Services/${service}/Verifications/${started.body.sid}`)).body.status).toBe('expired');
  });

  it("another service's verification is not found, and its code does not pass in this service", async () => {
    const other = await t.createService({ FriendlyName: 'Other' });
    const to = nextPhone();
    const started = await start(to, {}, other);
    const code = codeFor(to);
    expectTwilioError(await t.call('GET', `/v2/Services/${service}/Verifications/${started.body.sid}`), 20404, 404);
    expectTwilioError(await check({ VerificationSid: started.body.sid, Code: code }), 20404, 404);
    expectTwilioError(await check({ To: to, Code: code }), 20404, 404);
    expect((await check({ To: to, Code: code }, other)).body.status).toBe('approved');
  });

  it('PSD2: Amount and Payee are required, written into the SMS and bound into the code', async () => {
    const psd2 = await t.createService({ FriendlyName: 'Bank', Psd2Enabled: true });
    const to = nextPhone();
    expectTwilioError(await start(to, {}, psd2), 60200, 400, 'no amount');
    expect((await start(to, { Amount: '€39.99', Payee: 'Acme Shop' }, psd2)).status).toBe(201);
    expect(t.sms.sent.at(-1)!.text).toContain('€39.99');
    expect(t.sms.sent.at(-1)!.text).toContain('Acme Shop');
    const code = codeFor(to);
    expectTwilioError(await check({ To: to, Code: code }, psd2), 60200, 400, 'check without the payment');
    const otherPayment = await check({ To: to, Code: code, Amount: '€3999.00', Payee: 'Acme Shop' }, psd2);
    expect(otherPayment.body).toMatchObject({ status: 'pending', valid: false });
    const right = await check({ To: to, Code: code, Amount: '€39.99', Payee: 'Acme Shop' }, psd2);
    expect(right.body).toMatchObject({ status: 'approved', valid: true, amount: '€39.99', payee: 'Acme Shop' });
  });

  it('a channel other than sms, a bad To or Locale get 60200 naming the parameter', async () => {
    const channel = await start(nextPhone(), { Channel: 'call' });
    expectTwilioError(channel, 60200, 400);
    expect(channel.body.message).toBe('Invalid parameter: Channel');
    for (const To of ['13800138000', '+86', '+861380013800', '+8602087654321', 'abc']) {
      const res = await start(To);
      expectTwilioError(res, 60200, 400, To);
      expect(res.body.message).toBe('Invalid parameter: To');
    }
    expect((await start(nextPhone(), { Locale: 'fr' })).body.message).toBe('Invalid parameter: Locale');
  });

  it('a provider failure is 503 20503 and leaves nothing to check', async () => {
    const to = nextPhone();
    t.sms.failWith('unavailable');
    try {
      expectTwilioError(await start(to), 20503, 503);
    } finally {
      t.sms.failWith(undefined);
    }
    expectTwilioError(await check({ To: to, Code: '123456' }), 20404, 404);
    // No cooldown left behind either.
    expect((await start(to)).status).toBe(201);
  });

  it('the end-user API keeps its own error shape next to the Verify API', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/sms/send', payload: { phone: 'x', purpose: 'login' } });
    expect(res.json().error.code).toBe('invalid_phone');
    const notFound = await t.app.inject({ method: 'GET', url: '/api/nothing' });
    expect(notFound.json().error.code).toBe('not_found');
    expectTwilioError(await t.call('GET', '/v2/Nothing'), 20404, 404);
  });
});
