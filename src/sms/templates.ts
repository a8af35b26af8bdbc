import type { Purpose } from '../config.js';

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
