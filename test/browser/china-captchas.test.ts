import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { geetestSignToken } from '../../src/captcha/geetest-captcha.js';
import { startFakeGeetest, type FakeGeetest, type GeetestPass } from '../fakes/geetest-server.js';
import { startFakeTencentCaptcha, type FakeTencentCaptcha } from '../fakes/tencent-captcha-server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { chromiumAvailable, launchChromium, outbox, phoneContext, screenshot, watchForPageErrors } from './harness.js';

const API_KEY = { secretId: 'AKIDbrowserbrowserbrowserbrowser', secretKey: 'browser-api-secret-0123456789' };
const TENCENT_APP = { appId: 190000002, appSecretKey: 'browser-app-secret-0123456789' };
const GEETEST = { captchaId: '0123456789abcdef0123456789abcdef', captchaKey: 'fedcba9876543210fedcba9876543210' };
const TENCENT_SCRIPT = 'https://turing.captcha.qcloud.com/TJCaptcha.js';
const GEETEST_SCRIPT = 'https://static.geetest.com/v4/gt4.js';

/** Mainland numbers 137…, clear of the other browser tests (138…, 139…). */
const number = (last: number) => {
  const national = `1370013${String(8000 + last)}`;
  return { typed: national, e164: `+86${national}` };
};

/**
 * Stands in for TJCaptcha.js: `new TencentCaptcha(appId, callback, options).show()` shows a small
 * challenge over the page, and its "solve" button answers with the next ticket the test had the
 * vendor fake issue (so the server's DescribeCaptchaResult really checks it).
 */
const fakeTencentScript = (answers: { ticket: string; randstr: string }[]) => `
window.TencentCaptcha = (() => {
  const answers = ${JSON.stringify(answers)};
  return class TencentCaptcha {
    constructor(appId, callback, options) { this.appId = appId; this.callback = callback; this.options = options; }
    show() {
      const mask = document.createElement('div');
      mask.className = 'fake-tencent-captcha';
      mask.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;align-items:center;justify-content:center';
      const box = document.createElement('div');
      box.style.cssText = 'background:#fff;padding:24px;border-radius:8px;width:260px;text-align:center';
      box.textContent = 'Fake Tencent Captcha (' + this.appId + ', ' + this.options.userLanguage + ')';
      const solve = document.createElement('button');
      solve.textContent = 'solve';
      solve.style.cssText = 'display:block;margin:16px auto 0';
      solve.addEventListener('click', () => { mask.remove(); this.callback({ ret: 0, ...answers.shift() }); });
      const close = document.createElement('button');
      close.textContent = 'close';
      close.addEventListener('click', () => { mask.remove(); this.callback({ ret: 2 }); });
      box.append(solve, close);
      mask.append(box);
      document.body.append(mask);
    }
    destroy() {}
  };
})();`;

/**
 * Stands in for gt4.js: `initGeetest4(config, ready)` hands a captcha object whose float button,
 * once clicked, passes with the next lot the test had the vendor fake issue.
 */
const fakeGeetestScript = (passes: GeetestPass[]) => `
window.initGeetest4 = (config, ready) => {
  const passes = ${JSON.stringify(passes)};
  let success = () => {};
  let current;
  const button = document.createElement('div');
  button.className = 'fake-geetest';
  button.setAttribute('role', 'button');
  button.style.cssText = 'height:44px;border:1px solid #ccc;border-radius:4px;display:flex;align-items:center;justify-content:center';
  const idle = () => { current = undefined; button.textContent = config.language === 'eng' ? 'Click to verify' : '点击按钮进行验证'; button.dataset.state = 'idle'; };
  button.addEventListener('click', () => {
    current = passes.shift();
    button.textContent = config.language === 'eng' ? 'Verified' : '验证成功';
    button.dataset.state = 'passed';
    success();
  });
  idle();
  setTimeout(() => ready({
    appendTo(target) { target.append(button); },
    getValidate() { return current; },
    onSuccess(handler) { success = handler; return this; },
    onError() { return this; },
    reset: idle,
    destroy() { button.remove(); },
    captchaId: config.captchaId,
  }), 0);
};`;

