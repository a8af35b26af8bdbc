import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, ERRORS, type ErrorCode } from '../errors.js';

/** SQLite result codes that mean the file cannot be used right now, not that the request was wrong. */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/;

/**
 * Errors of ours or a driver's that mean "a dependency is down", not "a bug". The Redis and
 * PostgreSQL stores throw DependencyUnavailableError, whose code is SERVICE_UNAVAILABLE.
 */
export function isDependencyFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (SQLITE_UNAVAILABLE.test(code) || code === 'SERVICE_UNAVAILABLE');
}

function fromFramework(err: FastifyError): { code: ErrorCode; message: string; field?: string } | undefined {
  if (err.validation) {
    const first = err.validation[0];
    const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : undefined;
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = missing ?? path;
    return { code: 'invalid_request', message: `${field ?? 'body'}: ${first?.message ?? 'is invalid'}`, ...(field ? { field } : {}) };
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
    return { code: 'payload_too_large', message: ERRORS.payload_too_large.message };
  }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { code: 'invalid_request', message: 'Send the body as application/json.' };
  }
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return { code: 'invalid_request', message: 'The JSON body is empty.' };
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return { code: 'invalid_request', message: 'The body is not valid JSON.' };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { code: 'invalid_request', message: ERRORS.invalid_request.message };
  }
  return undefined;
}

/**
 * Turns every error into `{"error": {"code", "message", …}}` with the catalogue's status.
 * Internal causes are logged, never sent: 5xx answers carry the catalogue's generic message.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: ERRORS.not_found.message } });
  });
  installEndUserErrorHandler(app);
}

/** The end-user error handler alone, for the end-user API's own scope. */
export function installEndUserErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof AppError) {
      if (err.details.retryAfter !== undefined) void reply.header('retry-after', String(err.details.retryAfter));
      const status = ERRORS[err.code].status;
      if (status >= 500) request.log.error({ err: err.cause ?? err, code: err.code }, 'request failed');
      return reply.code(status).send({ error: { code: err.code, message: err.message, ...err.details } });
    }
    const mapped = fromFramework(err);
    if (mapped) {
      const { code, ...rest } = mapped;
      return reply.code(ERRORS[code].status).send({ error: { code, ...rest } });
    }
    if (isDependencyFailure(err)) {
      request.log.error({ err, dependency: (err as { dependency?: string }).dependency }, 'dependency unavailable');
      return reply.code(503).send({ error: { code: 'service_unavailable', message: ERRORS.service_unavailable.message } });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'internal_error', message: ERRORS.internal_error.message } });
  });
}
