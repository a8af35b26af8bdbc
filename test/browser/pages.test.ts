import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { chromiumAvailable, launchChromium, outbox, phoneContext, screenshot, watchForPageErrors } from './harness.js';

const PASSWORD = 'correct horse battery';

/** A mainland number as a person types it, and as the server stores it. */
const number = (last: number) => {
  const national = `1380013${String(8000 + last)}`;
  return { typed: `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`, e164: `+86${national}` };
};

/**
 * The pages as a person uses them: Debian's Chromium against the real server process
 * (console SMS provider writing to an outbox file, CAPTCHA=off, a temporary SQLite file).
 */
describe.runIf(chromiumAvailable())('the web pages in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-browser-'));
  const sms = outbox(join(dir, 'outbox.jsonl'));
  const serverEnv = (name: string, captcha: 'off' | 'image') => ({
    NODE_ENV: 'test',
    SECRET: 'browser-secret-browser-secret-browser-secret',
    DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
    CAPTCHA: captcha,
    SMS_OUTBOX_FILE: join(dir, 'outbox.jsonl'),
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
      startServerProcess(serverEnv('pages', 'off')),
      startServerProcess(serverEnv('captcha', 'image')),
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
  const codeInput = () => page.getByLabel('Verification code');
  const sendButton = () => page.getByRole('button', { name: 'Send code' });
  const isFocused = (locator: ReturnType<Page['getByLabel']>) => locator.evaluate((el) => el === el.ownerDocument.activeElement);
  /** Waits until the captcha picture is another one than `old`. */
  const pictureChangedFrom = (picture: ReturnType<Page['locator']>, old: string | null) =>
    vi.waitFor(async () => expect(await picture.getAttribute('src')).not.toBe(old), { timeout: 5000, interval: 50 });

  /** An account made through the API, for the tests that start from a registered number. */
  async function registerViaApi(phone: string, password = PASSWORD): Promise<void> {
    const post = (path: string, body: unknown) =>
      fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    const code = await sms.code(phone, 'register');
    expect((await post('/api/register', { phone, code, password })).status).toBe(201);
  }

  it('signs up end to end with the code from the SMS, shows the account, and signs out', async () => {
    const phone = number(0);
    await open('/register?lang=en');
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await screenshot(page, 'register.en');
    // CAPTCHA=off: the server says so through /api/config and the captcha row is not there.
    expect(await page.getByLabel('Image code').count()).toBe(0);

    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await page.getByText(`Code sent to ${phone.typed}.`).waitFor();
    await codeInput().fill(await sms.code(phone.e164, 'register'));
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByText('Strength: strong').waitFor();
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();

    await page.waitForURL('**/account');
    await page.getByRole('definition').filter({ hasText: '138****8000' }).waitFor();
    const created = page.getByRole('definition').locator('time');
    expect(new Date((await created.getAttribute('datetime'))!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await created.textContent()).toMatch(/20\d\d/);
    await screenshot(page, 'account.en');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login');
    await page.getByText('You are signed out.').waitFor();
    await open('/account');
    await page.waitForURL('**/login');
  });

  it('has the English accessible names other tests rely on, each naming exactly one element', async () => {
    // Waits for the element first: the captcha row, for one, appears only once /api/config has answered.
    const expectOne = async (what: string, locator: ReturnType<Page['getByLabel']>) => {
      await locator.first().waitFor();
      expect(await locator.count(), what).toBe(1);
    };
    const label = (name: string) => page.getByLabel(name, { exact: true });
    const button = (name: string) => page.getByRole('button', { name, exact: true });

    await open('/register?lang=en', captchaServer.url);
    for (const name of ['Phone number', 'Image code', 'Verification code', 'Password', 'Confirm password']) await expectOne(name, label(name));
    for (const name of ['Send code', 'Sign up']) await expectOne(name, button(name));

    await open('/reset', captchaServer.url);
    for (const name of ['Phone number', 'Image code', 'Verification code', 'New password', 'Confirm password']) await expectOne(name, label(name));
    for (const name of ['Send code', 'Reset password']) await expectOne(name, button(name));

    await open('/login', captchaServer.url);
    for (const name of ['Password', 'SMS code']) await expectOne(name, page.getByRole('tab', { name, exact: true }));
    for (const name of ['Phone number', 'Password']) await expectOne(name, label(name));
    await expectOne('Sign in', button('Sign in'));
    await page.getByRole('tab', { name: 'SMS code' }).click();
    await page.getByLabel('Image code', { exact: true }).waitFor();
    for (const name of ['Phone number', 'Image code', 'Verification code']) await expectOne(name, label(name));
    for (const name of ['Send code', 'Sign in']) await expectOne(name, button(name));
  });

  it('turns Send code into a countdown from resendAfter; a double click sends one SMS', async () => {
    const phone = number(1);
    await open('/register?lang=en');
    const code = codeInput();
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');

    await phoneInput().fill(phone.typed);
    await sendButton().dblclick();
    await sms.code(phone.e164, 'register');
    const button = sendButton();
    const counting = page.getByRole('button', { name: /^Send code in \d+ s$/ });
    await counting.waitFor();
    const secondsLeft = async () => Number(/\d+/.exec((await counting.textContent()) ?? '')?.[0]);
    const first = await secondsLeft();
    // resendAfter is 60; a slow machine may have let a second or two pass already.
    expect(first).toBeLessThanOrEqual(60);
    expect(first).toBeGreaterThan(50);
    expect(await button.isDisabled()).toBe(true);
    // The label counts down with the clock, and the button stays locked.
    await vi.waitFor(async () => expect(await secondsLeft()).toBeLessThan(first), { timeout: 5000, interval: 100 });
    expect(await button.isDisabled()).toBe(true);
    expect(sms.count(phone.e164, 'register')).toBe(1);
    // The second click found the button locked, so no rate_limited message either.
    expect(await page.locator('.field-message:not(:empty)').count()).toBe(0);
    expect(await isFocused(code)).toBe(true);
  });

  it('a wrong code says how many tries are left, beside the code, and focus goes there', async () => {
    const phone = number(2);
    await open('/register?lang=en');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    const right = await sms.code(phone.e164, 'register');
    const wrong = right === '000000' ? '111111' : '000000';
    await codeInput().fill(wrong);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();

    const message = page.getByText('Wrong code. 4 tries left.');
    await message.waitFor();
    expect(await codeInput().getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await codeInput().getAttribute('aria-describedby')) ?? '';
    expect(describedBy.split(' ')).toContain(await message.evaluate((el) => el.closest('[aria-live]')?.id));
    expect(await isFocused(codeInput())).toBe(true);
    await screenshot(page, 'register-wrong-code.en');

    // Typing the right code afterwards still works: the wrong try cost one attempt, not the code.
    await codeInput().fill(right);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL('**/account');
  });

  it('after a reload the cooldown still holds: the countdown resumes by itself, and no second SMS goes out', async () => {
    const phone = number(11);
    await open('/register?lang=en');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await sms.code(phone.e164, 'register');
    await page.reload();
    await page.getByRole('button', { name: /^Send code in \d+ s$/ }).waitFor();
    expect(await phoneInput().inputValue()).toBe(phone.typed);
    expect(sms.count(phone.e164, 'register')).toBe(1);
  });

  it('an expired code offers a new one, and the link sends it', async () => {
    const phone = number(12);
    await open('/register?lang=en');
    // The server's TTL is at least a minute; the answer it would then give is played here.
    await page.route('**/api/register', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'code_expired', message: 'The verification code has expired.', field: 'code' } }),
      }),
    );
    await phoneInput().fill(phone.typed);
    await codeInput().fill('123456');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('This code has expired.').waitFor();
    await page.getByRole('button', { name: 'Get a new code' }).click();
    await sms.code(phone.e164, 'register');
    await page.getByText(`Code sent to ${phone.typed}.`).waitFor();
  });

  it('checks the form before sending: empty phone, mismatched passwords, focus on the first', async () => {
    await open('/register?lang=en');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm password').fill('shorter');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('Enter your phone number.').waitFor();
    await page.getByText('Use at least 8 characters.').waitFor();
    expect(await isFocused(phoneInput())).toBe(true);
  });

  it('a registered number gets "already has an account" with a link to sign in', async () => {
    const phone = number(3);
    await registerViaApi(phone.e164);
    await open('/register?lang=en');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await page.getByText('This phone number already has an account.').waitFor();
    expect(sms.count(phone.e164, 'register')).toBe(1);
    await page.getByRole('link', { name: 'Sign in instead' }).click();
    await page.waitForURL('**/login');
    expect(await phoneInput().inputValue()).toBe(phone.typed);
  });

  it('signs in with the password, and with an SMS code on the other tab', async () => {
    const phone = number(4);
    await registerViaApi(phone.e164);
    await open('/login?lang=en');
    const passwordTab = page.getByRole('tab', { name: 'Password' });
    const smsTab = page.getByRole('tab', { name: 'SMS code' });
    expect(await passwordTab.getAttribute('aria-selected')).toBe('true');
    await screenshot(page, 'login.en');

    await phoneInput().fill(phone.typed);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong phone number or password.').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('definition').filter({ hasText: '138****8004' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login');

    await smsTab.click();
    expect(await smsTab.getAttribute('aria-selected')).toBe('true');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await codeInput().fill(await sms.code(phone.e164, 'login'));
    await screenshot(page, 'login-sms.en');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('definition').filter({ hasText: '138****8004' }).waitFor();
  });

  it('resets the password, ending the session, and signs in with the new one', async () => {
    const phone = number(5);
    const newPassword = 'a brand new password 2';
    await registerViaApi(phone.e164);
    await open('/reset?lang=en');
    await screenshot(page, 'reset.en');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await codeInput().fill(await sms.code(phone.e164, 'reset_password'));
    await page.getByLabel('New password').fill(newPassword);
    await page.getByLabel('Confirm password').fill(newPassword);
    await page.getByRole('button', { name: 'Reset password' }).click();

    await page.waitForURL('**/login');
    await page.getByText('Your password has been reset.').waitFor();
    expect(await phoneInput().inputValue()).toBe(phone.typed);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong phone number or password.').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
  });

  it('is Chinese by default, English with ?lang=en or the switch, and remembers the choice', async () => {
    await open('/register');
    await page.getByRole('heading', { name: '创建账号' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    for (const label of ['手机号', '短信验证码', '密码', '确认密码']) await page.getByLabel(label, { exact: true }).waitFor();
    await page.getByRole('button', { name: '获取验证码' }).waitFor();
    await page.getByRole('button', { name: '注册' }).waitFor();
    expect(await page.title()).toBe('注册 · sms-verify');
    await screenshot(page, 'register.zh-CN');
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'register.desktop.zh-CN');
    await page.setViewportSize({ width: 360, height: 760 });

    // Half-way through signing up, as the README shows it.
    const phone = number(10);
    await page.getByLabel('手机号').fill(phone.typed);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await page.getByRole('button', { name: /秒后重新获取$/ }).waitFor();
    await page.getByText(`验证码已发送至 ${phone.typed}`).waitFor();
    await page.getByLabel('短信验证码').fill(await sms.code(phone.e164, 'register'));
    await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
    await page.getByLabel('确认密码').fill(PASSWORD);
    await page.getByText('密码强度：强').waitFor();
    await screenshot(page, 'register-filled.zh-CN');

    await open('/login?lang=en');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await open('/reset');
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();

    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '重置密码' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: '重置密码' }).waitFor();
    await screenshot(page, 'reset.zh-CN');
    await open('/login');
    await page.getByRole('tab', { name: '验证码登录' }).click();
    await page.getByRole('button', { name: '获取验证码' }).waitFor();
    await screenshot(page, 'login-sms.zh-CN');
  });

  it('shows the account page in Chinese with the masked number', async () => {
    const phone = number(9);
    await registerViaApi(phone.e164);
    await open('/login');
    await page.getByLabel('手机号').fill(phone.typed);
    await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.waitForURL('**/account');
    await page.getByRole('definition').filter({ hasText: '138****8009' }).waitFor();
    await page.getByText('注册时间').waitFor();
    await page.getByRole('button', { name: '退出登录' }).waitFor();
    await screenshot(page, 'account.zh-CN');
  });

  it('a network failure shows a retryable message, and Try again sends the code', async () => {
    const phone = number(6);
    await open('/register?lang=en');
    await page.route('**/api/sms/send', (route) => route.abort('internetdisconnected'));
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    // role=alert: announced at once, since no input's focus would read it out.
    await page.getByRole('alert').filter({ hasText: 'Could not reach the server. Check your connection and try again.' }).waitFor();
    await screenshot(page, 'register-offline.en');

    await page.unroute('**/api/sms/send');
    await page.getByRole('button', { name: 'Try again' }).click();
    await sms.code(phone.e164, 'register');
    await page.getByText(`Code sent to ${phone.typed}.`).waitFor();
  });

  it('settings that failed to load are fetched again before a code is sent', async () => {
    const phone = number(13);
    await page.route('**/api/config', (route) => route.abort('internetdisconnected'));
    await open('/register?lang=en');
    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await page.getByText('Could not reach the server.').waitFor();
    await page.unroute('**/api/config');
    await page.getByRole('button', { name: 'Try again' }).click();
    await sms.code(phone.e164, 'register');
    await page.getByText(`Code sent to ${phone.typed}.`).waitFor();
  });

  it("a proxy's 502 page on submit is a retryable message too, never a blank page", async () => {
    await open('/login?lang=en');
    await page.route('**/api/login/password', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad Gateway</h1>' }));
    await phoneInput().fill(number(7).typed);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Could not reach the server.').waitFor();
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('with CAPTCHA=image: shows the picture, refreshes it on click, and explains a wrong answer', async () => {
    const phone = number(8);
    await open('/register?lang=en', captchaServer.url);
    const answer = page.getByLabel('Image code');
    await answer.waitFor();
    const picture = page.getByRole('button', { name: 'Show a different picture' }).locator('img');
    const first = await picture.getAttribute('src');
    expect(first).toMatch(/^data:image\/png;base64,/);
    await screenshot(page, 'register-captcha.en');
    await page.getByRole('button', { name: 'Show a different picture' }).click();
    await pictureChangedFrom(picture, first);

    await phoneInput().fill(phone.typed);
    await sendButton().click();
    await page.getByText('Enter the image code: the characters in the picture.').waitFor();
    expect(await isFocused(answer)).toBe(true);

    const shown = await picture.getAttribute('src');
    await answer.fill('wrong');
    await sendButton().click();
    await page.getByText('The image code was wrong or expired.').waitFor();
    // The used captcha is burned on the server, so the page has already fetched a new one.
    await pictureChangedFrom(picture, shown);
    expect(await answer.inputValue()).toBe('');
    expect(sms.count(phone.e164, 'register')).toBe(0);
  });

  it('serves the pages at every page route and keeps /api/* answering JSON', async () => {
    const html = await fetch(`${server.url}/register`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const api = await fetch(`${server.url}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: { code: 'not_found', message: 'No such route.' } });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/openapi.json`)).headers.get('content-type')).toContain('application/json');
    expect((await fetch(`${server.url}/missing.js`)).status).toBe(404);

    await open('/no-such-page?lang=en');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });
});
