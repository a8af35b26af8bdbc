/**
 * The one catalogue of error codes the API answers with. Clients switch on `code`; the
 * status and message are fixed here. The README's error table mirrors it, and
 * test/docs-in-sync.test.ts keeps the two in step.
 */
export const ERRORS = {
  invalid_request: { status: 400, message: 'The request is malformed or fails validation.' },
  invalid_phone: { status: 400, message: 'That is not a valid mobile number.' },
  captcha_required: { status: 400, message: 'Solve the captcha first.' },
  captcha_invalid: { status: 400, message: 'The captcha answer is wrong, used or expired.' },
  rate_limited: { status: 429, message: 'Too many requests. Try again later.' },
  phone_taken: { status: 409, message: 'This phone number is already registered.' },
  phone_not_registered: { status: 404, message: 'No account uses this phone number.' },
  code_invalid: { status: 400, message: 'The verification code is wrong.' },
  code_expired: { status: 400, message: 'The verification code has expired. Request a new one.' },
  code_attempts_exceeded: { status: 400, message: 'Too many wrong codes. Request a new one.' },
  region_not_allowed: { status: 403, message: 'SMS cannot be sent to numbers in this region.' },
  destination_blocked: { status: 403, message: 'SMS to this number range is paused because of suspected abuse. Try again later.' },
  account_disabled: { status: 403, message: 'This account has been disabled.' },
  operator_required: { status: 403, message: 'Only operators may open the admin console.' },
  operator_two_factor_required: { status: 403, message: 'Turn on two-factor authentication before opening the admin console.' },
  two_factor_required: { status: 400, message: 'This account has two-factor authentication on: send a code from the authenticator app or a recovery code.' },
  two_factor_invalid: { status: 400, message: 'The authenticator or recovery code is wrong or was already used.' },
  two_factor_already_enabled: { status: 409, message: 'Two-factor authentication is already on.' },
  two_factor_not_enabled: { status: 409, message: 'Two-factor authentication is not on.' },
  two_factor_setup_required: { status: 409, message: 'Start the two-factor setup first.' },
  ticket_invalid: { status: 401, message: 'The sign-in step expired or was already completed. Sign in again.' },
  weak_password: { status: 400, message: 'The password must be 8 to 128 characters.' },
  invalid_credentials: { status: 401, message: 'Wrong phone number or password.' },
  unauthorized: { status: 401, message: 'Sign in first.' },
  not_found: { status: 404, message: 'No such route.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  sms_send_failed: { status: 502, message: 'The SMS could not be sent. Try again later.' },
  service_unavailable: { status: 503, message: 'The service is temporarily unavailable. Try again later.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Extra, documented fields some errors carry next to code and message. */
export interface ErrorDetails {
  /** Seconds until the client may retry (rate_limited); also sent as Retry-After. */
  retryAfter?: number;
  /** Wrong tries left on the pending code (code_invalid). */
  attemptsLeft?: number;
  /** Which input field the error concerns, so a form can put the message beside it. */
  field?: string;
}

/** A failure the client may see. Thrown by the domain; turned into JSON by the error handler. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, details: ErrorDetails = {}, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? ERRORS[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }
}

/**
 * A store or database could not be reached in time (connection refused or lost, timeout, server
 * shutting down). Stores throw it instead of the driver's own error so that the error handler
 * answers `503 service_unavailable` without knowing Redis or PostgreSQL.
 */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
  /** What isDependencyFailure looks for. */
  readonly code = 'SERVICE_UNAVAILABLE';
  /** Which dependency failed ("redis", "postgres", "limit store (redis)"), for the log line. */
  readonly dependency: string;

  constructor(dependency: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`${dependency} unavailable: ${reason}`, options);
    this.dependency = dependency;
  }
}
