import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestApp, PHONE, type TestApp } from '../helpers/app.js';
import { postFrom } from './helpers.js';

const SECRET = 'fake-siteverify-secret';
const SITE_KEY = 'fake-site-key';

/**
 * A local stand-in for Cloudflare's and hCaptcha's siteverify: it checks the form-encoded secret
 * like the real one, accepts tokens that start with "good-" (once each, as the providers do), and
 * can be told to fail, to hang, or to answer garbage.
 */
function fakeSiteverify() {
  const seen = new Set<string>();
  const calls: URLSearchParams[] = [];
  let mode: 'ok' | 'down' | 'hang' | 'garbage' = 'ok';
  const readForm = (req: IncomingMessage) =>
    new Promise<URLSearchParams>((resolve) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => resolve(new URLSearchParams(body)));
    });
  const server: Server = createServer(async (req, res) => {
    const form = await readForm(req);
    calls.push(form);
    if (mode === 'hang') return; // never answers; the client must give up on its own
    if (mode === 'down') return void res.writeHead(502).end('bad gateway');
    if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>challenge</html>');
    const json = (body: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return json({ success: false, 'error-codes': ['bad-request'] });
    if (form.get('secret') !== SECRET) return json({ success: false, 'error-codes': ['invalid-input-secret'] });
    const token = form.get('response') ?? '';
    if (!token.startsWith('good-') || seen.has(token)) return json({ success: false, 'error-codes': ['timeout-or-duplicate'] });
    seen.add(token);
    return json({ success: true, challenge_ts: new Date().toISOString(), hostname: 'localhost', 'error-codes': [] });
  });
  return {
    calls,
    setMode: (m: typeof mode) => void (mode = m),
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/siteverify`;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

for (const kind of ['turnstile', 'hcaptcha'] as const) {
  describe(`CAPTCHA=${kind}`, () => {
    const verifier = fakeSiteverify();
    let url: string;
    let t: TestApp;
    beforeAll(async () => {
      url = await verifier.start();
    });
    afterAll(async () => {
      await verifier.stop();
    });
    afterEach(async () => {
      verifier.setMode('ok');
      verifier.calls.length = 0;
      await t.close();
    });
    const start = (secret = SECRET, extra: Record<string, string> = {}) =>
      createTestApp({
        // The default deadline (5 s): 300 ms, which only the hang case needs, failed answering sends on a loaded machine.
        env: { CAPTCHA: kind, CAPTCHA_SECRET: secret, CAPTCHA_SITE_KEY: SITE_KEY, CAPTCHA_VERIFY_URL: url, ...extra },
      });
    const send = (body: object, phone = PHONE) => postFrom(t.app, '203.0.113.20', '/api/sms/send', { phone, purpose: 'register', ...body });

    it('publishes the kind and site key for the widget, and has no image challenge', async () => {
      t = await start();
      const config = await t.app.inject({ method: 'GET', url: '/api/config' });
      expect(config.json()).toEqual({ captcha: kind, captchaSiteKey: SITE_KEY, codeLength: 6, defaultRegion: 'CN', countries: [{ region: 'CN', callingCode: '86' }] });
      expect((await t.app.inject({ method: 'GET', url: '/api/captcha' })).statusCode).toBe(404);
    });

    it('sends after siteverify accepts the token, passing secret, response and remoteip form-encoded', async () => {
      t = await start();
      const res = await send({ captchaToken: 'good-1' });
      expect(res.status).toBe(200);
      expect(t.sms.sent).toHaveLength(1);
      const [call] = verifier.calls;
      expect(call?.get('secret')).toBe(SECRET);
      expect(call?.get('response')).toBe('good-1');
      expect(call?.get('remoteip')).toBe('203.0.113.20');
      if (kind === 'hcaptcha') expect(call?.get('sitekey')).toBe(SITE_KEY);
    });

    it('refuses a missing, rejected or reused token', async () => {
      t = await start();
      expect((await send({})).body.error.code).toBe('captcha_required');
      expect((await send({ captchaToken: 'bad-1' })).body.error.code).toBe('captcha_invalid');
      expect((await send({ captchaToken: 'good-2' })).status).toBe(200);
      t.clock.advance(61_000);
      const calls = verifier.calls.length;
      const reused = await send({ captchaToken: 'good-2' }, '+8613900139000');
      expect(reused.body.error.code).toBe('captcha_invalid');
      // Refused from our own memory of used tokens, without asking the provider again.
      expect(verifier.calls.length).toBe(calls);
      expect((await send({ captchaToken: 'x'.repeat(3000) })).body.error.code).toBe('captcha_invalid');
    });

    it('lets exactly one of many simultaneous sends with one token through', async () => {
      t = await start();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => send({ captchaToken: 'good-race' }, `+861390013900${i}`)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.body.error?.code === 'captcha_invalid')).toHaveLength(7);
      expect(verifier.calls).toHaveLength(1);
    });

    it.each(['down', 'hang', 'garbage'] as const)('answers 503 service_unavailable, not 500, when the verifier is %s', async (mode) => {
      t = await start(SECRET, { CAPTCHA_VERIFY_TIMEOUT_MS: '300' });
      verifier.setMode(mode);
      const res = await send({ captchaToken: 'good-outage' });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
      expect(t.sms.sent).toHaveLength(0);
      expect(t.logs.some((l) => l.msg === 'captcha verifier unavailable')).toBe(true);
    });

    it('answers 503 (our misconfiguration) rather than blaming the person when the secret is wrong', async () => {
      t = await start('not-the-secret');
      const res = await send({ captchaToken: 'good-3' });
      expect(res.status).toBe(503);
      expect(JSON.stringify(t.logs)).not.toContain('not-the-secret');
    });
  });
}

describe('captcha configuration', () => {
  it('requires the secret and site key for turnstile and hcaptcha, naming them', () => {
    expect(() => loadConfig({ CAPTCHA: 'turnstile' })).toThrow(ConfigError);
    expect(() => loadConfig({ CAPTCHA: 'hcaptcha', CAPTCHA_SECRET: 's' })).toThrow(/CAPTCHA_SITE_KEY: required when CAPTCHA=hcaptcha/);
    expect(() => loadConfig({ CAPTCHA: 'turnstile', CAPTCHA_SITE_KEY: 'k' })).toThrow(/CAPTCHA_SECRET: required when CAPTCHA=turnstile/);
    expect(() => loadConfig({ CAPTCHA_VERIFY_URL: 'ftp://x' })).toThrow(/CAPTCHA_VERIFY_URL/);
  });
});
