import { AxiosError, AxiosHeaders, type AxiosResponse } from 'axios';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../../src/errors.js';
import { toFailure, type ApiFailure } from './api.js';
import { describeFailure, forReauthentication, type FormMessage } from './error-messages.js';
import { createAppI18n, type Locale } from './i18n.js';
import en from './locales/en.js';
import zhCN from './locales/zh-CN.js';

const apiFailure = (code: ErrorCode, extra: Record<string, unknown> = {}): ApiFailure => ({
  kind: 'api',
  status: ERRORS[code].status,
  error: { code, message: ERRORS[code].message, ...extra },
});

/** The text a person reads, in a locale. */
function render(message: FormMessage, locale: Locale): string {
  const { t } = createAppI18n(locale).global;
  return message.plural === undefined ? t(message.key, message.params ?? {}) : t(message.key, message.params ?? {}, message.plural);
}

function keysOf(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keysOf(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('API errors as messages for people', () => {
  it.each(Object.keys(ERRORS) as ErrorCode[])('%s has its own message in Chinese and English', (code) => {
    const message = describeFailure(apiFailure(code, { retryAfter: 30, attemptsLeft: 2 }), 'submit');
    for (const locale of ['zh-CN', 'en'] as const) {
      const text = render(message, locale);
      expect(text).not.toBe(message.key);
      expect(text).not.toMatch(/[{}]/);
    }
    expect(render(message, 'zh-CN')).not.toBe(render(message, 'en'));
  });

  it('both locales have the same keys', () => {
    expect(keysOf(en).sort()).toEqual(keysOf(zhCN).sort());
  });

  it('a wrong code says how many tries are left, beside the code input', () => {
    const three = describeFailure(apiFailure('code_invalid', { field: 'code', attemptsLeft: 3 }), 'submit');
    expect(three).toMatchObject({ target: 'code', key: 'errors.code_invalid_attempts' });
    expect(render(three, 'en')).toBe('Wrong code. 3 tries left.');
    expect(render(three, 'zh-CN')).toBe('验证码不正确，还可以再试 3 次。');
    const one = describeFailure(apiFailure('code_invalid', { field: 'code', attemptsLeft: 1 }), 'submit');
    expect(render(one, 'en')).toBe('Wrong code. 1 try left.');
  });

  it('a wrong code with no tries left, or no pending code, offers a new code', () => {
    expect(describeFailure(apiFailure('code_invalid', { field: 'code', attemptsLeft: 0 }), 'submit')).toMatchObject({
      target: 'code',
      key: 'errors.code_invalid_last',
      remedy: 'resend',
    });
    expect(describeFailure(apiFailure('code_invalid', { field: 'code' }), 'submit')).toMatchObject({ key: 'errors.code_invalid', remedy: 'resend' });
  });

  it('an expired or burned code offers to send a new one', () => {
    for (const code of ['code_expired', 'code_attempts_exceeded'] as const) {
      expect(describeFailure(apiFailure(code, { field: 'code' }), 'submit')).toMatchObject({ target: 'code', remedy: 'resend' });
    }
  });

  it('rate limited shows the wait beside the Send code button, or at the top for a submit', () => {
    const send = describeFailure(apiFailure('rate_limited', { retryAfter: 42 }), 'send');
    expect(send).toMatchObject({ target: 'code', key: 'errors.rate_limited', params: { seconds: 42 } });
    expect(render(send, 'zh-CN')).toContain('42 秒');
    expect(describeFailure(apiFailure('rate_limited', { retryAfter: 42 }), 'submit').target).toBe('form');
    expect(describeFailure(apiFailure('rate_limited'), 'send').key).toBe('errors.rate_limited_later');
  });

  it('a registered number links to sign in; an unknown one to sign up', () => {
    expect(describeFailure(apiFailure('phone_taken', { field: 'phone' }), 'send')).toMatchObject({ target: 'phone', remedy: 'sign_in' });
    expect(describeFailure(apiFailure('phone_not_registered', { field: 'phone' }), 'send')).toMatchObject({ target: 'phone', remedy: 'sign_up' });
  });

  it("puts a message where the server's error.field says", () => {
    expect(describeFailure(apiFailure('weak_password', { field: 'newPassword' }), 'submit').target).toBe('newPassword');
    expect(describeFailure(apiFailure('captcha_invalid', { field: 'captchaAnswer' }), 'send').target).toBe('captcha');
    expect(describeFailure(apiFailure('invalid_request', { field: 'code' }), 'submit').target).toBe('code');
    expect(describeFailure(apiFailure('invalid_request', { field: 'purpose' }), 'submit').target).toBe('form');
  });

  it('a missing or wrong second factor goes beside the authenticator-code input, whatever the route calls it', () => {
    for (const field of ['code', 'totp', undefined]) {
      expect(describeFailure(apiFailure('two_factor_invalid', field ? { field } : {}), 'submit').target).toBe('totp');
    }
    expect(describeFailure(apiFailure('two_factor_required', { field: 'totp' }), 'submit')).toEqual({ target: 'totp', key: 'errors.two_factor_required' });
  });

  it('a wrong password typed again while signed in says "current password", not "phone number or password"', () => {
    const message = forReauthentication(describeFailure(apiFailure('invalid_credentials', { field: 'password' }), 'submit'));
    expect(message).toEqual({ target: 'password', key: 'errors.wrong_current_password' });
    expect(render(message, 'en')).toBe('That is not your current password.');
    expect(forReauthentication(describeFailure(apiFailure('two_factor_invalid'), 'submit')).key).toBe('errors.two_factor_invalid');
  });

  it("the phone change form's newPhone is its phone input; an ended sign-in step is a message for the whole form", () => {
    expect(describeFailure(apiFailure('phone_taken', { field: 'newPhone' }), 'submit')).toMatchObject({ target: 'phone', remedy: 'sign_in' });
    expect(describeFailure(apiFailure('ticket_invalid', { field: 'ticket' }), 'submit')).toEqual({ target: 'form', key: 'errors.ticket_invalid' });
  });

  it('offline, 5xx and unknown codes get a retryable message; an unknown 4xx does not', () => {
    expect(describeFailure({ kind: 'unreachable' }, 'submit')).toEqual({ target: 'form', key: 'errors.unreachable', remedy: 'retry' });
    for (const code of ['sms_send_failed', 'service_unavailable', 'internal_error'] as const) {
      expect(describeFailure(apiFailure(code), 'submit').remedy).toBe('retry');
    }
    const future = (status: number): ApiFailure => ({ kind: 'api', status, error: { code: 'brand_new' as ErrorCode, message: '' } });
    expect(describeFailure(future(503), 'submit')).toMatchObject({ key: 'errors.internal_error', remedy: 'retry' });
    expect(describeFailure(future(400), 'submit')).toEqual({ target: 'form', key: 'errors.invalid_request' });
  });
});

describe('what axios threw, as a failure', () => {
  const response = (status: number, data: unknown): AxiosResponse =>
    ({ status, statusText: '', data, headers: {}, config: { headers: new AxiosHeaders() } }) as AxiosResponse;

  it('an error body from the API keeps its code and details', () => {
    const body = { error: { code: 'code_invalid', message: 'x', field: 'code', attemptsLeft: 4 } };
    const err = new AxiosError('400', 'ERR_BAD_REQUEST', undefined, undefined, response(400, body));
    expect(toFailure(err)).toEqual({ kind: 'api', status: 400, error: body.error });
  });

  it("a proxy's HTML error page and a dropped connection are both unreachable", () => {
    const proxy = new AxiosError('502', 'ERR_BAD_RESPONSE', undefined, undefined, response(502, '<html>Bad Gateway</html>'));
    expect(toFailure(proxy)).toEqual({ kind: 'unreachable', status: 502 });
    expect(toFailure(new AxiosError('Network Error', 'ERR_NETWORK'))).toEqual({ kind: 'unreachable' });
    expect(toFailure(new AxiosError('timeout', 'ECONNABORTED'))).toEqual({ kind: 'unreachable' });
  });
});
