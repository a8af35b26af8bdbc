import type { ErrorCode } from '../../src/errors.js';
import type { ApiFailure } from './api.js';
import type { ErrorMessages, MessageSchema } from './locales/zh-CN.js';

/** The inputs a form can have. Messages are shown next to one of them, or at the top of the form. */
export type FieldName = 'phone' | 'captcha' | 'code' | 'password' | 'confirmPassword' | 'newPassword' | 'totp';
export type Target = FieldName | 'form';

/** What a message offers besides the text: a link or button that gets the person unstuck. */
export type Remedy = 'sign_in' | 'sign_up' | 'resend' | 'retry';

export type ErrorMessageKey = `errors.${keyof ErrorMessages}`;
export type ValidationMessageKey = `validation.${keyof MessageSchema['validation']}`;

/** A message for the person, not yet translated: where it goes, its key and its values. */
export interface FormMessage {
  target: Target;
  key: ErrorMessageKey | ValidationMessageKey;
  params?: Record<string, number>;
  /** Picks the plural form (attempts left). */
  plural?: number;
  remedy?: Remedy;
  /** 'notice': news, not a mistake (a code is already on its way); the input is not marked invalid. */
  tone?: 'notice';
}

/** Which request failed: a code send or the form's own submit. Limits on sending belong beside the Send code button. */
export type Stage = 'send' | 'submit';

interface Placement {
  target: Target | ((stage: Stage) => Target);
  remedy?: Remedy;
  /**
   * The target wins over the server's `field`. The second-factor codes name their input `code` on
   * some routes and `totp` on others, but on every page it is the authenticator-code input.
   */
  fixed?: true;
}

const besideSendButton = (stage: Stage): Target => (stage === 'send' ? 'code' : 'form');

/** Every code of the catalogue; a new code on the server does not compile here until it has a place. */
const PLACEMENTS: Record<ErrorCode, Placement> = {
  invalid_request: { target: 'form' },
  invalid_phone: { target: 'phone' },
  captcha_required: { target: 'captcha' },
  captcha_invalid: { target: 'captcha' },
  rate_limited: { target: besideSendButton },
  phone_taken: { target: 'phone', remedy: 'sign_in' },
  phone_not_registered: { target: 'phone', remedy: 'sign_up' },
  code_invalid: { target: 'code' },
  code_expired: { target: 'code', remedy: 'resend' },
  code_attempts_exceeded: { target: 'code', remedy: 'resend' },
  weak_password: { target: 'password' },
  invalid_credentials: { target: 'password' },
  unauthorized: { target: 'form', remedy: 'sign_in' },
  not_found: { target: 'form' },
  payload_too_large: { target: 'form' },
  request_timeout: { target: 'form', remedy: 'retry' },
  headers_too_large: { target: 'form' },
  sms_send_failed: { target: besideSendButton, remedy: 'retry' },
  service_unavailable: { target: 'form', remedy: 'retry' },
  internal_error: { target: 'form', remedy: 'retry' },
  region_not_allowed: { target: 'phone' },
  destination_blocked: { target: 'phone' },
  account_disabled: { target: 'form' },
  operator_required: { target: 'form' },
  operator_two_factor_required: { target: 'form' },
  two_factor_required: { target: 'totp', fixed: true },
  two_factor_invalid: { target: 'totp', fixed: true },
  two_factor_already_enabled: { target: 'form' },
  two_factor_not_enabled: { target: 'form' },
  two_factor_setup_required: { target: 'form' },
  // Only the sign-in page sees it, and it goes back to its first step: no link to itself.
  ticket_invalid: { target: 'form' },
};

/** The server names request fields (`error.field`); the pages name inputs. */
const FIELD_OF_REQUEST: Record<string, FieldName> = {
  phone: 'phone',
  captchaId: 'captcha',
  captchaAnswer: 'captcha',
  code: 'code',
  password: 'password',
  newPassword: 'newPassword',
  totp: 'totp',
  // The phone change form's one number input is the new number.
  newPhone: 'phone',
};

/**
 * For a form where a signed-in person types their current password again (turning 2FA off,
 * changing the number): "wrong phone number or password" would send them looking at a number
 * they never typed.
 */
export function forReauthentication(message: FormMessage): FormMessage {
  return message.key === 'errors.invalid_credentials' ? { ...message, key: 'errors.wrong_current_password' } : message;
}

/**
 * Turns a failed API call into the message a form shows, and where.
 *
 * @example
 * describeFailure({ kind: 'api', status: 400, error: { code: 'code_invalid', message: '…', field: 'code', attemptsLeft: 3 } }, 'submit')
 * // → { target: 'code', key: 'errors.code_invalid_attempts', params: { n: 3 }, plural: 3 }
 */
export function describeFailure(failure: ApiFailure, stage: Stage): FormMessage {
  if (failure.kind === 'unreachable') return { target: 'form', key: 'errors.unreachable', remedy: 'retry' };

  const { code, field, attemptsLeft, retryAfter, reason } = failure.error;
  const placement = PLACEMENTS[code] as Placement | undefined;
  // A code this build does not know (a newer server): its status still says whether retrying can help.
  if (!placement) {
    return failure.status >= 500
      ? { target: 'form', key: 'errors.internal_error', remedy: 'retry' }
      : { target: 'form', key: 'errors.invalid_request' };
  }
  const byField = field === undefined || placement.fixed ? undefined : FIELD_OF_REQUEST[field];
  const target = byField ?? (typeof placement.target === 'function' ? placement.target(stage) : placement.target);
  const message: FormMessage = { target, key: `errors.${code}` };
  if (placement.remedy) message.remedy = placement.remedy;

  if (code === 'code_invalid') {
    if (attemptsLeft === undefined) return { ...message, remedy: 'resend' };
    if (attemptsLeft <= 0) return { ...message, key: 'errors.code_invalid_last', remedy: 'resend' };
    return { ...message, key: 'errors.code_invalid_attempts', params: { n: attemptsLeft }, plural: attemptsLeft };
  }
  if (code === 'rate_limited') {
    // Not "too many attempts": the person asked once, and the code already sent still works.
    if (reason === 'resend_cooldown' && retryAfter !== undefined) return { ...message, key: 'errors.code_already_sent', params: { seconds: retryAfter }, tone: 'notice' };
    return retryAfter === undefined
      ? { ...message, key: 'errors.rate_limited_later' }
      : { ...message, params: { seconds: retryAfter } };
  }
  return message;
}
