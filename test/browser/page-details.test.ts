import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { chromiumAvailable, launchChromium, outbox, phoneContext, screenshot, watchForPageErrors } from './harness.js';

const PASSWORD = 'correct horse battery';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';
const MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/** Numbers 137… keep clear of pages.test.ts (138…) and account-security.test.ts (139…). */
const number = (last: number) => {
  const national = `1370013${String(8000 + last)}`;
  return { typed: national, e164: `+86${national}`, masked: `137****${String(8000 + last)}` };
};

/**
 * The rough edges a new user hit on the pages (issue 9), at 360 px and 1280 px, in both languages:
 * the countdown across a reload, the captcha row once a code is sent, the country picker, the SMS
 * language, show password, the reset confirmation, the account page's devices and width, and a
 * console without errors for a signed-out visitor.
 */
describe.runIf(chromiumAvailable())('page details in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-browser-details-'));
  const sms = outbox(join(dir, 'outbox.jsonl'));
  const serverEnv = (name: string, captcha: 'off' | 'image') => ({
    NODE_ENV: 'test',
    SECRET: 'browser-secret-browser-secret-browser-secret',
    DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
    CAPTCHA: captcha,
    SMS_OUTBOX_FILE: join(dir, 'outbox.jsonl'),
    SMS_ALLOWED_COUNTRIES: 'CN,HK',
    LOG_LEVEL: 'warn',
  });
  let server: ServerProcess;
  let captchaServer: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: () => string[];

  beforeAll(async () => {
    [server, captchaServer, browser] = await Promise.all([
      startServerProcess(serverEnv('details', 'off')),
      startServerProcess(serverEnv('details-captcha', 'image')),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), server?.stop(), captchaServer?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    context = await phoneContext(browser);
    page = await context.newPage();
    pageErrors = watchForPageErrors(page);
  });
  afterEach(async () => {
    const problems = pageErrors();
    await context.close();
    expect(problems).toEqual([]);
  });

  const open = (path: string, base = server.url) => page.goto(base + path);
  const phoneInput = () => page.getByLabel('Phone number');
  const sendButton = () => page.getByRole('button', { name: 'Send code' });
  const countdown = () => page.getByRole('button', { name: /^Send code in \d+ s$/ });
  const wide = () => page.setViewportSize({ width: 1280, height: 900 });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  async function registerViaApi(phone: string): Promise<void> {
    expect((await post('/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    const code = await sms.code(phone, 'register');
    expect((await post('/api/register', { phone, code, password: PASSWORD })).status).toBe(201);
  }

  async function signIn(target: Page, phone: { typed: string }, lang: 'en' | 'zh' = 'en'): Promise<void> {
    await target.goto(`${server.url}/login?lang=${lang}`);
    await target.getByLabel(lang === 'en' ? 'Phone number' : '手机号').fill(phone.typed);
    await target.getByLabel(lang === 'en' ? 'Password' : '密码', { exact: true }).fill(PASSWORD);
    await target.getByRole('button', { name: lang === 'en' ? 'Sign in' : '登录', exact: true }).click();
    await target.waitForURL('**/account');
  }

  it('a signed-out visitor opening the pages gets no error in the console, not even a 401', async () => {
    const messages: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') messages.push(`${msg.type()}: ${msg.text()}`);
    });
    const answers: string[] = [];
    page.on('response', (res) => {
      if (res.status() >= 400) answers.push(`${res.status()} ${new URL(res.url()).pathname}`);
    });
    // The start page goes to the account page, which finds no session and goes to sign in.
    await open('/');
    await page.waitForURL('**/login');
    await page.getByRole('button', { name: '登录', exact: true }).waitFor();
    for (const path of ['/register', '/reset', '/login?method=sms', '/account']) {
      await open(path, captchaServer.url);
      await page.locator('h1').waitFor();
      await page.waitForLoadState('networkidle');
    }
    expect(answers).toEqual([]);
    expect(messages).toEqual([]);
  });

  it('keeps the countdown and the number across a reload; inside the cooldown the server says the code is still valid', async () => {
    const phone = number(1);
    await open('/register?lang=en');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await sms.code(phone.e164, 'register');
    await countdown().waitFor();

    await page.reload();
    // Without a click: the button counts down where it left off, and the number is back in its input.
    await countdown().waitFor();
    expect(await countdown().isDisabled()).toBe(true);
    expect(await phoneInput().inputValue()).toBe(phone.typed);
    await page.getByText(`Code sent to ${phone.typed}.`).waitFor();
    await screenshot(page, 'register-after-reload.en');

    // Another tab (or cleared storage) knows nothing of the send: the server's answer says what happened.
    await page.evaluate('sessionStorage.clear()');
    await page.reload();
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await page.getByText(/^A code was already sent to this number and is still valid: check your messages\. You can ask for another in \d+ s\.$/).waitFor();
    expect(await page.getByText(/Too many attempts/).count()).toBe(0);
    // News, not a mistake: the code input is not marked wrong.
    expect(await page.getByLabel('Verification code').getAttribute('aria-invalid')).toBeNull();
    await countdown().waitFor();
    expect(sms.count(phone.e164, 'register')).toBe(1);
    await screenshot(page, 'register-cooldown.en');
    await wide();
    await screenshot(page, 'register-cooldown.desktop.en');

    // The code sent before the reload signs up.
    await page.getByLabel('Verification code').fill(await sms.code(phone.e164, 'register'));
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL('**/account');
  });

  it('with CAPTCHA=image: the picture at its own size, "not case-sensitive", and the row out of sight once the code is sent', async () => {
    await open('/register?lang=en', captchaServer.url);
    const answer = page.getByLabel('Image code');
    await answer.waitFor();
    const refresh = page.getByRole('button', { name: 'Show a different picture' });
    const picture = refresh.locator('img');
    await picture.waitFor();
    await page.getByText('Not case-sensitive.').waitFor();
    expect((await answer.getAttribute('aria-describedby'))?.split(' ')).toContain(await page.getByText('Not case-sensitive.').getAttribute('id'));
    const size = () =>
      picture.evaluate((el) => {
        const img = el as unknown as { naturalWidth: number; naturalHeight: number; width: number; height: number };
        return { natural: [img.naturalWidth, img.naturalHeight], shown: [img.width, img.height] };
      });
    await vi.waitFor(async () => expect((await size()).natural[0]).toBeGreaterThan(0), { timeout: 5000, interval: 50 });
    // At 360 px the picture may be scaled down to fit beside the input, never up; at 1280 px it is the server's size.
    const narrow = await size();
    expect(narrow.shown[0]).toBeLessThanOrEqual(narrow.natural[0]!);
    await screenshot(page, 'register-captcha-hint.en');
    await wide();
    expect((await size()).shown).toEqual((await size()).natural);
    await screenshot(page, 'register-captcha-hint.desktop.en');
    await page.setViewportSize({ width: 360, height: 760 });

    // The picture cannot be read by a test: the server's answer to a right one is played here, with a short cooldown.
    await page.route('**/api/sms/send', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ sent: true, expiresIn: 300, resendAfter: 2 }) }),
    );
    await phoneInput().fill(number(2).typed);
    await answer.fill('anything');
    await sendButton().click();
    await page.getByText(`Code sent to ${number(2).typed}.`).waitFor();
    expect(await page.getByLabel('Image code').count()).toBe(0);
    expect(await refresh.count()).toBe(0);
    await screenshot(page, 'register-captcha-sent.en');

    // Asking for another code brings a fresh picture back first; the send waits for its answer.
    await page.getByRole('button', { name: 'Send code', exact: true }).waitFor({ timeout: 10_000 });
    let sends = 0;
    page.on('request', (req) => void (req.url().endsWith('/api/sms/send') && sends++));
    await sendButton().click();
    await page.getByLabel('Image code').waitFor();
    expect(await page.getByLabel('Image code').inputValue()).toBe('');
    await vi.waitFor(async () => expect(await page.getByLabel('Image code').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true));
    expect(sends).toBe(0);
    await page.getByLabel('Image code').fill('again');
    await sendButton().click();
    await countdown().waitFor();
    expect(sends).toBe(1);
  });

  it('picks the country beside the phone input (name and calling code, no flags), the default region first; the SMS is in the page language', async () => {
    await open('/register?lang=en');
    const picker = page.getByRole('combobox', { name: 'Country or region' });
    await picker.waitFor();
    expect(await picker.inputValue()).toBe('CN');
    const options = await picker.locator('option').allTextContents();
    expect(options).toEqual(['China +86', expect.stringMatching(/^Hong Kong.* \+852$/)]);
    await screenshot(page, 'register-country.en');
    await wide();
    await screenshot(page, 'register-country.desktop.en');

    await picker.selectOption('HK');
    await phoneInput().fill('5123 4567');
    await sendButton().click();
    const code = await sms.code('+85251234567', 'register');
    const text = () => sms.texts('+85251234567', 'register').at(-1);
    expect(text()).toBe(`[sms-verify] Your sign-up code is ${code}. It is valid for 5 minutes. Do not share it with anyone.`);

    // The full number is what the hint shows, since the picker is part of it.
    await page.getByText('Code sent to +85251234567.').waitFor();

    // The Chinese page asks for a Chinese SMS, and its picker names the regions in Chinese. (A fresh
    // tab: this one would bring back the countdown of the code just sent.)
    await page.evaluate('sessionStorage.clear()');
    await open('/register?lang=zh');
    const zhPicker = page.getByRole('combobox', { name: '国家或地区' });
    expect(await zhPicker.locator('option').first().textContent()).toBe('中国 +86');
    await page.getByLabel('手机号').fill(number(3).typed);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await sms.code(number(3).e164, 'register');
    expect(sms.texts(number(3).e164, 'register').at(-1)).toMatch(/^【sms-verify】您的注册验证码是\d{6}，5分钟内有效/);
  });

  it('"Show password" shows and hides each password; the reset page asks for the new password twice', async () => {
    await open('/register?lang=en');
    const password = page.getByLabel('Password', { exact: true });
    await password.fill('a secret phrase');
    const toggles = page.getByRole('button', { name: 'Show password' });
    expect(await toggles.count()).toBe(2);
    expect(await password.getAttribute('type')).toBe('password');
    await toggles.first().click();
    expect(await password.getAttribute('type')).toBe('text');
    expect(await toggles.first().getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByLabel('Confirm password').getAttribute('type')).toBe('password');
    await screenshot(page, 'register-show-password.en');
    await toggles.first().click();
    expect(await password.getAttribute('type')).toBe('password');

    const phone = number(4);
    await registerViaApi(phone.e164);
    await open('/reset?lang=en');
    await page.getByLabel('Confirm password').waitFor();
    await screenshot(page, 'reset-confirm.en');
    await wide();
    await screenshot(page, 'reset-confirm.desktop.en');
    await page.setViewportSize({ width: 360, height: 760 });
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await page.getByLabel('Verification code').fill(await sms.code(phone.e164, 'reset_password'));
    await page.getByLabel('New password').fill('a brand new password 2');
    await page.getByLabel('Confirm password').fill('a brand new password 3');
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.getByText('The passwords do not match.').waitFor();
    expect(await page.getByLabel('Confirm password').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.getByLabel('Confirm password').fill('a brand new password 2');
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.waitForURL('**/login');
    await page.getByText('Your password has been reset.').waitFor();
  });

  it('lists the signed-in devices with IP and last use, signs out the others, and shows the device in recent activity', async () => {
    const phone = number(5);
    await registerViaApi(phone.e164);
    const other = await browser.newContext({ userAgent: ANDROID, viewport: { width: 360, height: 760 } });
    const otherPage = await other.newPage();
    await signIn(otherPage, phone);
    await context.close();
    context = await browser.newContext({ userAgent: MAC, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    pageErrors = watchForPageErrors(page);
    await signIn(page, phone);

    const devices = page.getByRole('region', { name: 'Signed-in devices' });
    await devices.getByText('Chrome on Android').waitFor();
    await devices.getByText('Chrome on macOS').waitFor();
    expect(await devices.getByText('This device').count()).toBe(1);
    expect(await devices.getByText(/^IP (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/).count()).toBeGreaterThanOrEqual(2);
    expect(await devices.getByText(/^Last active /).count()).toBe(3);
    await page.getByRole('region', { name: 'Recent activity' }).getByText('Chrome on Android').first().waitFor();

    // Two columns at 1280 px: the devices sit beside the account card, and the page is far shorter than one 420 px column.
    const box = async (name: string) => (await page.getByRole('region', { name }).boundingBox())!;
    const account = await box('Your account');
    const right = await box('Signed-in devices');
    expect(right.x).toBeGreaterThanOrEqual(account.x + account.width);
    expect(Math.abs(right.y - account.y)).toBeLessThan(2);
    expect(account.width).toBeGreaterThan(420);
    // "Member since" on one line: as tall as "Phone" beside it.
    const termHeight = async (text: string) => (await page.getByRole('term').filter({ hasText: text }).boundingBox())!.height;
    expect(await termHeight('Member since')).toBe(await termHeight('Phone'));
    await screenshot(page, 'account-devices.desktop.en');

    await devices.getByRole('button', { name: 'Sign out other devices' }).click();
    await devices.getByText('Signed out 2 other devices.').waitFor();
    await devices.getByText('Only this device is signed in to your account.').waitFor();
    expect(await devices.getByText('Chrome on Android').count()).toBe(0);
    await page.getByRole('region', { name: 'Recent activity' }).getByText('Other devices signed out').waitFor();
    // The phone is signed out: its next page load goes to sign in.
    await otherPage.goto(`${server.url}/account`);
    await otherPage.waitForURL('**/login');
    await other.close();

    await page.setViewportSize({ width: 360, height: 760 });
    await screenshot(page, 'account-devices.en');
  });

  it('shows the account page in Chinese at 1280 px in two columns, with the devices', async () => {
    const phone = number(6);
    await registerViaApi(phone.e164);
    await signIn(page, phone, 'zh');
    await page.getByRole('region', { name: '已登录的设备' }).getByText('当前设备').waitFor();
    await page.getByText('注册时间').waitFor();
    await screenshot(page, 'account-devices.zh-CN');
    await wide();
    await page.getByRole('region', { name: '最近的账号活动' }).waitFor();
    await screenshot(page, 'account-devices.desktop.zh-CN');
  });
});
