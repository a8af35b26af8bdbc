import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SignedIn, TokenPair } from '../domain/accounts.js';
import { setSessionCookie } from './session-cookie.js';

/** The token fields of an answer; never cached anywhere, since they are credentials. */
export function tokenPairBody(reply: FastifyReply, pair: TokenPair) {
  void reply.header('cache-control', 'no-store');
  return { accessToken: pair.accessToken, tokenType: 'Bearer' as const, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken };
}

/** Every answer that starts a session: the cookie for the pages, the tokens for everyone else. */
export function signedInBody(request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn, now: number) {
  setSessionCookie(request, reply, signedIn.token, signedIn.expiresAt, now);
  return { user: signedIn.user, token: signedIn.token, ...tokenPairBody(reply, signedIn) };
}
