import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CAPTCHA_TEXT, createTestApp, PHONE, post, registerUser, type TestApp } from '../helpers/app.js';

describe('POST /api/sms/send', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('sends a 6-digit code and answers with its lifetime and cooldown', async () => {
    const res = await post(t.app, '/api/sms/send', { phone: '138 0013 8000', purpose: 'register' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sent: true, expiresIn: 300, resendAfter: 60 });
    expect(t.sms.sent).toHaveLength(1);
    const [message] = t.sms.sent;
    expect(message?.to).toBe(PHONE);
    expect(message?.code).toMatch(/^\d{6}$/);
    expect(message?.text).toBe(`【sms-verify】您的注册验证码是${message?.code}，5分钟内有效，请勿泄露给他人。`);
  });

  it.each(['13800138000', '+8613800138000', '+86 138 0013 8000'])('accepts %s as the same number', async (phone) => {
    expect((await post(t.app, '/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    expect(t.sms.sent[0]?.to).toBe(PHONE);
  });

  it.each(['12345', '02012345678', '1380013800a', '+999123', ''])('answers invalid_phone for %j', async (phone) => {
    const res = await post(t.app, '/api/sms/send', { phone, purpose: 'register' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(phone === '' ? 'invalid_request' : 'invalid_phone');
    expect(t.sms.sent).toHaveLength(0);
  });

  it.each([
    ['an unknown purpose', { phone: PHONE, purpose: 'admin' }],
    ['a number instead of a string', { phone: 13800138000, purpose: 'register' }],
    ['a missing purpose', { phone: PHONE }],
    ['an array body', [PHONE]],
  ])('answers invalid_request for %s', async (_label, body) => {
    const res = await post(t.app, '/api/sms/send', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });

  it('answers invalid_request for malformed JSON and for a form body', async () => {
    const broken = await t.app.inject({ method: 'POST', url: '/api/sms/send', payload: '{"phone":', headers: { 'content-type': 'application/json' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('invalid_request');
    const form = await t.app.inject({ method: 'POST', url: '/api/sms/send', payload: 'phone=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.statusCode).toBe(400);
    expect(form.json().error.code).toBe('invalid_request');
    const text = await t.app.inject({ method: 'POST', url: '/api/sms/send', payload: '{}', headers: { 'content-type': 'text/plain' } });
    expect(text.json().error.code).toBe('invalid_request');
  });

  it('answers payload_too_large for a body over 16 KiB', async () => {
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register', pad: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('enforces the resend cooldown per phone and purpose, with Retry-After', async () => {
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
    t.clock.advance(20_000);
    const again = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(again.status).toBe(429);
    expect(again.body.error).toMatchObject({ code: 'rate_limited', retryAfter: 40 });
    expect(again.headers['retry-after']).toBe('40');
    // Another number is not affected.
    expect((await post(t.app, '/api/sms/send', { phone: '+8613900139000', purpose: 'register' })).status).toBe(200);
    t.clock.advance(40_000);
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
  });

  it('applies the send rules of each purpose', async () => {
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'login' })).body.error.code).toBe('phone_not_registered');
    const reset = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'reset_password' });
    expect(reset.status).toBe(404);
    expect(reset.body.error.code).toBe('phone_not_registered');
    const change = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'change_phone' });
    expect(change.status).toBe(401);
    expect(change.body.error.code).toBe('unauthorized');

    const token = await registerUser(t);
    const taken = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('phone_taken');
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'login' })).status).toBe(200);
    const authorization = `Bearer ${token}`;
    expect((await post(t.app, '/api/sms/send', { phone: '+8613900139000', purpose: 'change_phone' }, { authorization })).status).toBe(200);
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'change_phone' }, { authorization })).body.error.code).toBe('phone_taken');
  });

  it.each([
    ['invalid_number', 400, 'invalid_phone'],
    ['rate_limited', 429, 'rate_limited'],
    ['rejected', 502, 'sms_send_failed'],
    ['unavailable', 502, 'sms_send_failed'],
  ] as const)('maps a provider %s failure to %i %s, leaving no code and no cooldown', async (kind, status, code) => {
    t.sms.failWith(kind);
    const failed = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(failed.status).toBe(status);
    expect(failed.body.error.code).toBe(code);
    expect(JSON.stringify(failed.body)).not.toMatch(/Fake\.Failure|req-fake/);
    // The log has the provider's own code for the operator.
    expect(t.logs.some((l) => l.providerCode === 'Fake.Failure' && l.requestId === 'req-fake')).toBe(true);
    // No cooldown: the next send goes out at once.
    t.sms.failWith(undefined);
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
  });

  it('gives up on a hung provider within SMS_PROVIDER_TIMEOUT_MS', async () => {
    await t.close();
    t = await createTestApp({ env: { SMS_PROVIDER_TIMEOUT_MS: '300' } });
    t.sms.failWith('hang');
    const started = Date.now();
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('sms_send_failed');
    expect(Date.now() - started).toBeLessThan(2000);
    // The aborted send left nothing behind: a code typed now is "no pending code".
    const check = await post(t.app, '/api/register', { phone: PHONE, code: '123456', password: 'long enough pw' });
    expect(check.body.error).toEqual({ code: 'code_invalid', message: expect.any(String), field: 'code' });
  });
});

