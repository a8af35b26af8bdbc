import { describe, expect, it } from 'vitest';
import type { ActivityEvent, ApiFailure } from './api.js';
import { describeActivity, formatActivityTime } from './account-activity.js';
import { createAppI18n } from './i18n.js';
import en from './locales/en.js';
import zhCN from './locales/zh-CN.js';
import { recoveryCodesText } from './recovery-codes.js';
import { afterFirstStep, afterSecondStepFailure, FIRST_STEP, ticketUsable } from './sign-in-steps.js';

const NOW = Date.parse('2026-11-25T10:00:00Z');
const session = {
  user: { id: 'u1', phone: '+8613800138000', createdAt: '2026-11-01T00:00:00Z' },
  token: 't',
  accessToken: 'a.b.c',
  tokenType: 'Bearer' as const,
  expiresIn: 900,
  refreshToken: 'rt_x',
};
const failure = (code: string): ApiFailure => ({ kind: 'api', status: 400, error: { code: code as never, message: '' } });

describe('the sign-in steps', () => {
  it('a session signs in; a ticket leads to the second step, expiring with the ticket', () => {
    expect(afterFirstStep(session, NOW)).toBe('signed_in');
    const second = afterFirstStep({ twoFactorRequired: true, ticket: 'abc', expiresIn: 300 }, NOW);
    expect(second).toEqual({ step: 'second_factor', ticket: 'abc', expiresAt: NOW + 300_000 });
  });

  it('a ticket is usable until a few seconds before it expires, and never on step one', () => {
    const second = afterFirstStep({ twoFactorRequired: true, ticket: 'abc', expiresIn: 300 }, NOW);
    if (second === 'signed_in') throw new Error('expected the second step');
    expect(ticketUsable(second, NOW + 290_000)).toBe(true);
    expect(ticketUsable(second, NOW + 296_000)).toBe(false);
    expect(ticketUsable(second, NOW + 301_000)).toBe(false);
    expect(ticketUsable(FIRST_STEP, NOW)).toBe(false);
  });

  it('a wrong code stays on the second step; a ticket the server refuses starts over', () => {
    expect(afterSecondStepFailure(failure('two_factor_invalid'))).toBe('stay');
    expect(afterSecondStepFailure(failure('rate_limited'))).toBe('stay');
    expect(afterSecondStepFailure({ kind: 'unreachable' })).toBe('stay');
    expect(afterSecondStepFailure(failure('ticket_invalid'))).toBe('start_over');
  });
});

describe('the activity list', () => {
  const event = (type: string, detail: string | null = null): ActivityEvent => ({
    type,
    at: '2026-11-25T09:30:00.000Z',
    phone: '+86138****8000',
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0',
    detail,
  });
  const text = (e: ActivityEvent, locale: 'en' | 'zh-CN') => {
    const { t } = createAppI18n(locale).global;
    const line = describeActivity(e, en.activity.events);
    return [t(line.key), line.detail ? t(line.detail.key, line.detail.params ?? {}) : undefined].filter(Boolean).join(' · ');
  };

  it('names each event type in both languages, with the sign-in method or code purpose', () => {
    expect(text(event('sign_in', 'second_factor'), 'en')).toBe('Signed in · two-step verification');
    expect(text(event('sign_in', 'password'), 'zh-CN')).toBe('登录 · 密码');
    expect(text(event('sms_sent', 'change_phone'), 'en')).toBe('SMS sent · phone change');
    expect(text(event('sms_sent', 'register:notice'), 'en')).toBe('SMS sent · notice');
    expect(text(event('recovery_code_used', 'left=9'), 'en')).toBe('Recovery code used · 9 left');
    expect(text(event('phone_changed', 'from +86138****8000'), 'zh-CN')).toBe('更换手机号 · 原号码 138****8000');
    expect(text(event('phone_changed', 'from +4477****0123'), 'en')).toBe('Phone number changed · was +4477****0123');
    expect(text(event('two_factor_enabled'), 'zh-CN')).toBe('开启两步验证');
  });

  it('keeps the masked phone, the IP and the time; unknown types and notes still show, as words', () => {
    const line = describeActivity(event('brand_new_event', 'some_machine_note'), en.activity.events);
    expect(line).toEqual({ key: 'activity.events.other', at: new Date('2026-11-25T09:30:00.000Z'), phone: '138****8000', ip: '203.0.113.7' });
    // "other" is the fallback's key, not an event type the server could send to pick it.
    expect(describeActivity(event('other'), zhCN.activity.events).key).toBe('activity.events.other');
    expect(describeActivity(event('toString'), en.activity.events).key).toBe('activity.events.other');
  });

  it('formats the time in the page language and the given time zone', () => {
    const at = new Date('2026-11-25T09:30:00.000Z');
    expect(formatActivityTime(at, 'en', 'UTC')).toMatch(/Nov 25, 2026.*9:30/);
    expect(formatActivityTime(at, 'zh-CN', 'Asia/Shanghai')).toMatch(/2026年11月25日.*17:30/);
  });
});

describe('the recovery codes file', () => {
  it('says what the codes are, then one a line', () => {
    expect(recoveryCodesText('sms-verify recovery codes', ['abcde-fghij', 'klmno-pqrst'])).toBe('sms-verify recovery codes\n\nabcde-fghij\nklmno-pqrst\n');
  });
});
