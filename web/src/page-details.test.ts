import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { deviceOf, describeDevice } from './device.js';
import { describeFailure } from './error-messages.js';
import { createAppI18n } from './i18n.js';
import en from './locales/en.js';
import zhCN from './locales/zh-CN.js';
import { phoneForServer } from './phone-display.js';

const strings = (tree: object): string[] => Object.values(tree).flatMap((v) => (typeof v === 'string' ? [v] : strings(v as object)));

describe('what the pages say (issue 9)', () => {
  it('English calls the image captcha one thing, "image code", on the label and in every error', () => {
    const all = strings(en);
    expect(en.fields.captcha.label).toBe('Image code');
    expect(all.filter((s) => /picture code|captcha/i.test(s))).toEqual([]);
    for (const text of [en.errors.captcha_required, en.errors.captcha_invalid, en.validation.captchaRequired]) expect(text).toMatch(/image code/i);
  });

  it('the captcha says the answer is not case-sensitive, and the 2FA button says what it turns off', () => {
    expect(en.fields.captcha.caseHint).toMatch(/^Not case-sensitive/);
    expect(zhCN.fields.captcha.caseHint).toMatch(/^不区分大小写/);
    expect(en.twoFactor.turnOff).toBe('Turn off two-step verification');
    expect(zhCN.twoFactor.turnOff).toBe('关闭两步验证');
  });

  it('a send inside the cooldown says the code already sent is still valid, with the wait; other limits still say "too many attempts"', () => {
    const { t } = createAppI18n('en').global;
    const cooldown = describeFailure(
      { kind: 'api', status: 429, error: { code: 'rate_limited', message: ERRORS.rate_limited.message, retryAfter: 54, reason: 'resend_cooldown' } },
      'send',
    );
    expect(cooldown).toMatchObject({ target: 'code', tone: 'notice' });
    expect(t(cooldown.key, cooldown.params ?? {})).toBe(
      'A code was already sent to this number and is still valid: check your messages. You can ask for another in 54 s.',
    );
    const other = describeFailure({ kind: 'api', status: 429, error: { code: 'rate_limited', message: '', retryAfter: 54 } }, 'send');
    expect(t(other.key, other.params ?? {})).toBe('Too many attempts. Try again in 54 s.');
    const zh = createAppI18n('zh-CN').global.t(cooldown.key, cooldown.params ?? {});
    expect(zh).toContain('仍然有效');
    expect(zh).toContain('54 秒');
  });
});

describe('devices from the user agent', () => {
  it.each([
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36', 'Chrome', 'Android'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'Safari', 'iOS'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0', 'Edge', 'Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 'macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47', 'WeChat', 'iOS'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36', 'Chrome', 'Linux'],
  ])('%s', (ua, browser, os) => {
    expect(deviceOf(ua)).toEqual({ browser, os });
  });

  it('says "unknown device" when it cannot tell, in the page language', () => {
    const { t } = createAppI18n('zh-CN').global;
    expect(describeDevice(null, (d) => t('device.on', d), t('device.unknown'))).toBe('未知设备');
    expect(describeDevice('curl/8.5.0', (d) => t('device.on', d), t('device.unknown'))).toBe('curl');
    expect(describeDevice(en.app.name, (d) => t('device.on', d), t('device.unknown'))).toBe('未知设备');
    const android = 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36';
    expect(describeDevice(android, (d) => t('device.on', d), t('device.unknown'))).toBe('Android 上的 Chrome');
  });
});

describe('the number sent for a picked country', () => {
  const regions = [
    { region: 'CN', callingCode: '86' },
    { region: 'HK', callingCode: '852' },
    { region: 'GB', callingCode: '44' },
  ];
  it.each([
    ['138 0013 8000', 'CN', '138 0013 8000'],
    ['5123 4567', 'HK', '+85251234567'],
    ['07700 900123', 'GB', '+447700900123'],
    ['+1 202 555 0123', 'HK', '+1 202 555 0123'],
    ['  ', 'HK', ''],
  ])('%s in %s goes as %s', (typed, region, sent) => {
    expect(phoneForServer(typed, region, 'CN', regions)).toBe(sent);
  });
});
