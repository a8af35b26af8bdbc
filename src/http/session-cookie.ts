import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'sms_verify_session';

/**
 * The credential from `Authorization: Bearer …` (a session token or a JWT access token; the
 * account domain tells them apart), or else from the session cookie.
 */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+([A-Za-z0-9_.-]{16,4096})$/.exec(header.trim());
    return match?.[1];
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie && cookie.length <= 256 ? cookie : undefined;
}

/**
 * Marks an answer that carries a credential (a session token, a sign-in ticket) as never to be
 * stored by a browser or a proxy cache. Every route that hands out a new token calls it; a route
 * that issues a refresh token should too.
 */
export function forbidCaching(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}

/**
 * Sets the session cookie, and forbids caching of the answer that carries the token.
 * HttpOnly keeps the token from scripts, SameSite=Lax from cross-site POSTs, and Secure is set
 * whenever the request came over HTTPS (directly or, with TRUST_PROXY, per X-Forwarded-Proto).
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: number, now: number): void {
  forbidCaching(reply);
  void reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    maxAge: Math.max(0, Math.floor((expiresAt - now) / 1000)),
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' });
}
