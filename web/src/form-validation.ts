import type { FieldName, FormMessage } from './error-messages.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './password-strength.js';

/**
 * Checks a form can make before it asks the server, so an empty box does not burn a captcha or
 * cost a code attempt. Whether a number is a valid mobile number is the server's call (invalid_phone).
 */

export function checkPhone(phone: string): FormMessage | undefined {
  return phone.trim() ? undefined : { target: 'phone', key: 'validation.phoneRequired' };
}

export function checkCaptchaAnswer(answer: string): FormMessage | undefined {
  return answer.trim() ? undefined : { target: 'captcha', key: 'validation.captchaRequired' };
}

/** The Turnstile / hCaptcha widget has produced a token (the person passed its check). */
export function checkCaptchaToken(token: string | undefined): FormMessage | undefined {
  return token ? undefined : { target: 'captcha', key: 'validation.captchaWidgetRequired' };
}

/** An authenticator code or a recovery code: the server tells them apart. `digitsOnly` when only a TOTP code fits (turning 2FA on). */
export function checkTotp(value: string, digitsOnly = false): FormMessage | undefined {
  if (!value.trim()) return { target: 'totp', key: 'validation.totpRequired' };
  if (digitsOnly && !/^[0-9]{6}$/.test(value.trim())) return { target: 'totp', key: 'validation.totpFormat' };
  return undefined;
}

export function checkCode(code: string, length: number): FormMessage | undefined {
  if (!code.trim()) return { target: 'code', key: 'validation.codeRequired' };
  if (!new RegExp(`^[0-9]{${length}}$`).test(code.trim())) {
    return { target: 'code', key: 'validation.codeFormat', params: { length } };
  }
  return undefined;
}

/** A password being chosen (sign up, reset): the server's length rule. */
export function checkNewPassword(password: string, target: FieldName): FormMessage | undefined {
  if (!password) return { target, key: 'validation.passwordRequired' };
  const length = [...password].length;
  if (length < PASSWORD_MIN) return { target, key: 'validation.passwordTooShort' };
  if (length > PASSWORD_MAX) return { target, key: 'validation.passwordTooLong' };
  return undefined;
}

/** A password being typed to sign in: only that there is one, so old passwords still work. */
export function checkPasswordPresent(password: string): FormMessage | undefined {
  return password ? undefined : { target: 'password', key: 'validation.passwordRequired' };
}

export function checkConfirmation(password: string, confirmation: string): FormMessage | undefined {
  if (!confirmation) return { target: 'confirmPassword', key: 'validation.passwordRequired' };
  return password === confirmation ? undefined : { target: 'confirmPassword', key: 'validation.passwordMismatch' };
}

/** The messages that are set, in the order given. */
export function collect(...checks: (FormMessage | undefined)[]): FormMessage[] {
  return checks.filter((m): m is FormMessage => m !== undefined);
}
