import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SignedIn, TwoFactorChallenge } from '../../domain/accounts.js';
import type { Services } from '../../services.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { BODY_ERRORS, SESSION_ERRORS, SESSION_OPTIONAL, SESSION_REQUIRED, errorResponses } from '../openapi.js';
import {
  AuthResponse,
  LoginResponse,
  MeResponse,
  PasswordLoginBody,
  RegisterBody,
  ResetPasswordBody,
  ResetPasswordResponse,
  SessionStateResponse,
  SmsLoginBody,
} from '../schemas.js';
import { AppError } from '../../errors.js';
import { clientOf } from '../client-context.js';
import { clearSessionCookie, forbidCaching, sessionTokenOf } from '../session-cookie.js';
import { signedInBody } from '../session-answer.js';

/** What checking a code from an SMS can answer (src/domain/verification.ts consume). */
const CODE_ERRORS = ['invalid_phone', 'rate_limited', 'code_invalid', 'code_expired', 'code_attempts_exceeded', 'service_unavailable'] as const;

/** Step 3 of the protocol and what follows: accounts and sessions. */
export const accountRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts } = services;
  const signIn = (request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn) => signedInBody(request, reply, signedIn, services.now());
  /** With 2FA on there is no session yet: the ticket goes back instead, and no cookie is set. */
  const signInOrTicket = (request: FastifyRequest, reply: FastifyReply, result: SignedIn | TwoFactorChallenge) => {
    if (!('ticket' in result)) return signIn(request, reply, result);
    forbidCaching(reply);
    return result;
  };

  app.post(
    '/api/register',
    { schema: { tags: ['accounts'], summary: 'Create an account with a register code', body: RegisterBody, response: { 201: AuthResponse, ...errorResponses([...BODY_ERRORS, ...CODE_ERRORS, 'weak_password', 'phone_taken']) } } },
    async (request, reply) => {
      const signedIn = await accounts.register(request.body, clientOf(request));
      void reply.code(201);
      return signIn(request, reply, signedIn);
    },
  );

  app.post(
    '/api/login/password',
    { schema: { tags: ['accounts'], summary: 'Sign in with phone and password', body: PasswordLoginBody, response: { 200: LoginResponse, ...errorResponses([...BODY_ERRORS, 'invalid_phone', 'invalid_credentials', 'rate_limited', 'service_unavailable']) } } },
    async (request, reply) => signInOrTicket(request, reply, await accounts.loginWithPassword(request.body, clientOf(request))),
  );

  app.post(
    '/api/login/sms',
    { schema: { tags: ['accounts'], summary: 'Sign in with a login code', body: SmsLoginBody, response: { 200: LoginResponse, ...errorResponses([...BODY_ERRORS, ...CODE_ERRORS, 'phone_not_registered']) } } },
    async (request, reply) => signInOrTicket(request, reply, await accounts.loginWithCode(request.body, clientOf(request))),
  );

  app.post(
    '/api/password/reset',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Set a new password with a reset_password code; ends every session and sign-in ticket',
        body: ResetPasswordBody,
        response: {
          200: ResetPasswordResponse,
          ...errorResponses([...BODY_ERRORS, ...CODE_ERRORS, 'weak_password', 'phone_not_registered', 'two_factor_required', 'two_factor_invalid']),
        },
      },
    },
    async (request) => {
      await accounts.resetPassword(request.body, clientOf(request));
      return { ok: true as const };
    },
  );

  app.get(
    '/api/me',
    { schema: { tags: ['accounts'], summary: 'The signed-in user', security: SESSION_REQUIRED, response: { 200: MeResponse, ...errorResponses(SESSION_ERRORS) } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { user: await request.sessionUser() };
    },
  );

  app.get(
    '/api/session',
    { schema: { tags: ['accounts'], summary: 'The signed-in user, or null when signed out (never 401)', security: SESSION_OPTIONAL, response: { 200: SessionStateResponse, ...errorResponses(['service_unavailable']) } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      try {
        return { user: await accounts.authenticate(sessionTokenOf(request)) };
      } catch (err) {
        if (err instanceof AppError && err.code === 'unauthorized') return { user: null };
        throw err;
      }
    },
  );

  app.post(
    '/api/logout',
    { schema: { tags: ['accounts'], summary: 'End this session', security: SESSION_REQUIRED, response: { 204: Type.Null({ description: 'Signed out' }), ...errorResponses(SESSION_ERRORS) } } },
    async (request, reply) => {
      await accounts.logout(sessionTokenOf(request));
      clearSessionCookie(request, reply);
      return reply.code(204).send(null);
    },
  );
};
