import { AppError, ERROR_MESSAGES, type ErrorCode, type ErrorDetails } from './domain/errors.js';

export { AppError, type ErrorCode, type ErrorDetails };

/** The end-user API's HTTP status for each domain error code. */
const STATUS = {
  invalid_request: 400,
  invalid_phone: 400,
  captcha_required: 400,
  captcha_invalid: 400,
  rate_limited: 429,
  phone_taken: 409,
  phone_not_registered: 404,
  code_invalid: 400,
  code_expired: 400,
  code_attempts_exceeded: 400,
  region_not_allowed: 403,
  destination_blocked: 403,
  account_disabled: 403,
  operator_required: 403,
  operator_two_factor_required: 403,
  two_factor_required: 400,
  two_factor_invalid: 400,
  two_factor_already_enabled: 409,
  two_factor_not_enabled: 409,
  two_factor_setup_required: 409,
  ticket_invalid: 401,
  weak_password: 400,
  invalid_credentials: 401,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  request_timeout: 408,
  headers_too_large: 431,
  sms_send_failed: 502,
  service_unavailable: 503,
  internal_error: 500,
} as const satisfies Record<ErrorCode, number>;

/**
 * The one catalogue of error codes the end-user API answers with: code → status and message.
 * Clients switch on `code`. The README's error table mirrors it, and test/docs-in-sync.test.ts
 * keeps the two in step.
 */
export const ERRORS = Object.fromEntries(
  Object.entries(STATUS).map(([code, status]) => [code, { status, message: ERROR_MESSAGES[code as ErrorCode] }]),
) as { readonly [C in ErrorCode]: { readonly status: (typeof STATUS)[C]; readonly message: (typeof ERROR_MESSAGES)[C] } };

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
