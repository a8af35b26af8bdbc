import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { pageHeaders, webPages } from '../../src/http/web-pages.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const NOT_FOUND = { error: { code: 'not_found', message: 'No such route.' } };

/** A stand-in for web/dist, so these tests do not depend on a Vite build. */
function fakeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'sms-verify-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>pages</title><div id="app"></div>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log("app")');
  writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return root;
}

describe('serving the web pages next to the API', () => {
  const root = fakeBuild();
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ webRoot: root });
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });
  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it.each(['/', '/register', '/login?lang=en', '/reset', '/account', '/some/unknown/page'])('%s answers index.html for the client router', async (url) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<div id="app">');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('hashed assets are cached for good, other files revalidated', async () => {
    const asset = await get('/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get('/favicon.svg')).headers['cache-control']).toBe('no-cache');
  });

  // Regression for issue 9: /metrics and every unknown path answered 200 with the page.
  it('unknown paths that are not pages (API, versions, monitoring, well-known, files) keep the JSON not_found', async () => {
    const machinePaths = [
      '/api',
      '/api/nothing',
      '/api/register/extra',
      '/metrics',
      '/metrics/',
      '/V1/Services',
      '/.well-known/nothing.json',
      '/.well-known/openid-configuration',
      '/.env',
      '/.git/config',
      '/healthz/extra',
      '/docs/nothing-here',
      '/robots.txt',
      '/missing.js',
      '/assets/gone.css',
      '/account/export.json',
      '/metrics?format=prometheus',
    ];
    for (const url of machinePaths) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual(NOT_FOUND);
    }
    // /v2 is the Verify API's surface: it answers in Twilio's error shape (no key, or no such route), never the page.
    for (const url of ['/v2', '/v2/verifications']) {
      const res = await get(url);
      expect([401, 404], url).toContain(res.statusCode);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
    }
    const post = await t.app.inject({ method: 'POST', url: '/register', payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toEqual(NOT_FOUND);
  });

  it('the API, health checks and docs are untouched', async () => {
    expect((await get('/api/config')).json()).toEqual({ captcha: 'off', codeLength: 6, defaultRegion: 'CN', countries: [{ region: 'CN', callingCode: '86' }] });
    expect((await get('/healthz')).statusCode).toBe(200);
    expect((await get('/readyz')).statusCode).toBe(200);
    expect((await get('/openapi.json')).json().openapi).toMatch(/^3\./);
    expect((await get('/docs')).statusCode).toBeLessThan(400);
  });
});

describe('routes added beside the pages', () => {
  const root = fakeBuild();
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('answer at /metrics, /v2 and /.well-known: the page fallback only takes what no route matched', async () => {
    const app = Fastify();
    installErrorHandling(app);
    await app.register(webPages, { root });
    app.get('/metrics', async () => 'up 1\n');
    app.get('/v2/verifications/:id', async () => ({ sid: 'VE1' }));
    app.get('/.well-known/jwks.json', async () => ({ keys: [] }));
    try {
      expect((await app.inject({ url: '/metrics' })).body).toBe('up 1\n');
      expect((await app.inject({ url: '/v2/verifications/VE1' })).json()).toEqual({ sid: 'VE1' });
      expect((await app.inject({ url: '/.well-known/jwks.json' })).json()).toEqual({ keys: [] });
      expect((await app.inject({ url: '/v2/other' })).statusCode).toBe(404);
      expect((await app.inject({ url: '/login' })).headers['content-type']).toContain('text/html');
    } finally {
      await app.close();
    }
  });
});

describe('without built pages', () => {
  const empty = mkdtempSync(join(tmpdir(), 'sms-verify-no-web-'));
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ webRoot: empty });
  });
  afterAll(async () => {
    await t.close();
    rmSync(empty, { recursive: true, force: true });
  });

  it('serves the API alone: pages are not_found, the API answers', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/register' })).json()).toEqual(NOT_FOUND);
    expect((await t.app.inject({ method: 'GET', url: '/api/config' })).statusCode).toBe(200);
    expect(t.logs.some((l) => String(l.msg).includes('web pages not built'))).toBe(true);
  });
});

describe('the content security policy of the pages', () => {
  const directives = (csp: string) => Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));

  it('allows no script, style or frame from elsewhere without a widget captcha', () => {
    for (const kind of ['off', 'image'] as const) {
      const csp = directives(pageHeaders(kind)['content-security-policy']!);
      expect(csp['script-src']).toEqual(["'self'"]);
      expect(csp['style-src']).toEqual(["'self'"]);
      expect(csp['frame-src']).toBeUndefined();
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
    }
  });

  it("allows Turnstile's and hCaptcha's documented origins only when that captcha is on", () => {
    const turnstile = directives(pageHeaders('turnstile')['content-security-policy']!);
    expect(turnstile['script-src']).toEqual(["'self'", 'https://challenges.cloudflare.com']);
    expect(turnstile['frame-src']).toEqual(['https://challenges.cloudflare.com']);
    expect(turnstile['style-src']).toEqual(["'self'"]);
    const hcaptcha = directives(pageHeaders('hcaptcha')['content-security-policy']!);
    for (const directive of ['script-src', 'style-src', 'connect-src']) {
      expect(hcaptcha[directive]).toEqual(["'self'", 'https://hcaptcha.com', 'https://*.hcaptcha.com']);
    }
    expect(hcaptcha['frame-src']).toEqual(['https://hcaptcha.com', 'https://*.hcaptcha.com']);
    expect(hcaptcha['frame-ancestors']).toEqual(["'none'"]);
  });

  it("allows Tencent Captcha's origins only with CAPTCHA=tencent, and GeeTest's only with CAPTCHA=geetest", () => {
    const tencent = directives(pageHeaders('tencent')['content-security-policy']!);
    const geetest = directives(pageHeaders('geetest')['content-security-policy']!);
    expect(tencent['script-src']).toEqual(["'self'", 'https://turing.captcha.qcloud.com', 'https://turing.captcha.gtimg.com']);
    expect(tencent['frame-src']).toEqual(['https://turing.captcha.qcloud.com']);
    expect(tencent['img-src']).toEqual(["'self'", 'data:', 'https://turing.captcha.qcloud.com', 'https://turing.captcha.gtimg.com']);
    expect(geetest['script-src']).toContain('https://static.geetest.com');
    expect(geetest['script-src']).toContain('https://gcaptcha4.geetest.com');
    // Neither vendor's origins leak into the other's policy, nor into Turnstile's.
    const all = (csp: Record<string, string[]>) => Object.values(csp).flat().join(' ');
    expect(all(tencent)).not.toMatch(/geetest|geevisit|cloudflare|hcaptcha/);
    expect(all(geetest)).not.toMatch(/qcloud|gtimg|cloudflare|hcaptcha/);
    expect(all(directives(pageHeaders('turnstile')['content-security-policy']!))).not.toMatch(/qcloud|geetest/);
    for (const csp of [tencent, geetest]) expect(csp['frame-ancestors']).toEqual(["'none'"]);
  });
});