describe.runIf(chromiumAvailable())('Tencent Captcha and GeeTest on the pages in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-browser-china-'));
  const sms = outbox(join(dir, 'outbox.jsonl'));
  let tencent: FakeTencentCaptcha;
  let geetest: FakeGeetest;
  const servers: { tencent?: ServerProcess; geetest?: ServerProcess } = {};
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: () => string[];
  const serverEnv = (name: string, extra: Record<string, string>) => ({
    NODE_ENV: 'test',
    SECRET: 'browser-secret-browser-secret-browser-secret',
    DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
    SMS_OUTBOX_FILE: join(dir, 'outbox.jsonl'),
    LOG_LEVEL: 'warn',
    ...extra,
  });

  beforeAll(async () => {
    [tencent, geetest] = await Promise.all([startFakeTencentCaptcha({ ...API_KEY, ...TENCENT_APP }), startFakeGeetest(GEETEST)]);
    // One process start at a time: several at once on a busy machine can miss the harness's start deadline.
    browser = await launchChromium();
    servers.tencent = await startServerProcess(
      serverEnv('tencent', {
        CAPTCHA: 'tencent',
        CAPTCHA_SITE_KEY: String(TENCENT_APP.appId),
        CAPTCHA_SECRET: TENCENT_APP.appSecretKey,
        TENCENTCLOUD_SECRET_ID: API_KEY.secretId,
        TENCENTCLOUD_SECRET_KEY: API_KEY.secretKey,
        CAPTCHA_VERIFY_URL: tencent.url,
      }),
    );
    servers.geetest = await startServerProcess(
      serverEnv('geetest', { CAPTCHA: 'geetest', CAPTCHA_SITE_KEY: GEETEST.captchaId, CAPTCHA_SECRET: GEETEST.captchaKey, CAPTCHA_VERIFY_URL: `${geetest.url}/validate` }),
    );
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), servers.tencent?.stop(), servers.geetest?.stop(), tencent?.close(), geetest?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    context = await phoneContext(browser);
    page = await context.newPage();
    pageErrors = watchForPageErrors(page);
    page.setDefaultTimeout(8000);
  });
  afterEach(async () => {
    const problems = pageErrors();
    await context.close();
    expect(problems).toEqual([]);
  });

  it.each([
    ['zh', 1, '人机验证', '点击完成人机验证', '✓ 已完成验证', '获取验证码', 'zh-cn', '请先完成人机验证。'],
    ['en', 2, 'Security check', 'Tap to verify you are human', '✓ Verified', 'Send code', 'en', 'Complete the security check first.'],
  ] as const)('with CAPTCHA=tencent (%s): opens the challenge, sends ticket and randstr, and hides the check once the code is sent', async (lang, last, group, open, done, sendLabel, userLanguage, required) => {
    const answers = [tencent.solve(), tencent.solve()];
    await page.route(TENCENT_SCRIPT, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: fakeTencentScript(answers) }));
    const phone = number(last);
    const callsBefore = tencent.calls.length;
    await page.goto(`${servers.tencent!.url}/register?lang=${lang}`);
    const row = page.getByRole('group', { name: group });
    const verify = row.getByRole('button', { name: open });
    await verify.waitFor();
    expect(await page.locator('img[src^="data:image"]').count()).toBe(0);
    await screenshot(page, `register-tencent.${lang}`);

    // Sending before the check is said beside the row, and nothing reaches the server's verifier.
    await page.getByRole('textbox').first().fill(phone.typed);
    const send = page.getByRole('button', { name: sendLabel });
    await send.click();
    await row.getByText(required).waitFor();
    expect(tencent.calls.length).toBe(callsBefore);

    await verify.click();
    expect(await page.locator('.fake-tencent-captcha').textContent()).toContain(`Fake Tencent Captcha (${TENCENT_APP.appId}, ${userLanguage})`);
    await screenshot(page, `register-tencent-challenge.${lang}`);
    await page.getByRole('button', { name: 'solve' }).click();
    await row.getByRole('button', { name: done }).waitFor();
    // Solved: the "complete the check first" message beside the row is gone.
    await expect.poll(() => row.getByText(required).count()).toBe(0);
    await screenshot(page, `register-tencent-verified.${lang}`);
    await send.click();
    await sms.code(phone.e164, 'register');
    expect(tencent.calls.slice(callsBefore)).toEqual([
      { CaptchaType: 9, Ticket: answers[0]!.ticket, Randstr: answers[0]!.randstr, CaptchaAppId: TENCENT_APP.appId, AppSecretKey: TENCENT_APP.appSecretKey, UserIp: '127.0.0.1' },
    ]);
    // The code is on its way: the check is out of sight rather than asking to be solved again (a
    // ticket works once; the row comes back with a fresh check when another code is asked for).
    await expect.poll(() => row.getByRole('button', { name: open }).count()).toBe(0);
  });

  it.each([
    ['zh', 3, '点击按钮进行验证', '获取验证码'],
    ['en', 4, 'Click to verify', 'Send code'],
  ] as const)('with CAPTCHA=geetest (%s): renders the float button, sends the four values, and hides it once the code is sent', async (lang, last, idleText, sendLabel) => {
    const passes = [geetest.solve(), geetest.solve()];
    const first = passes[0]!;
    await page.route(GEETEST_SCRIPT, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: fakeGeetestScript(passes) }));
    const phone = number(last);
    const callsBefore = geetest.calls.length;
    await page.goto(`${servers.geetest!.url}/register?lang=${lang}`);
    const widget = page.locator('.fake-geetest');
    await expect.poll(() => widget.textContent()).toBe(idleText);
    await screenshot(page, `register-geetest.${lang}`);
    await widget.click();
    await expect.poll(() => widget.getAttribute('data-state')).toBe('passed');
    await screenshot(page, `register-geetest-passed.${lang}`);
    await page.getByRole('textbox').first().fill(phone.typed);
    await page.getByRole('button', { name: sendLabel }).click();
    await sms.code(phone.e164, 'register');
    const [call] = geetest.calls.slice(callsBefore);
    expect(Object.fromEntries(call!)).toEqual({ ...first, sign_token: geetestSignToken(GEETEST.captchaKey, first.lot_number) });
    // The code is on its way: the widget is out of sight until another code is asked for (a pass works once).
    await expect.poll(() => widget.count()).toBe(0);
  });
});
