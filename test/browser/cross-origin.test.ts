import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, fakeClock, PASSWORD, PHONE, registerUser, type TestApp } from '../helpers/app.js';
import { chromiumAvailable, launchChromium } from './harness.js';

/** A product's frontend on its own origin: an empty page the test scripts. */
async function startFrontend(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>product</title><p>product frontend</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // "localhost" and "127.0.0.1" are different origins for the browser: the API is on the second.
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

/** What the frontend's script does: sign in across origins, then call /api/me with the access token. */
const signInAcrossOrigins = async ({ api, phone, password }: { api: string; phone: string; password: string }) => {
  try {
    const login = await fetch(`${api}/api/login/password`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone, password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const me = await fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    return { ok: true as const, status: me.status, user: ((await me.json()) as { user: { phone: string } }).user };
  } catch (err) {
    return { ok: false as const, error: String(err) };
  }
};

describe.runIf(chromiumAvailable())('a frontend on another origin, in Chromium', () => {
  let browser: Browser;
  let t: TestApp;
  let api: string;
  let allowed: { server: Server; origin: string };
  let refused: { server: Server; origin: string };

  beforeAll(async () => {
    [allowed, refused] = [await startFrontend(), await startFrontend()];
    t = await createTestApp({ clock: fakeClock(Date.now()), env: { CORS_ORIGINS: allowed.origin } });
    await registerUser(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    for (const f of [allowed, refused]) await new Promise((resolve) => f?.server.close(resolve));
  });

  it('an origin in CORS_ORIGINS signs in (a preflighted JSON POST) and reads /api/me with the access token', async () => {
    const page = await browser.newPage();
    await page.goto(`${allowed.origin}/`);
    const result = await page.evaluate(signInAcrossOrigins, { api, phone: PHONE, password: PASSWORD });
    expect(result).toEqual({ ok: true, status: 200, user: expect.objectContaining({ phone: PHONE }) });
    await page.close();
  });

  it('any other origin is blocked by the browser: its script cannot read the answer', async () => {
    const page = await browser.newPage();
    await page.goto(`${refused.origin}/`);
    const result = await page.evaluate(signInAcrossOrigins, { api, phone: PHONE, password: PASSWORD });
    expect(result).toEqual({ ok: false, error: expect.stringContaining('Failed to fetch') });
    await page.close();
  });
});
