import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkCode, checkConfirmation, checkNewPassword, checkPhone } from './form-validation.js';
import { initialLocale, matchLocale } from './i18n.js';
import { passwordStrength } from './password-strength.js';
import { callingCodePrefix, maskPhone } from './phone-display.js';

describe('the password strength hint', () => {
  it.each([
    ['short', 'too_short'],
    ['aaaaaaaaaaaa', 'weak'],
    ['12345678', 'weak'],
    ['abcdefgh', 'weak'],
    ['password', 'weak'],
    ['Password1', 'fair'],
    ['correct horse battery', 'strong'],
    ['Correct horse battery 9', 'strong'],
  ] as const)('%s is %s', (password, level) => {
    expect(passwordStrength(password)).toBe(level);
  });

  it('counts characters as the server does (code points), so 8 Chinese characters are long enough', () => {
    expect(passwordStrength('我的密码很长很长')).not.toBe('too_short');
    expect(checkNewPassword('我的密码很长很长', 'password')).toBeUndefined();
  });
});

describe('checks before asking the server', () => {
  it('a phone number must be typed', () => {
    expect(checkPhone('  ')).toMatchObject({ target: 'phone', key: 'validation.phoneRequired' });
    expect(checkPhone('138 0013 8000')).toBeUndefined();
  });

  it('a code has the configured number of digits', () => {
    expect(checkCode('', 6)?.key).toBe('validation.codeRequired');
    expect(checkCode('12345', 6)).toMatchObject({ key: 'validation.codeFormat', params: { length: 6 } });
    expect(checkCode('12a456', 6)?.key).toBe('validation.codeFormat');
    expect(checkCode('123456', 6)).toBeUndefined();
    expect(checkCode('1234', 4)).toBeUndefined();
  });

  it('a new password is 8 to 128 characters and the confirmation matches', () => {
    expect(checkNewPassword('1234567', 'newPassword')).toMatchObject({ target: 'newPassword', key: 'validation.passwordTooShort' });
    expect(checkNewPassword('x'.repeat(129), 'password')?.key).toBe('validation.passwordTooLong');
    expect(checkConfirmation('a long password', 'a long passwort')?.key).toBe('validation.passwordMismatch');
    expect(checkConfirmation('a long password', 'a long password')).toBeUndefined();
  });
});

describe('phone numbers on screen', () => {
  it('masks a mainland number as 138****8000', () => {
    expect(maskPhone('+8613800138000')).toBe('138****8000');
  });

  it('keeps the country code of other numbers', () => {
    expect(maskPhone('+447700900123')).toBe('+4477****0123');
  });

  it('shows +86 for the default region CN, and nothing for a region it does not know', () => {
    expect(callingCodePrefix('CN')).toBe('+86');
    expect(callingCodePrefix('ZZ')).toBeUndefined();
  });
});

describe('choosing the language', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reads en and zh tags', () => {
    expect(matchLocale('en-US')).toBe('en');
    expect(matchLocale('zh')).toBe('zh-CN');
    expect(matchLocale('fr')).toBeUndefined();
  });

  it('is Chinese by default, English with ?lang=en, and remembers the choice', () => {
    const stored = new Map<string, string>();
    vi.stubGlobal('localStorage', { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => stored.set(k, v) });
    expect(initialLocale('')).toBe('zh-CN');
    expect(initialLocale('?lang=en')).toBe('en');
    expect(initialLocale('')).toBe('en');
    expect(initialLocale('?lang=zh-CN')).toBe('zh-CN');
    expect(initialLocale('')).toBe('zh-CN');
  });

  it('still works when storage is blocked', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('SecurityError');
      },
    });
    expect(initialLocale('?lang=en')).toBe('en');
    expect(initialLocale('')).toBe('zh-CN');
  });
});
