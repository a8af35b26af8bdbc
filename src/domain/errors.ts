/**
 * The error codes the domain throws, with their human message. Codes carry no HTTP status: each
 * surface maps them (src/errors.ts for the end-user API, src/http/verify-api/errors.ts for the
 * Verify API), so one engine serves both shapes.
 */
export const ERROR_MESSAGES = {
  invalid_request: 'The request is malformed or fails validation.',
  invalid_phone: 'That is not a valid mobile number.',
  captcha_required: 'Solve the captcha first.',
  captcha_invalid: 'The captcha answer is wrong, used or expired.',
  rate_limited: 'Too many requests. Try again later.',
  phone_taken: 'This phone number is already registered.',
  phone_not_registered: 'No account uses this phone number.',
  code_invalid: 'The verification code is wrong.',
  code_expired: 'The verification code has expired. Request a new one.',
  code_attempts_exceeded: 'Too many wrong codes. Request a new one.',
  region_not_allowed: 'SMS cannot be sent to numbers in this region.',
  destination_blocked: 'SMS to this number range is paused because of suspected abuse. Try again later.',
  account_disabled: 'This account has been disabled.',
  operator_required: 'Only operators may open the admin console.',
  operator_two_factor_required: 'Turn on two-factor authentication before opening the admin console.',
  two_factor_required: 'This account has two-factor authentication on: send a code from the authenticator app or a recovery code.',
  two_factor_invalid: 'The authenticator or recovery code is wrong or was already used.',
  two_factor_already_enabled: 'Two-factor authentication is already on.',
  two_factor_not_enabled: 'Two-factor authentication is not on.',
  two_factor_setup_required: 'Start the two-factor setup first.',
  ticket_invalid: 'The sign-in step expired or was already completed. Sign in again.',
  weak_password: 'The password must be 8 to 128 characters.',
  invalid_credentials: 'Wrong phone number or password.',
  unauthorized: 'Sign in first.',
  not_found: 'No such route.',
  payload_too_large: 'The request body is too large.',
  request_timeout: 'The request did not arrive in time.',
  headers_too_large: 'The request headers are too large.',
  sms_send_failed: 'The SMS could not be sent. Try again later.',
  service_unavailable: 'The service is temporarily unavailable. Try again later.',
  internal_error: 'Something went wrong on our side.',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

/** Extra, documented fields some errors carry next to code and message. */
export interface ErrorDetails {
  /** Seconds until the client may retry (rate_limited); also sent as Retry-After. */
  retryAfter?: number;
  /** Wrong tries left on the pending code (code_invalid). */
  attemptsLeft?: number;
  /** Which input field the error concerns, so a form can put the message beside it. */
  field?: string;
  /** Why a rate_limited send was refused, when the client can do better than wait: `resend_cooldown` (a code is on its way and still valid). */
  reason?: 'resend_cooldown';
}

/**
 * Which rule refused, for surfaces that tell them apart (the Verify API answers a resend inside
 * the cooldown, the sends-per-verification cap and a locked number with different Twilio codes).
 * Never sent by the end-user API, whose answers stay `rate_limited`.
 */
export type RefusalReason = 'cooldown' | 'max_sends' | 'wrong_code_lockout' | 'limit' | 'daily_budget';

/** A failure the client may see. Thrown by the domain; each HTTP surface renders it. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  readonly reason: RefusalReason | undefined;

  constructor(code: ErrorCode, details: ErrorDetails = {}, options?: { cause?: unknown; message?: string; reason?: RefusalReason }) {
    super(options?.message ?? ERROR_MESSAGES[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
    this.reason = options?.reason;
  }
}
