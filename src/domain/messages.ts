import type { Purpose } from './purposes.js';

// The texts the service sends: vocabulary of the protocol, so they live in the domain.

/** Languages a verification SMS can be written in: the pages' languages. */
export const SMS_LOCALES = ['zh-CN', 'en'] as const;
export type SmsLocale = (typeof SMS_LOCALES)[number];

const ACTION: Record<SmsLocale, Record<Purpose, string>> = {
  'zh-CN': {
    register: '注册',
    login: '登录',
    reset_password: '重置密码',
    change_phone: '更换手机号',
  },
  en: {
    register: 'sign-up',
    login: 'sign-in',
    reset_password: 'password reset',
    change_phone: 'phone number change',
  },
};

/**
 * The verification SMS, in the shape Chinese carriers require: the 【signature】 first, the code,
 * its lifetime, and a warning not to share it. In English the signature is in square brackets,
 * as international senders write it.
 */
export function verificationText(appName: string, purpose: Purpose, code: string, ttlMinutes: number, locale: SmsLocale = 'zh-CN'): string {
  if (locale === 'en') {
    const minutes = ttlMinutes === 1 ? '1 minute' : `${ttlMinutes} minutes`;
    return `[${appName}] Your ${ACTION.en[purpose]} code is ${code}. It is valid for ${minutes}. Do not share it with anyone.`;
  }
  return `【${appName}】您的${ACTION['zh-CN'][purpose]}验证码是${code}，${ttlMinutes}分钟内有效，请勿泄露给他人。`;
}

// Messages that carry no code have the same shape as the code SMS: 【signature】 first.

/** PRIVACY_MODE=strict: a register (or change_phone) send for a number that already has an account. */
export function alreadyRegisteredText(appName: string): string {
  return `【${appName}】此手机号已注册，请直接登录；如忘记密码可找回密码。如非本人操作，请忽略本短信。`;
}

/** PRIVACY_MODE=strict: a login or reset send for a number with no account. */
export function notRegisteredText(appName: string, purpose: Purpose): string {
  const action = purpose === 'reset_password' ? '找回密码' : '登录';
  return `【${appName}】有人尝试用此手机号${action}，但它尚未注册账号。如非本人操作，请忽略本短信。`;
}

/** To the old number after a phone change. */
export function phoneChangedText(appName: string, newPhoneMasked: string): string {
  return `【${appName}】您的账号已将绑定手机号更换为${newPhoneMasked}。如非本人操作，请立即联系客服。`;
}

export type VerifyLocale = 'zh' | 'en';

/**
 * The Verify API's SMS: the service's name, the code, its lifetime and, with PSD2, the amount and
 * payee the code approves, so the person sees what they are confirming.
 */
export function verifyApiText(m: {
  serviceName: string;
  code: string;
  ttlMinutes: number;
  locale: VerifyLocale;
  doNotShareWarning: boolean;
  amount?: string;
  payee?: string;
}): string {
  const payment = m.amount !== undefined;
  if (m.locale === 'en') {
    return (
      `[${m.serviceName}] Your verification code is ${m.code}` +
      (payment ? `, to approve ${m.amount} to ${m.payee}` : '') +
      `. It expires in ${m.ttlMinutes} minutes.` +
      (m.doNotShareWarning ? ' Do not share it with anyone.' : '')
    );
  }
  return (
    `【${m.serviceName}】您的验证码是${m.code}` +
    (payment ? `，用于向${m.payee}支付${m.amount}` : '') +
    `，${m.ttlMinutes}分钟内有效。` +
    (m.doNotShareWarning ? '请勿泄露给他人。' : '')
  );
}
