import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { chromiumAvailable, launchChromium, outbox, phoneContext, screenshot, watchForPageErrors } from './harness.js';

const PASSWORD = 'correct horse battery';
const SITE_KEY = 'fake-site-key';
const SITEVERIFY_SECRET = 'fake-siteverify-secret';
/** The vendors' scripts as the page asks for them, the global each defines, and its language option. */
const WIDGETS = {
  turnstile: { script: 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit', name: 'Turnstile' },
  hcaptcha: { script: 'https://js.hcaptcha.com/1/api.js?render=explicit', name: 'hCaptcha' },
} as const;

/** A mainland number as a person types it, and as the server stores it. Numbers 139… keep clear of pages.test.ts (138…). */
const number = (last: number) => {
  const national = `1390013${String(8000 + last)}`;
  return { typed: national, e164: `+86${national}`, masked: `139****${String(8000 + last)}` };
};

/** The authenticator app: the code for now, or for the next 30-second step (the one just used cannot be used again). */
const totp = (secret: string, stepsAhead = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + stepsAhead * 30 });

/**
 * Stands in for the vendor's script (the real one cannot load here): the same explicit-render API,
 * solving at once with tokens good-KIND-1, good-KIND-2, … and a new one on each reset, as the real widgets do.
 */
const fakeWidgetScript = (kind: keyof typeof WIDGETS) => `
window.${kind} = (() => {
  let issued = 0;
  const widgets = new Map();
  const solve = (w) => {
    const token = 'good-${kind}-' + ++issued;
    setTimeout(() => {
      w.options.callback(token);
      w.box.dataset.token = token;
    }, 0);
  };
  return {
    render(container, options) {
      const id = 'widget-' + (widgets.size + 1);
      const box = document.createElement('div');
      box.className = 'fake-widget';
      box.textContent = 'Fake ${WIDGETS[kind].name} (' + options.sitekey + ', ' + (options.language ?? options.hl) + ', ' + options.size + ')';
      const [width, height] = options.size === 'compact' ? [150, 140] : [300, 65];
      box.style.cssText = 'width:' + width + 'px;height:' + height + 'px;border:1px solid #ccc;display:flex;align-items:center;justify-content:center;text-align:center';
      container.append(box);
      const w = { box, options };
      widgets.set(id, w);
      solve(w);
      return id;
    },
    reset(id) { solve(widgets.get(id)); },
    remove(id) { widgets.get(id)?.box.remove(); widgets.delete(id); },
  };
})();`;

