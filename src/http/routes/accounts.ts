import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SignedIn, TwoFactorChallenge } from '../../domain/accounts.js';
import type { Services } from '../../services.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  AuthResponse,
  ErrorResponse,
  LoginResponse,
  MeResponse,
  PasswordLoginBody,
  RegisterBody,
  ResetPasswordBody,
  ResetPasswordResponse,
  SmsLoginBody,
} from '../schemas.js';
import { clientOf } from '../client-context.js';
import { clearSessionCookie, forbidCaching, sessionTokenOf, setSessionCookie } from '../session-cookie.js';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

/** Step 3 of the protocol and what follows: accounts and sessions. */
export const accountRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts } = services;
  const signIn = (request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn) => {
    setSessionCookie(request, reply, signedIn.token, signedIn.expiresAt, services.now());
    return { user: signedIn.user, token: signedIn.token };
  };
  /** With 2FA on there is no session yet: the ticket goes back instead, and no cookie is set. */
  const signInOrTicket = (request: FastifyRequest, reply: FastifyReply, result: SignedIn | TwoFactorChallenge) => {
    if (!('ticket' in result)) return signIn(request, reply, result);
    forbidCaching(reply);
    return result;
  };

  app.post(
    '/api/register',
    { schema: { tags: ['accounts'], summary: 'Create an account with a register code', body: RegisterBody, response: { 201: AuthResponse, ...errors } } },
    async (request, reply) => {
      const signedIn = await accounts.register(request.body, clientOf(request));
      void reply.code(201);
      return signIn(request, reply, signedIn);
    },
  );

  app.post(
    '/api/login/password',
    { schema: { tags: ['accounts'], summary: 'Sign in with phone and password', body: PasswordLoginBody, response: { 200: LoginResponse, ...errors } } },
    async (request, reply) => signInOrTicket(request, reply, await accounts.loginWithPassword(request.body, clientOf(request))),
  );

  app.post(
    '/api/login/sms',
    { schema: { tags: ['accounts'], summary: 'Sign in with a login code', body: SmsLoginBody, response: { 200: LoginResponse, ...errors } } },
    async (request, reply) => signInOrTicket(request, reply, await accounts.loginWithCode(request.body, clientOf(request))),
  );

  app.post(
    '/api/password/reset',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Set a new password with a reset_password code; ends every session and sign-in ticket',
        body: ResetPasswordBody,
        response: { 200: ResetPasswordResponse, ...errors },
      },
    },
    async (request) => {
      await accounts.resetPassword(request.body, clientOf(request));
      return { ok: true as const };
    },
  );

  app.get(
    '/api/me',
    { schema: { tags: ['accounts'], summary: 'The signed-in user', response: { 200: MeResponse, ...errors } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { user: await accounts.authenticate(sessionTokenOf(request)) };
    },
  );

  app.post(
    '/api/logout',
    { schema: { tags: ['accounts'], summary: 'End this session', response: { 204: Type.Null({ description: 'Signed out' }), ...errors } } },
    async (request, reply) => {
      await accounts.logout(sessionTokenOf(request));
      clearSessionCookie(request, reply);
      return reply.code(204).send(null);
    },
  );
};
