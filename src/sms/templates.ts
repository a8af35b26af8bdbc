import type { Purpose } from '../config.js';

const ACTION: Record<Purpose, string> = {
  register: '注册',
  login: '登录',
  reset_password: '重置密码',
  change_phone: '更换手机号',
};

/**
 * The verification SMS, in the shape Chinese carriers require: the 【signature】 first, the code,
 * its lifetime, and a warning not to share it.
 */
export function verificationText(appName: string, purpose: Purpose, code: string, ttlMinutes: number): string {
  return `【${appName}】您的${ACTION[purpose]}验证码是${code}，${ttlMinutes}分钟内有效，请勿泄露给他人。`;
}
