import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.js';
import { clientOf } from '../client-context.js';
import { BODY_ERRORS, SESSION_ERRORS, SESSION_REQUIRED, errorResponses } from '../openapi.js';
import { ActivityResponse, MeResponse, PhoneChangeBody, SessionsResponse, SignOutOthersResponse } from '../schemas.js';
import { sessionTokenOf } from '../session-cookie.js';

/** What a signed-in user changes or reviews about their own account. */
export const accountSettingsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts } = services;

  app.post(
    '/api/phone/change',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Move the account to a new number: a change_phone code sent there, and the password (or, with 2FA on, totp); ends every other session',
        body: PhoneChangeBody,
        security: SESSION_REQUIRED,
        response: {
          200: MeResponse,
          ...errorResponses([
            ...BODY_ERRORS,
            ...SESSION_ERRORS,
            'invalid_phone',
            'phone_taken',
            'invalid_credentials',
            'two_factor_invalid',
            'rate_limited',
            'code_invalid',
            'code_expired',
            'code_attempts_exceeded',
          ]),
        },
      },
    },
    async (request) => {
      const { id } = await request.sessionUser();
      // The session that made the change stays (resolved now, before the change makes its version stale); every other one ends.
      const keep = await accounts.sessionIdOf(sessionTokenOf(request));
      return { user: await accounts.changePhone(id, request.body, clientOf(request), keep) };
    },
  );

  app.get(
    '/api/account/sessions',
    { schema: { tags: ['accounts'], summary: 'Your signed-in sessions (devices), the current one marked', security: SESSION_REQUIRED, response: { 200: SessionsResponse, ...errorResponses(SESSION_ERRORS) } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { sessions: await accounts.sessions(sessionTokenOf(request)) };
    },
  );

  app.post(
    '/api/account/sessions/sign-out-others',
    {
      schema: {
        tags: ['accounts'],
        summary: 'End every session of your account except this one (sign out other devices)',
        security: SESSION_REQUIRED,
        response: { 200: SignOutOthersResponse, ...errorResponses(SESSION_ERRORS) },
      },
    },
    async (request) => ({ ended: await accounts.signOutOtherSessions(sessionTokenOf(request), clientOf(request)) }),
  );

  app.get(
    '/api/account/activity',
    { schema: { tags: ['accounts'], summary: 'Your own security events, newest first (at most 50)', security: SESSION_REQUIRED, response: { 200: ActivityResponse, ...errorResponses(SESSION_ERRORS) } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const { id } = await request.sessionUser();
      const events = await accounts.activity(id);
      return {
        events: events.map((e) => ({ type: e.type, at: new Date(e.at).toISOString(), phone: e.phoneMasked, ip: e.ip, userAgent: e.userAgent, detail: e.detail })),
      };
    },
  );
};