describe('image captcha', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { CAPTCHA: 'image' } });
  });
  afterEach(async () => {
    await t.close();
  });

  async function newCaptcha() {
    const res = await t.app.inject({ method: 'GET', url: '/api/captcha' });
    expect(res.statusCode).toBe(200);
    return res.json() as { captchaId: string; image: string; expiresIn: number };
  }

  it('returns a PNG image of 200×64 with an id and a 5-minute lifetime', async () => {
    const captcha = await newCaptcha();
    expect(captcha.expiresIn).toBe(300);
    expect(captcha.image).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(captcha.image.split(',')[1] ?? '', 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([200, 64]);
  });

  it('refuses to send without an answer', async () => {
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('captcha_required');
    expect(t.sms.sent).toHaveLength(0);
  });

  it('accepts the answer in any case, once', async () => {
    const { captchaId } = await newCaptcha();
    const body = { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: CAPTCHA_TEXT.toLowerCase() };
    expect((await post(t.app, '/api/sms/send', body)).status).toBe(200);
    t.clock.advance(61_000);
    const reused = await post(t.app, '/api/sms/send', body);
    expect(reused.status).toBe(400);
    expect(reused.body.error.code).toBe('captcha_invalid');
  });

  it('burns the captcha on a wrong answer', async () => {
    const { captchaId } = await newCaptcha();
    const wrong = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: 'WWWW' });
    expect(wrong.body.error.code).toBe('captcha_invalid');
    const right = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: CAPTCHA_TEXT });
    expect(right.body.error.code).toBe('captcha_invalid');
    expect(t.sms.sent).toHaveLength(0);
  });

  it('expires after 5 minutes', async () => {
    const { captchaId } = await newCaptcha();
    t.clock.advance(300_000);
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: CAPTCHA_TEXT });
    expect(res.body.error.code).toBe('captcha_invalid');
  });

  it('keeps the captcha when the number is mistyped', async () => {
    const { captchaId } = await newCaptcha();
    const typo = await post(t.app, '/api/sms/send', { phone: '1380013800', purpose: 'register', captchaId, captchaAnswer: CAPTCHA_TEXT });
    expect(typo.body.error.code).toBe('invalid_phone');
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register', captchaId, captchaAnswer: CAPTCHA_TEXT })).status).toBe(200);
  });

  it('tells the pages which captcha is on', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/config' });
    expect(res.json()).toEqual({ captcha: 'image', codeLength: 6, defaultRegion: 'CN', countries: [{ region: 'CN', callingCode: '86' }] });
  });
});

describe('a URL the router cannot decode', () => {
  it('answers invalid_request in the documented shape', async () => {
    const t = await createTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/api/%zz' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
    } finally {
      await t.close();
    }
  });
});
