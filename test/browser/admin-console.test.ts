import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCli, enableTwoFactor } from '../helpers/admin.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { createTestApp, PASSWORD, post, type TestApp } from '../helpers/app.js';
import { chromiumAvailable, launchChromium, screenshot, watchForPageErrors } from './harness.js';

const OPERATOR = '+8613900139000';
const CUSTOMER = '+8613800138000';
const PUMPED = '+86 1391234';
const HOUR = 3_600_000;
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const basic = (sid: string, secret: string) => `Basic ${Buffer.from(`${sid}:${secret}`).toString('base64')}`;

/** The last code the console provider wrote for a number (its outbox is the person's phone). */
function lastCode(t: TestApp, phone: string): string {
  const lines = readFileSync(join(t.dir, 'outbox.jsonl'), 'utf8').split('\n').filter(Boolean);
  const text = lines.map((l) => JSON.parse(l) as { to: string; text: string }).filter((l) => l.to === phone).at(-1)?.text ?? '';
  const code = /验证码是(\d+)/.exec(text)?.[1];
  if (!code) throw new Error(`no code sent to ${phone}`);
  return code;
}

async function register(t: TestApp, phone: string): Promise<string> {
  const sent = await post(t.app, '/api/sms/send', { phone, purpose: 'register' });
  if (sent.status !== 200) throw new Error(`send to ${phone}: ${JSON.stringify(sent.body)}`);
  const res = await post(t.app, '/api/register', { phone, code: lastCode(t, phone), password: PASSWORD });
  if (res.status !== 201) throw new Error(`register ${phone}: ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

/**
 * Traffic through the real app (console provider, message log, guard, limits): people on five
 * prefixes of whom most sign up, a pumping run that the guard blocks, and wrong codes. The
 * message log also gets two days of earlier attempts on two providers with delivery reports, as
 * a live service would have, so the 48-hour chart has history to draw.
 */
async function generateTraffic(t: TestApp): Promise<void> {
  for (let i = 0; i < 15; i++) {
    const phone = `+8613700${String(i % 5).padStart(2, '0')}${String(1000 + i)}`;
    if (i % 4 === 3) await post(t.app, '/api/sms/send', { phone, purpose: 'register' });
    else await register(t, phone);
  }
  for (let i = 0; i < 25; i++) await post(t.app, '/api/sms/send', { phone: `+861391234${String(i).padStart(4, '0')}`, purpose: 'register' });
  const now = t.clock.now();
  let n = 0;
  for (let hoursAgo = 47; hoursAgo >= 1; hoursAgo--) {
    const volume = 3 + Math.round(4 * (1 + Math.sin(hoursAgo / 4)));
    for (let k = 0; k < volume; k++) {
      const provider = k % 3 === 0 ? 'aliyun' : 'tencent';
      const status = k % 7 === 0 ? 'failed' : k % 5 === 0 ? 'undelivered' : 'delivered';
      const at = now - hoursAgo * HOUR + k * 60_000;
      await t.services.smsMessages.record({
        id: `history-${n}`,
        messageId: `history-${n++}`,
        provider,
        providerMessageId: undefined,
        phone: `+8613600${String(k).padStart(6, '0')}`,
        purpose: 'login',
        status,
        errorCode: status === 'failed' ? 'LimitExceeded' : undefined,
        fee: status === 'failed' ? undefined : 1,
        createdAt: at,
        updatedAt: at,
      });
    }
  }
}

describe.runIf(chromiumAvailable())('admin console in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let operatorToken: string;
  let customerToken: string;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    // A webhook receiver that is down while the traffic runs: its deliveries wait with a failed attempt.
    receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    receiver.mode = 'down';
    t = await createTestApp({
      providerFromConfig: true,
      env: {
        SMS_PROVIDER: 'console',
        SMS_PER_IP_HOURLY: '10000',
        SMS_PER_PREFIX_HOURLY: '10000',
        SMS_DAILY_BUDGET: '500',
        WEBHOOK_URL: `${receiver.url}/hooks?token=receiver-token`,
        WEBHOOK_SECRET,
      },
      outboxInDir: true,
    });
    await generateTraffic(t);
    operatorToken = await register(t, OPERATOR);
    await adminCli(t, 'grant', OPERATOR);
    await enableTwoFactor(t, operatorToken);
    customerToken = await register(t, CUSTOMER);
    await post(t.app, '/api/login/password', { phone: CUSTOMER, password: PASSWORD });
    await t.services.verifyApi.createService({ friendlyName: 'Acme Shop' });
    await t.services.apiKeys.create('shop backend');
    while ((await t.services.webhooks.worker!.deliverDue()) > 0);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });

  async function operatorPage(width: number, lang: 'zh-CN' | 'en'): Promise<{ page: Page; problems: () => string[] }> {
    const context = await browser.newContext(
      width < 600 ? { viewport: { width, height: 760 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width, height: 900 } },
    );
    await context.addCookies([{ name: 'sms_verify_session', value: operatorToken, url: base }]);
    const page = await context.newPage();
    const problems = watchForPageErrors(page);
    await page.goto(`${base}/admin?lang=${lang}`);
    return { page, problems };
  }

  for (const lang of ['zh-CN', 'en'] as const) {
    for (const width of [360, 1280]) {
      it(`shows the overview charts with the run's data at ${width} px (${lang})`, async () => {
        const { page, problems } = await operatorPage(width, lang);
        const nav = lang === 'en' ? 'Overview' : '概览';
        await page.getByRole('link', { name: nav }).waitFor();
        // Four charts drawn as SVG, with bars in them.
        await page.locator('.admin-chart svg').nth(3).waitFor();
        expect(await page.locator('.admin-chart svg').count()).toBe(4);
        expect(await page.locator('.admin-chart svg path').count()).toBeGreaterThan(40);
        expect(await page.getByTestId('delivery-rate').textContent()).toMatch(/^\d+\.\d%$/);
        await page.waitForTimeout(700); // ECharts animates the bars in; the screenshot should show them drawn.
        await screenshot(page, `admin-overview-${width}-${lang}`);
        await page.getByRole('link', { name: lang === 'en' ? 'Fraud guard' : '防刷' }).click();
        await page.getByText(PUMPED, { exact: false }).first().waitFor();
        await screenshot(page, `admin-fraud-guard-${width}-${lang}`);
        await page.getByRole('link', { name: lang === 'en' ? 'Messages' : '短信记录' }).click();
        await page.locator('.admin-table tbody tr').first().waitFor();
        await screenshot(page, `admin-messages-${width}-${lang}`);
        await page.getByRole('link', { name: 'Verify API' }).click();
        await page.getByTestId('verify-services').getByText('Acme Shop').waitFor();
        await page.getByTestId('api-keys').getByText('shop backend').waitFor();
        await screenshot(page, `admin-verify-api-${width}-${lang}`);
        await page.getByRole('link', { name: lang === 'en' ? 'Webhooks' : 'Webhook' }).click();
        await page.getByTestId('webhook-deliveries').getByText('status 503').first().waitFor();
        expect(await page.getByTestId('webhook-deliveries').textContent()).not.toContain('receiver-token');
        await screenshot(page, `admin-webhooks-${width}-${lang}`);
        expect(problems()).toEqual([]);
        await page.context().close();
      });
    }
  }

  it('finds a user and ends their sessions', async () => {
    const { page, problems } = await operatorPage(1280, 'en');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Phone number').fill('138 0013 8000');
    await page.getByRole('button', { name: 'Find user' }).click();
    await expect.poll(() => page.getByTestId('session-count').textContent()).toBe('2');
    await screenshot(page, 'admin-users-1280-en');
    await page.getByRole('button', { name: 'End all sessions' }).click();
    await page.getByRole('status').filter({ hasText: '2 sessions ended.' }).waitFor();
    await expect.poll(() => page.getByTestId('session-count').textContent()).toBe('0');
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${customerToken}` } })).statusCode).toBe(401);
    expect(problems()).toEqual([]);
    await page.context().close();
  });

  it('the users page in Chinese on a phone', async () => {
    const { page } = await operatorPage(360, 'zh-CN');
    await page.getByRole('link', { name: '用户' }).click();
    await page.getByLabel('手机号').fill('13800138000');
    await page.getByRole('button', { name: '查找用户' }).click();
    await page.getByTestId('session-count').waitFor();
    await screenshot(page, 'admin-users-360-zh-CN');
    await page.context().close();
  });

  it('unblocks a prefix, and codes go to it again', async () => {
    expect((await post(t.app, '/api/sms/send', { phone: '+8613912349999', purpose: 'register' })).body.error.code).toBe('destination_blocked');
    const { page, problems } = await operatorPage(1280, 'en');
    await page.getByRole('link', { name: 'Fraud guard' }).click();
    await page.getByRole('button', { name: `Unblock ${PUMPED}` }).click();
    await page.getByRole('status').filter({ hasText: `${PUMPED} is unblocked.` }).waitFor();
    await page.getByText('Nothing is blocked.').waitFor();
    expect((await post(t.app, '/api/sms/send', { phone: '+8613912349999', purpose: 'register' })).status).toBe(200);
    expect(problems()).toEqual([]);
    await page.context().close();
  });

  it('creates an API key that /v2 accepts, shows its secret once, and revokes it', async () => {
    const { page, problems } = await operatorPage(1280, 'en');
    await page.getByRole('link', { name: 'Verify API' }).click();
    await page.getByLabel('Name of the new key').fill('mobile backend');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('status').filter({ hasText: 'Copy the secret now' }).waitFor();
    const sid = (await page.getByTestId('created-key').locator('dd').first().textContent())!.trim();
    const secret = (await page.getByTestId('created-secret').textContent())!.trim();
    const v2 = () => t.app.inject({ method: 'GET', url: '/v2/Services', headers: { authorization: basic(sid, secret) } });
    expect((await v2()).statusCode).toBe(200);
    await screenshot(page, 'admin-verify-api-created-1280-en');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke mobile backend' }).click();
    await page.getByRole('status').filter({ hasText: 'Key mobile backend is revoked.' }).waitFor();
    // The secret is gone from the page, and the key from /v2.
    expect(await page.getByTestId('created-key').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    expect((await v2()).statusCode).toBe(401);
    expect(problems()).toEqual([]);
    await page.context().close();
  });

  it('retries a webhook delivery, and the receiver gets it', async () => {
    receiver.mode = 'ok';
    const { page, problems } = await operatorPage(1280, 'en');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: /^Retry user\.created to / }).first().click();
    await page.getByRole('status').filter({ hasText: 'user.created is due again' }).waitFor();
    while ((await t.services.webhooks.worker!.deliverDue()) > 0);
    expect(receiver.received.map((e) => e.type)).toEqual(['user.created']);
    await page.getByLabel('State').selectOption('delivered');
    const rows = page.getByTestId('webhook-deliveries').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.textContent()).toContain('Delivered');
    await screenshot(page, 'admin-webhooks-delivered-1280-en');
    expect(problems()).toEqual([]);
    await page.context().close();
  });

  it('refuses a signed-in user who is not an operator', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    const other = await register(t, '+8613800138111');
    await context.addCookies([{ name: 'sms_verify_session', value: other, url: base }]);
    const page = await context.newPage();
    await page.goto(`${base}/admin?lang=en`);
    await page.getByRole('alert').filter({ hasText: 'Only operators can open the admin console.' }).waitFor();
    await context.close();
  });
});
