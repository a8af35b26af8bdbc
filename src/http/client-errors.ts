import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors.js';

/** Node's parser and timeout errors, by the code the documented shape answers them with. */
function codeFor(err: { code?: string }): ErrorCode {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  return 'invalid_request';
}

/**
 * Node's `clientError`: a request its HTTP parser refused (bad chunked encoding, Content-Length
 * with Transfer-Encoding, duplicate or negative Content-Length, an unknown method, raw bytes in
 * the URL or control characters in a header, oversized headers) or one that ran past the
 * request timeout. Fastify's default answers its own body; this answers the documented
 * `{"error": {"code", "message"}}` where the socket still allows an answer, then closes it: after
 * a parse error the rest of the stream cannot be trusted (issue 10: 24 of 1,069 malformed
 * requests got another body).
 */
export function answerClientError(this: { log: FastifyBaseLogger }, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = codeFor(err);
  this.log.debug({ err: { code: err.code, message: err.message }, answered: code }, 'client error');
  answerAndClose(socket, code);
}

/** Writes the error answer straight to the socket (unless a response has begun) and closes it. */
function answerAndClose(socket: Socket, code: ErrorCode): void {
  const { status, message } = ERRORS[code];
  // A response already on its way (headers sent) cannot be replaced: only close the connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

/**
 * Cuts a request whose body has not fully arrived `timeoutMs` after its headers, with
 * request_timeout. Node's own requestTimeout stops watching a request once its headers are
 * parsed, so a body dribbled a byte at a time held the connection (and a request's worth of
 * memory) for as long as the client liked (issue 10). The headers have their own deadline, Node's
 * headersTimeout, set to the same value.
 */
export function installBodyDeadline(app: FastifyInstance, timeoutMs: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw;
    if (raw.complete) return done();
    const timer = setTimeout(() => {
      if (raw.complete || reply.raw.headersSent) return;
      request.log.info({ timeoutMs }, 'request body too slow: connection cut');
      answerAndClose(raw.socket, 'request_timeout');
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
    reply.raw.once('finish', clear);
    done();
  });
}
