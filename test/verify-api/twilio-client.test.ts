import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifyTestApp, type VerifyTestApp } from './harness.js';

/**
 * The official `twilio` package, unpatched, driving the running server. Its documented
 * `httpClient` option is the only change: this client sends Twilio's requests to our base URL
 * instead of https://verify.twilio.com (the same lines as in docs/verify-api.md).
 */
function selfHostedHttpClient(baseUrl: string) {
  return {
    async request(opts: { method: string; uri: string; username?: string; password?: string; headers?: Record<string, string>; params?: object; data?: object }) {
      const url = new URL(opts.uri.replace(/^https:\/\/verify\.twilio\.com/, baseUrl));
      for (const [k, v] of Object.entries(opts.params ?? {})) url.searchParams.set(k, String(v));
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.username) headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
      const body = opts.data ? new URLSearchParams(Object.entries(opts.data).map(([k, v]) => [k, String(v)] as [string, string])).toString() : undefined;
      const res = await fetch(url, { method: opts.method.toUpperCase(), headers, body });
      return { statusCode: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
    },
  };
}

describe('the official twilio client against the running server', () => {
  let t: VerifyTestApp;
  let client: ReturnType<typeof twilio>;
  const TO = '+8613800138088';

  beforeAll(async () => {
    t = await createVerifyTestApp({ env: { SMS_ALLOWED_COUNTRIES: 'CN' } });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const key = await t.services.apiKeys.create('twilio client');
    client = twilio(key.sid, key.secret, { accountSid: key.accountSid, httpClient: selfHostedHttpClient(address) as never });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The client's RestException, with Twilio's code and status. */
  async function restError(call: Promise<unknown>) {
    const err = (await call.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: number; status?: number; moreInfo?: string; constructor: { name: string } } | undefined;
    expect(err?.constructor.name).toBe('RestException');
    return { code: err?.code, status: err?.status, moreInfo: err?.moreInfo };
  }

  it('creates a service, starts a verification, checks a wrong and a right code, fetches and cancels', async () => {
    const service = await client.verify.v2.services.create({ friendlyName: 'Acme', codeLength: 6 });
    expect(service.sid).toMatch(/^VA[0-9a-f]{32}$/);
    expect(service.friendlyName).toBe('Acme');
    expect(service.codeLength).toBe(6);
    expect((await client.verify.v2.services(service.sid).fetch()).friendlyName).toBe('Acme');
    expect((await client.verify.v2.services.list()).map((s) => s.sid)).toContain(service.sid);
    expect((await client.verify.v2.services(service.sid).update({ friendlyName: 'Acme Shop' })).friendlyName).toBe('Acme Shop');

    const verification = await client.verify.v2.services(service.sid).verifications.create({ to: TO, channel: 'sms' });
    expect(verification.sid).toMatch(/^VE[0-9a-f]{32}$/);
    expect(verification.status).toBe('pending');
    expect(verification.sendCodeAttempts).toHaveLength(1);
    const code = t.sms.lastCode(TO);
    expect(t.sms.sent.at(-1)!.text).toContain('Acme Shop');

    const wrong = await client.verify.v2.services(service.sid).verificationChecks.create({ to: TO, code: code === '000000' ? '111111' : '000000' });
    expect({ status: wrong.status, valid: wrong.valid }).toEqual({ status: 'pending', valid: false });
    const right = await client.verify.v2.services(service.sid).verificationChecks.create({ verificationSid: verification.sid, code });
    expect({ status: right.status, valid: right.valid }).toEqual({ status: 'approved', valid: true });
    expect((await client.verify.v2.services(service.sid).verifications(verification.sid).fetch()).status).toBe('approved');

    const second = await client.verify.v2.services(service.sid).verifications.create({ to: '+8613800138089', channel: 'sms' });
    const canceled = await client.verify.v2.services(service.sid).verifications(second.sid).update({ status: 'canceled' });
    expect(canceled.status).toBe('canceled');

    expect(await client.verify.v2.services(service.sid).remove()).toBe(true);
  });

  it('every error arrives as the client\'s RestException with Twilio\'s code and status', async () => {
    const service = await client.verify.v2.services.create({ friendlyName: 'Errors' });
    const verifications = client.verify.v2.services(service.sid).verifications;
    const checks = client.verify.v2.services(service.sid).verificationChecks;

    expect(await restError(client.verify.v2.services(`VA${'0'.repeat(32)}`).fetch())).toMatchObject({ code: 20404, status: 404 });
    expect(await restError(verifications.create({ to: TO, channel: 'whatsapp' }))).toMatchObject({ code: 60200, status: 400 });
    expect(await restError(verifications.create({ to: '+14155550123', channel: 'sms' }))).toMatchObject({ code: 60605, status: 403 });
    expect(await restError(client.verify.v2.services.create({ friendlyName: 'x', codeLength: 12 }))).toMatchObject({ code: 60200, status: 400 });

    const to = '+8613800138090';
    await verifications.create({ to, channel: 'sms' });
    expect(await restError(verifications.create({ to, channel: 'sms' }))).toMatchObject({ code: 60212, status: 429 });
    const code = t.sms.lastCode(to);
    for (let i = 0; i < 5; i++) await checks.create({ to, code: code === '000000' ? '111111' : '000000' });
    expect(await restError(checks.create({ to, code }))).toMatchObject({
      code: 60202,
      status: 429,
      moreInfo: 'https://www.twilio.com/docs/errors/60202',
    });
    expect(await restError(checks.create({ to: '+8613800138091', code: '123456' }))).toMatchObject({ code: 20404, status: 404 });

    const bad = twilio(`SK${'0'.repeat(32)}`, 'not the secret', {
      accountSid: t.services.accountSid,
      httpClient: selfHostedHttpClient(`http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`) as never,
    });
    expect(await restError(bad.verify.v2.services.list())).toMatchObject({ code: 20003, status: 401 });
  });
});
