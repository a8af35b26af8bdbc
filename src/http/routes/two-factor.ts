import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.js';
import { clientOf } from '../client-context.js';
import {
  AuthResponse,
  ErrorResponse,
  TwoFactorDisableBody,
  TwoFactorDisableResponse,
  TwoFactorEnableBody,
  TwoFactorEnableResponse,
  TwoFactorLoginBody,
  TwoFactorSetupBody,
  TwoFactorSetupResponse,
  TwoFactorStatusResponse,
} from '../schemas.js';
import { sessionTokenOf, setSessionCookie } from '../session-cookie.js';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

/** The second factor: TOTP setup, enable, disable, and the second step of a sign-in. */
export const twoFactorRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts, twoFactor } = services;
  const userOf = async (request: Parameters<typeof sessionTokenOf>[0]) => (await accounts.authenticate(sessionTokenOf(request))).id;

  app.get(
    '/api/2fa',
    {
      schema: {
        tags: ['two-factor'],
        summary: 'Whether TOTP is on, and how many recovery codes are left (the account page shows which form fits)',
        response: { 200: TwoFactorStatusResponse, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return twoFactor.status(await userOf(request));
    },
  );

  app.post(
    '/api/2fa/setup',
    {
      schema: {
        tags: ['two-factor'],
        summary: 'Start TOTP setup (with the current password): a new secret as an otpauth:// URI and an SVG QR code, not on until enabled',
        body: TwoFactorSetupBody,
        response: { 200: TwoFactorSetupResponse, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return twoFactor.setup(await userOf(request), request.body.password, clientOf(request));
    },
  );

  app.post(
    '/api/2fa/enable',
    {
      schema: {
        tags: ['two-factor'],
        summary: 'Turn TOTP on with a current code; answers ten recovery codes, shown once; ends every other session',
        body: TwoFactorEnableBody,
        response: { 200: TwoFactorEnableResponse, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const { recoveryCodes } = await twoFactor.enable(await userOf(request), request.body.code, clientOf(request), sessionTokenOf(request));
      return { enabled: true as const, recoveryCodes };
    },
  );

  app.post(
    '/api/2fa/disable',
    {
      schema: {
        tags: ['two-factor'],
        summary: 'Turn TOTP off with the password and a TOTP or recovery code',
        body: TwoFactorDisableBody,
        response: { 200: TwoFactorDisableResponse, ...errors },
      },
    },
    async (request) => {
      await twoFactor.disable(await userOf(request), request.body.password, request.body.code, clientOf(request));
      return { enabled: false as const };
    },
  );

  app.post(
    '/api/login/2fa',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Finish a sign-in that answered twoFactorRequired: the ticket and a TOTP or recovery code',
        body: TwoFactorLoginBody,
        response: { 200: AuthResponse, ...errors },
      },
    },
    async (request, reply) => {
      const signedIn = await accounts.completeTwoFactorLogin(request.body, clientOf(request));
      setSessionCookie(request, reply, signedIn.token, signedIn.expiresAt, services.now());
      return { user: signedIn.user, token: signedIn.token };
    },
  );
};
