import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, type ErrorCode } from '../../domain/errors.js';
import { VerifyApiError } from '../../domain/verify-api.js';
import { isDependencyFailure } from '../error-handler.js';

/**
 * The Verify API's error shape and codes, as Twilio documents them
 * (https://www.twilio.com/docs/errors/CODE): `{"code", "message", "more_info", "status"}`.
 * docs/verify-api.md lists the mapping.
 */
export interface TwilioError {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  /** Seconds, sent as Retry-After. */
  readonly retryAfter?: number | undefined;
}

/** Thrown by the surface itself (authentication). */
export class TwilioApiError extends Error {
  constructor(readonly twilio: TwilioError) {
    super(twilio.message);
  }
}

export const AUTHENTICATION_FAILED: TwilioError = { status: 401, code: 20003, message: 'Authenticate' };
export const NOT_FOUND: TwilioError = { status: 404, code: 20404, message: 'The requested resource was not found' };
const UNAVAILABLE: TwilioError = { status: 503, code: 20503, message: 'Service unavailable' };
const INTERNAL: TwilioError = { status: 500, code: 20500, message: 'Internal server error' };
export const invalidParameter = (parameter: string): TwilioError => ({ status: 400, code: 60200, message: `Invalid parameter: ${parameter}` });

/** How each engine refusal reads in Twilio's terms. */
function fromDomain(err: AppError): TwilioError {
  const retryAfter = err.details.retryAfter;
  const map: Partial<Record<ErrorCode, TwilioError>> = {
    invalid_phone: invalidParameter('To'),
    region_not_allowed: { status: 403, code: 60605, message: 'Verification delivery attempt blocked: the destination region is not allowed' },
    // Our fraud guard blocked the destination prefix or country, as Twilio's Fraud Guard answers.
    destination_blocked: { status: 403, code: 60410, message: 'Verification delivery attempt blocked' },
    code_attempts_exceeded: { status: 429, code: 60202, message: 'Max check attempts reached' },
    // The provider could not deliver, whatever its reason: Twilio answers its own delivery outages as a service outage.
    sms_send_failed: UNAVAILABLE,
    service_unavailable: UNAVAILABLE,
  };
  if (err.code === 'rate_limited') {
    switch (err.reason) {
      case 'wrong_code_lockout':
        return { status: 429, code: 60202, message: 'Max check attempts reached', retryAfter };
      case 'max_sends':
        return { status: 429, code: 60203, message: 'Max send attempts reached', retryAfter };
      case 'cooldown':
        return { status: 429, code: 60212, message: 'Too many concurrent requests for phone number', retryAfter };
      default:
        return { status: 429, code: 20429, message: 'Too many requests', retryAfter };
    }
  }
  return map[err.code] ?? INTERNAL;
}

/** Fastify's own errors (schema, body parsing, size) as 60200 naming the parameter. */
function fromFramework(err: FastifyError): TwilioError | undefined {
  if (err.validation) {
    const first = err.validation[0];
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = first?.instancePath?.replace(/^\//, '').split('/')[0];
    return invalidParameter(missing || path || 'body');
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) return invalidParameter('body (larger than the limit)');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return invalidParameter('Content-Type');
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return invalidParameter('body');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return invalidParameter('request');
  return undefined;
}

export function twilioErrorOf(err: unknown): TwilioError {
  if (err instanceof TwilioApiError) return err.twilio;
  if (err instanceof VerifyApiError) return err.kind === 'not_found' ? NOT_FOUND : invalidParameter(err.parameter ?? 'request');
  if (err instanceof AppError) return fromDomain(err);
  if (isDependencyFailure(err)) return UNAVAILABLE;
  return fromFramework(err as FastifyError) ?? INTERNAL;
}

/** The Verify API's error handler and 404, for its own encapsulated scope only. */
export function installTwilioErrorHandling(app: FastifyInstance): void {
  const send = (reply: import('fastify').FastifyReply, e: TwilioError) => {
    if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
    return reply.code(e.status).send({ code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status });
  };
  app.setNotFoundHandler((_request, reply) => send(reply, NOT_FOUND));
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = twilioErrorOf(err);
    if (e.status >= 500) {
      request.log.error({ err, dependency: (err as { dependency?: string }).dependency }, e.status === 503 ? 'verify api: dependency unavailable' : 'verify api: unhandled error');
    }
    return send(reply, e);
  });
}
