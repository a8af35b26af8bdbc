import type { FastifyRequest } from 'fastify';
import type { ClientContext } from '../domain/client.js';

/** The caller as the domain sees it: Fastify's `request.ip` honours TRUST_PROXY, so X-Forwarded-For counts only behind a trusted proxy. */
export function clientOf(request: FastifyRequest): ClientContext {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : undefined };
}
