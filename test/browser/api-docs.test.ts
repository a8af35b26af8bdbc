import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { chromiumAvailable, launchChromium, screenshot, watchForPageErrors } from './harness.js';

/**
 * Regression for issue 10: /docs, on the origin of the session cookie, had no CSP, framing or
 * sniffing protection. Swagger UI must still work under the pages' policy, "Try it out" included.
 */
describe.runIf(chromiumAvailable())('the API viewer at /docs in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-docs-'));
  let server: ServerProcess;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startServerProcess({ DATABASE_URL: `sqlite:${join(dir, 'docs.db')}`, CAPTCHA: 'off', LOG_LEVEL: 'warn' }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the pages\' security headers', async () => {
    for (const path of ['/docs', '/docs/static/index.html', '/docs/json']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('renders under that policy, and "Try it out" with a Bearer token reaches the API', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchForPageErrors(page);
    const violations: string[] = [];
    page.on('console', (msg) => {
      if (msg.text().includes('Content Security Policy')) violations.push(msg.text());
    });
    try {
      await page.goto(`${server.url}/docs/static/index.html`);
      await expect.poll(() => page.locator('.swagger-ui .info .title').textContent(), { timeout: 30_000 }).toContain('sms-verify');
      expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
      await screenshot(page, 'docs-1280');

      await page.getByRole('button', { name: 'Authorize' }).first().click();
      const dialog = page.locator('.dialog-ux');
      await expect.poll(() => dialog.textContent()).toContain('sessionToken');
      const bearer = dialog.locator('.auth-container').filter({ hasText: 'sessionToken' });
      await bearer.locator('#auth-bearer-value').fill('not-a-real-session');
      await bearer.getByRole('button', { name: 'Apply credentials' }).click();
      await bearer.getByRole('button', { name: 'Close' }).click();

      const me = page.locator('#operations-accounts-get_api_me');
      await me.locator('.opblock-summary').click();
      await me.getByRole('button', { name: 'Try it out' }).click();
      const answered = page.waitForRequest((request) => request.url().endsWith('/api/me'));
      await me.getByRole('button', { name: 'Execute' }).click();
      expect((await answered).headers().authorization).toBe('Bearer not-a-real-session');
      await expect.poll(() => me.locator('.live-responses-table tbody .response-col_status').first().textContent()).toContain('401');
      await screenshot(page, 'docs-try-it-out-1280');
    } finally {
      await context.close();
    }
    expect(violations).toEqual([]);
    expect(problems().filter((p) => !p.includes('401'))).toEqual([]);
  });
});