/** Cloudflare's and hCaptcha's siteverify, locally: right secret, tokens starting good-, each once; or told to refuse the next one. */
function fakeSiteverify() {
  const seen = new Set<string>();
  const tokens: string[] = [];
  let refuseNext = false;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const token = form.get('response') ?? '';
      tokens.push(token);
      const ok = !refuseNext && form.get('secret') === SITEVERIFY_SECRET && token.startsWith('good-') && !seen.has(token);
      refuseNext = false;
      seen.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: ok, 'error-codes': ok ? [] : ['timeout-or-duplicate'] }));
    });
  });
  return {
    tokens,
    refuseNext: () => void (refuseNext = true),
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/siteverify`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Two-step verification, the phone change and the activity list, as a person uses them; and the Turnstile widget. */
describe.runIf(chromiumAvailable())('account security pages in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-browser-security-'));
  const sms = outbox(join(dir, 'outbox.jsonl'));
  const siteverify = fakeSiteverify();
  const serverEnv = (name: string, extra: Record<string, string> = {}) => ({
    NODE_ENV: 'test',
    SECRET: 'browser-secret-browser-secret-browser-secret',
    DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
    CAPTCHA: 'off',
    SMS_OUTBOX_FILE: join(dir, 'outbox.jsonl'),
    LOG_LEVEL: 'warn',
    ...extra,
  });
  let server: ServerProcess;
  const widgetServers: Partial<Record<keyof typeof WIDGETS, ServerProcess>> = {};
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: () => string[];

  beforeAll(async () => {
    const verifyUrl = await siteverify.start();
    const widgetServer = (kind: keyof typeof WIDGETS) =>
      startServerProcess(serverEnv(kind, { CAPTCHA: kind, CAPTCHA_SECRET: SITEVERIFY_SECRET, CAPTCHA_SITE_KEY: SITE_KEY, CAPTCHA_VERIFY_URL: verifyUrl }));
    [server, widgetServers.turnstile, widgetServers.hcaptcha, browser] = await Promise.all([
      startServerProcess(serverEnv('security')),
      widgetServer('turnstile'),
      widgetServer('hcaptcha'),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), server?.stop(), widgetServers.turnstile?.stop(), widgetServers.hcaptcha?.stop(), siteverify.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    context = await phoneContext(browser);
    page = await context.newPage();
    pageErrors = watchForPageErrors(page);
    // A step that has not happened in 8 s will not: fail there, naming the locator, rather than at the test's 30 s.
    page.setDefaultTimeout(8000);
  });
  afterEach(async () => {
    const problems = pageErrors();
    await context.close();
    expect(problems).toEqual([]);
  });

  const open = (path: string, base = server.url) => page.goto(base + path);
  const label = (name: string) => page.getByLabel(name, { exact: true });
  const button = (name: string) => page.getByRole('button', { name, exact: true });
  const accountPhone = (masked: string) => page.getByRole('definition').filter({ hasText: masked });
  const isFocused = (locator: ReturnType<Page['getByLabel']>) => locator.evaluate((el) => el === el.ownerDocument.activeElement);

  async function post(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
    const res = await fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
    return answer;
  }

  /** An account made through the API; with `twoFactor`, 2FA turned on through the API too. */
  async function accountViaApi(phone: string, { twoFactor = false } = {}) {
    await post('/api/sms/send', { phone, purpose: 'register' });
    const { token } = (await post('/api/register', { phone, code: await sms.code(phone, 'register'), password: PASSWORD })) as { token: string };
    if (!twoFactor) return { secret: '', recoveryCodes: [] as string[] };
    const { secret } = (await post('/api/2fa/setup', { password: PASSWORD }, token)) as { secret: string };
    const { recoveryCodes } = (await post('/api/2fa/enable', { code: await totp(secret) }, token)) as { recoveryCodes: string[] };
    return { secret, recoveryCodes };
  }

  async function signInWithPassword(phone: string, password = PASSWORD): Promise<void> {
    await open('/login?lang=en');
    await label('Phone number').fill(phone);
    await label('Password').fill(password);
    await button('Sign in').click();
  }

  it('sets up two-step verification on the account page, shows the recovery codes once, then sign-in asks for the code', async () => {
    const phone = number(0);
    await accountViaApi(phone.e164);
    await signInWithPassword(phone.typed);
    await page.waitForURL('**/account');
    await page.getByText('Off. When it is on').waitFor();
    await button('Set up two-step verification').click();
    // The password first: a session alone must not be able to turn 2FA on.
    expect(await isFocused(label('Current password'))).toBe(true);
    await label('Current password').fill('not my password');
    await button('Continue').click();
    await page.getByText('That is not your current password.').waitFor();
    await label('Current password').fill(PASSWORD);
    await button('Continue').click();

    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    const secret = ((await page.locator('.secret code').textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(await isFocused(label('Authenticator code'))).toBe(true);
    await screenshot(page, 'account-2fa-setup.en');

    await label('Authenticator code').fill('12345');
    await button('Turn on').click();
    await page.getByText('The code is 6 digits.').waitFor();
    await label('Authenticator code').fill(await totp(secret));
    await button('Turn on').click();

    const codes = page.getByRole('region', { name: 'Recovery codes' }).getByRole('listitem');
    await page.getByText('Save these codes now: they are shown only this once.').waitFor();
    expect(await codes.count()).toBe(10);
    expect(await codes.first().textContent()).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    await page.getByText('Two-step verification is on.').waitFor();
    await page.getByText('10 recovery codes left.').waitFor();
    await page.getByText('Two-step verification turned on').waitFor();
    const download = page.waitForEvent('download');
    await button('Download').click();
    expect((await download).suggestedFilename()).toBe('sms-verify-recovery-codes.txt');
    await screenshot(page, 'account-recovery-codes.en');
    await button('I have saved them').click();
    expect(await codes.count()).toBe(0);

    await button('Sign out').click();
    await page.waitForURL('**/login');
    await label('Phone number').fill(phone.typed);
    await label('Password').fill(PASSWORD);
    await button('Sign in').click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    expect(await isFocused(label('Authenticator code'))).toBe(true);
    expect(await page.getByRole('tab').count()).toBe(0);
    await screenshot(page, 'login-2fa.en');

    await label('Authenticator code').fill('000000');
    await button('Verify').click();
    await page.getByText('The authenticator code or recovery code is wrong or was already used.').waitFor();
    expect(await label('Authenticator code').getAttribute('aria-invalid')).toBe('true');
    expect(await isFocused(label('Authenticator code'))).toBe(true);
    await screenshot(page, 'login-2fa-wrong.en');
    // The step after the one that turned 2FA on: a code once accepted is never accepted again.
    await label('Authenticator code').fill(await totp(secret, 1));
    await button('Verify').click();
    await page.waitForURL('**/account');
    await accountPhone(phone.masked).waitFor();
  });

  it('a recovery code signs in once; a second use is refused', async () => {
    const phone = number(1);
    const { recoveryCodes } = await accountViaApi(phone.e164, { twoFactor: true });
    const [first, second] = recoveryCodes;

    await signInWithPassword(phone.typed);
    await label('Authenticator code').fill(first!);
    await button('Verify').click();
    await page.waitForURL('**/account');
    await page.getByText('9 recovery codes left.').waitFor();
    await page.getByText('Recovery code used').waitFor();
    await button('Sign out').click();
    await page.waitForURL('**/login');

    await label('Phone number').fill(phone.typed);
    await label('Password').fill(PASSWORD);
    await button('Sign in').click();
    await label('Authenticator code').fill(first!.toUpperCase());
    await button('Verify').click();
    await page.getByText('The authenticator code or recovery code is wrong or was already used.').waitFor();
    await label('Authenticator code').fill(second!);
    await button('Verify').click();
    await page.waitForURL('**/account');
    await page.getByText('8 recovery codes left.').waitFor();
  });

  it('a sign-in step the server no longer takes goes back to step one with a message', async () => {
    const phone = number(2);
    await accountViaApi(phone.e164, { twoFactor: true });
    await signInWithPassword(phone.typed);
    await label('Authenticator code').waitFor();
    // The ticket lives five minutes; the server's answer once it has expired is played here.
    await page.route('**/api/login/2fa', (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'ticket_invalid', message: 'The sign-in step expired.', field: 'ticket' } }),
      }),
    );
    await label('Authenticator code').fill('123456');
    await button('Verify').click();
    await page.getByRole('alert').filter({ hasText: 'This step expired or was already completed. Sign in again.' }).waitFor();
    await page.getByRole('tab', { name: 'Password' }).waitFor();
    expect(await label('Password').inputValue()).toBe(PASSWORD);
    expect(await button('Sign in').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);

    await page.unroute('**/api/login/2fa');
    await button('Sign in').click();
    await button('Start over').click();
    await button('Sign in').waitFor();
  });

  it('resetting the password with 2FA on asks for the authenticator code, and the same SMS code still works', async () => {
    const phone = number(3);
    const { secret } = await accountViaApi(phone.e164, { twoFactor: true });
    const newPassword = 'a brand new password 3';
    await open('/reset?lang=en');
    await label('Phone number').fill(phone.typed);
    await button('Send code').click();
    await label('Verification code').fill(await sms.code(phone.e164, 'reset_password'));
    await label('New password').fill(newPassword);
    await label('Confirm password').fill(newPassword);
    expect(await label('Authenticator code').count()).toBe(0);
    await button('Reset password').click();

    const message = page.getByText('This account has two-step verification on');
    await message.waitFor();
    expect(await isFocused(label('Authenticator code'))).toBe(true);
    expect((await label('Authenticator code').getAttribute('aria-describedby'))?.split(' ')).toContain(
      await message.evaluate((el) => el.closest('[aria-live]')?.id),
    );
    await screenshot(page, 'reset-2fa.en');
    await label('Authenticator code').fill(await totp(secret, 1));
    await button('Reset password').click();
    await page.waitForURL('**/login');
    await page.getByText('Your password has been reset.').waitFor();
    expect(sms.count(phone.e164, 'reset_password')).toBe(1);
  });

  it('changes the phone number with a code sent to the new number, and shows the new masked number', async () => {
    const phone = number(4);
    const next = number(5);
    await accountViaApi(phone.e164);
    await signInWithPassword(phone.typed);
    await page.waitForURL('**/account');
    await accountPhone(phone.masked).waitFor();
    await button('Change phone number').click();
    expect(await isFocused(label('New phone number'))).toBe(true);

    await label('New phone number').fill(next.typed);
    await button('Send code').click();
    await page.getByRole('button', { name: /^Send code in \d+ s$/ }).waitFor();
    await label('Verification code').fill(await sms.code(next.e164, 'change_phone'));
    await label('Current password').fill('not the password');
    await button('Change phone number').click();
    await page.getByText('That is not your current password.').waitFor();
    expect(await isFocused(label('Current password'))).toBe(true);
    await screenshot(page, 'account-phone-change.en');

    await label('Current password').fill(PASSWORD);
    await button('Change phone number').click();
    await page.getByText(`Your phone number is now ${next.masked}.`).waitFor();
    await accountPhone(next.masked).waitFor();
    expect(await label('New phone number').count()).toBe(0);
    await page.getByText(`was ${phone.masked}`).waitFor();
    await screenshot(page, 'account-phone-changed.en');

    // The old number got a notice; signing in now takes the new one.
    await button('Sign out').click();
    await signInWithPassword(next.typed);
    await page.waitForURL('**/account');
    await accountPhone(next.masked).waitFor();
  });

  it('turns two-step verification off in Chinese, with the password and an authenticator code', async () => {
    const phone = number(6);
    const { secret, recoveryCodes } = await accountViaApi(phone.e164, { twoFactor: true });
    await open('/login');
    await page.getByLabel('手机号').fill(phone.typed);
    await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.getByRole('heading', { name: '两步验证' }).waitFor();
    await screenshot(page, 'login-2fa.zh-CN');
    await page.getByLabel('身份验证器验证码').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: '验证' }).click();
    await page.waitForURL('**/account');
    await page.getByText('剩余 9 个恢复码。').waitFor();
    await page.getByText('使用了恢复码').waitFor();
    await screenshot(page, 'account-2fa-on.zh-CN');

    await page.getByRole('button', { name: '关闭两步验证', exact: true }).click();
    await page.getByLabel('当前密码').fill(PASSWORD);
    await page.getByLabel('身份验证器验证码').fill(await totp(secret, 1));
    await screenshot(page, 'account-2fa-turn-off.zh-CN');
    await page.getByRole('button', { name: '关闭两步验证', exact: true }).click();
    await page.getByText('两步验证已关闭。').waitFor();
    await page.getByRole('button', { name: '设置两步验证' }).waitFor();
    await page.getByText('关闭两步验证').waitFor();
  });

  it('gets new recovery codes with the password and an authenticator code; the old ones stop working', async () => {
    const phone = number(10);
    const { secret, recoveryCodes: oldCodes } = await accountViaApi(phone.e164, { twoFactor: true });
    await signInWithPassword(phone.typed);
    await label('Authenticator code').fill(await totp(secret, 1));
    await button('Verify').click();
    await page.waitForURL('**/account');

    await button('Get new recovery codes').click();
    await page.getByText('every old recovery code stops working').waitFor();
    expect(await isFocused(label('Current password'))).toBe(true);
    // The authenticator's next code is already spent on the sign-in: an old recovery code is the current code here.
    await label('Current password').fill('not the password');
    await label('Authenticator code').fill(oldCodes[0]!);
    await button('Get new recovery codes').click();
    await page.getByText('That is not your current password.').waitFor();
    await label('Current password').fill(PASSWORD);
    await button('Get new recovery codes').click();

    await page.getByText('New recovery codes are ready; the old ones no longer work.').waitFor();
    const shown = await page.getByRole('region', { name: 'Recovery codes' }).locator('code').allTextContents();
    expect(shown).toHaveLength(10);
    expect(shown.some((c) => oldCodes.includes(c))).toBe(false);
    await page.getByText('10 recovery codes left.').waitFor();
    await page.getByText('Recovery codes replaced').waitFor();
    await screenshot(page, 'account-new-recovery-codes.en');
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'account-new-recovery-codes.desktop.en');

    // An old code no longer finishes a sign-in; a new one does.
    const ticket = async () => (await post('/api/login/password', { phone: phone.e164, password: PASSWORD })).ticket as string;
    await expect(post('/api/login/2fa', { ticket: await ticket(), code: oldCodes[1] })).rejects.toThrow(/two_factor_invalid/);
    expect(await post('/api/login/2fa', { ticket: await ticket(), code: shown[0] })).toHaveProperty('token');
  });

  it('has the English accessible names of the new controls, each naming exactly one element', async () => {
    // Waits for the element first, then insists it is the only one.
    const expectOne = async (what: string, locator: ReturnType<Page['getByLabel']>) => {
      await locator.first().waitFor();
      expect(await locator.count(), what).toBe(1);
    };
    const phone = number(7);
    const { secret } = await accountViaApi(phone.e164, { twoFactor: true });

    await signInWithPassword(phone.typed);
    await label('Authenticator code').waitFor();
    for (const name of ['Authenticator code']) await expectOne(name, label(name));
    for (const name of ['Verify']) await expectOne(name, button(name));
    await label('Authenticator code').fill(await totp(secret, 1));
    await button('Verify').click();
    await page.waitForURL('**/account');
    await button('Turn off two-step verification').waitFor();
    for (const name of ['Turn off two-step verification', 'Get new recovery codes', 'Change phone number', 'Sign out', 'Sign out other devices']) {
      await expectOne(name, button(name));
    }
    await button('Turn off two-step verification').click();
    await label('Current password').waitFor();
    for (const name of ['Current password', 'Authenticator code']) await expectOne(name, label(name));
    await expectOne('Turn off two-step verification', button('Turn off two-step verification'));
    await button('Change phone number').click();
    await label('New phone number').waitFor();
    for (const name of ['New phone number', 'Verification code', 'Current password']) await expectOne(name, label(name));
    for (const name of ['Send code', 'Change phone number']) await expectOne(name, button(name));
    expect(await label('Authenticator code').count()).toBe(0);
    await button('Use an authenticator code instead').click();
    await label('Authenticator code').waitFor();
    await expectOne('Authenticator code', label('Authenticator code'));
    expect(await label('Current password').count()).toBe(0);
  });

  it.each([
    ['turnstile', 8, 'en', 'en'],
    // hCaptcha's language option is hl=zh-CN; Turnstile would be language=zh-cn.
    ['hcaptcha', 9, 'zh-CN', 'zh-CN'],
  ] as const)('with CAPTCHA=%s: renders the widget, sends its token, and resets it after each send', async (kind, last, locale, widgetLanguage) => {
    const { script, name } = WIDGETS[kind];
    await page.route(script, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: fakeWidgetScript(kind) }));
    const phone = number(last);
    const tokensBefore = siteverify.tokens.length;
    await open(`/register?lang=${locale === 'en' ? 'en' : 'zh'}`, widgetServers[kind]!.url);
    const widget = page.locator('.fake-widget');
    await page.getByRole('group', { name: locale === 'en' ? 'Security check' : '人机验证' }).waitFor();
    await expect.poll(() => widget.getAttribute('data-token')).toBe(`good-${kind}-1`);
    // The normal widget (300 px) does not fit the card on a 360 px screen: the compact one does.
    expect(await widget.textContent()).toBe(`Fake ${name} (${SITE_KEY}, ${widgetLanguage}, compact)`);
    expect(await page.locator('img[src^="data:image"]').count()).toBe(0);
    await screenshot(page, `register-${kind}.${locale}`);

    // Refused by siteverify (expired while the person hesitated): said beside the widget, which gives a new token.
    siteverify.refuseNext();
    await page.getByRole('textbox').first().fill(phone.typed);
    const send = page.getByRole('button', { name: locale === 'en' ? 'Send code' : '获取验证码' });
    await send.click();
    await page.getByText(locale === 'en' ? 'The security check failed or expired.' : '人机验证未通过或已过期').waitFor();
    await expect.poll(() => widget.getAttribute('data-token')).toBe(`good-${kind}-2`);
    await screenshot(page, `register-${kind}-refused.${locale}`);
    await send.click();
    await sms.code(phone.e164, 'register');
    expect(siteverify.tokens.slice(tokensBefore)).toEqual([`good-${kind}-1`, `good-${kind}-2`]);
    // The code is on its way: the widget is out of sight rather than asking to be solved again.
    await expect.poll(() => widget.count()).toBe(0);
    await screenshot(page, `register-${kind}-sent.${locale}`);
  });
});
