import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, post, registerUser, type TestApp } from '../helpers/app.js';

const ALLOWED = 'https://app.example.test';
const OTHER = 'https://evil.example.test';

const corsHeaders = (headers: Record<string, unknown>) => Object.keys(headers).filter((h) => h.startsWith('access-control-'));

describe('cross-origin use', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('answers the preflight of an allowed origin with credentials, and its request with its origin', async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: `${ALLOWED},http://localhost:5173` } });
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/login/password',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': ALLOWED,
      'access-control-allow-credentials': 'true',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '600',
    });
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(preflight.headers.vary)).toMatch(/Origin/i);

    await registerUser(t);
    const login = await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD }, { origin: ALLOWED });
    expect(login.status).toBe(200);
    expect(login.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(login.headers['access-control-allow-credentials']).toBe('true');
    // Errors carry the headers too, or the page could not read the error body.
    const wrong = await post(t.app, '/api/login/password', { phone: PHONE, password: 'wrong password' }, { origin: ALLOWED });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['access-control-allow-origin']).toBe(ALLOWED);
    const jwks = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: 'http://localhost:5173' } });
    expect(jwks.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('gives any other origin no CORS header at all, on preflights and on requests', async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: ALLOWED } });
    // Origins match exactly: no prefix, suffix, scheme or port variants.
    for (const origin of [OTHER, `${ALLOWED}.evil.test`, 'http://app.example.test', `${ALLOWED}:8443`, 'null']) {
      const preflight = await t.app.inject({ method: 'OPTIONS', url: '/api/me', headers: { origin, 'access-control-request-method': 'GET' } });
      expect(preflight.statusCode).toBe(404);
      expect(preflight.json().error.code).toBe('not_found');
      expect(corsHeaders(preflight.headers)).toEqual([]);
      const res = await t.app.inject({ method: 'GET', url: '/api/me', headers: { origin } });
      expect(res.statusCode).toBe(401);
      expect(corsHeaders(res.headers)).toEqual([]);
    }
  });

  it('sends no CORS header when CORS_ORIGINS is unset', async () => {
    t = await createTestApp();
    const res = await t.app.inject({ method: 'GET', url: '/api/me', headers: { origin: ALLOWED } });
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it('sets the session cookie for SESSION_COOKIE_DOMAIN, and clears it there', async () => {
    t = await createTestApp({ env: { SESSION_COOKIE_DOMAIN: 'example.test' } });
    const token = await registerUser(t);
    const login = await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD });
    expect(String(login.headers['set-cookie'])).toMatch(/Domain=example\.test/);
    const out = await t.app.inject({ method: 'POST', url: '/api/logout', cookies: { sms_verify_session: token } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/sms_verify_session=;.*Domain=example\.test/);
  });
});
