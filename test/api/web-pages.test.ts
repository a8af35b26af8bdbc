import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageHeaders } from '../../src/http/web-pages.js';
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

  it('unknown /api routes, other methods and missing files keep the JSON not_found', async () => {
    for (const url of ['/api', '/api/nothing', '/api/register/extra', '/missing.js', '/assets/gone.css']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual(NOT_FOUND);
    }
    const post = await t.app.inject({ method: 'POST', url: '/register', payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toEqual(NOT_FOUND);
  });

  it('the API, health checks and docs are untouched', async () => {
    expect((await get('/api/config')).json()).toEqual({ captcha: 'off', codeLength: 6, defaultRegion: 'CN' });
    expect((await get('/healthz')).statusCode).toBe(200);
    expect((await get('/readyz')).statusCode).toBe(200);
    expect((await get('/openapi.json')).json().openapi).toMatch(/^3\./);
    expect((await get('/docs')).statusCode).toBeLessThan(400);
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
