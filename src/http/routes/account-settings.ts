import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.js';
import { clientOf } from '../client-context.js';
import { ActivityResponse, ErrorResponse, MeResponse, PhoneChangeBody, SessionsResponse, SignOutOthersResponse } from '../schemas.js';
import { sessionTokenOf } from '../session-cookie.js';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

/** What a signed-in user changes or reviews about their own account. */
export const accountSettingsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts } = services;

  app.post(
    '/api/phone/change',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Move the account to a new number: a change_phone code sent there, and the password (or, with 2FA on, totp)',
        body: PhoneChangeBody,
        response: { 200: MeResponse, ...errors },
      },
    },
    async (request) => {
      const { id } = await accounts.authenticate(sessionTokenOf(request));
      return { user: await accounts.changePhone(id, request.body, clientOf(request)) };
    },
  );

  app.get(
    '/api/account/sessions',
    { schema: { tags: ['accounts'], summary: 'Your signed-in sessions (devices), the current one marked', response: { 200: SessionsResponse, ...errors } } },
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
        response: { 200: SignOutOthersResponse, ...errors },
      },
    },
    async (request) => ({ ended: await accounts.signOutOtherSessions(sessionTokenOf(request), clientOf(request)) }),
  );

  app.get(
    '/api/account/activity',
    { schema: { tags: ['accounts'], summary: 'Your own security events, newest first (at most 50)', response: { 200: ActivityResponse, ...errors } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const { id } = await accounts.authenticate(sessionTokenOf(request));
      const events = await accounts.activity(id);
      return {
        events: events.map((e) => ({ type: e.type, at: new Date(e.at).toISOString(), phone: e.phoneMasked, ip: e.ip, userAgent: e.userAgent, detail: e.detail })),
      };
    },
  );
};
