import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { clientOf } from '../client-context.js';
import { BODY_ERRORS, SESSION_ERRORS, SESSION_REQUIRED, errorResponses } from '../openapi.js';
import {
  AuthResponse,
  RecoveryCodesBody,
  RecoveryCodesResponse,
  TwoFactorDisableBody,
  TwoFactorDisableResponse,
  TwoFactorEnableBody,
  TwoFactorEnableResponse,
  TwoFactorLoginBody,
  TwoFactorSetupBody,
  TwoFactorSetupResponse,
  TwoFactorStatusResponse,
} from '../schemas.js';
import { sessionTokenOf } from '../session-cookie.js';
import { signedInBody } from '../session-answer.js';

/** A signed-in user's own request with a body. */
const SIGNED_IN_BODY_ERRORS = [...BODY_ERRORS, ...SESSION_ERRORS] as const;

/** The second factor: TOTP setup, enable, disable, and the second step of a sign-in. */
export const twoFactorRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { accounts, twoFactor } = services;
  const userOf = async (request: FastifyRequest) => (await request.sessionUser()).id;

  app.get(
    '/api/2fa',
    {
      schema: {
        tags: ['two-factor'],
        summary: 'Whether TOTP is on, and how many recovery codes are left (the account page shows which form fits)',
        security: SESSION_REQUIRED,
        response: { 200: TwoFactorStatusResponse, ...errorResponses(SESSION_ERRORS) },
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
        security: SESSION_REQUIRED,
        response: { 200: TwoFactorSetupResponse, ...errorResponses([...SIGNED_IN_BODY_ERRORS, 'invalid_credentials', 'rate_limited', 'two_factor_already_enabled']) },
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
        security: SESSION_REQUIRED,
        response: {
          200: TwoFactorEnableResponse,
          ...errorResponses([...SIGNED_IN_BODY_ERRORS, 'two_factor_setup_required', 'two_factor_already_enabled', 'two_factor_invalid', 'rate_limited']),
        },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const keep = await services.accounts.sessionIdOf(sessionTokenOf(request));
      const { recoveryCodes } = await twoFactor.enable(await userOf(request), request.body.code, clientOf(request), keep);
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
        security: SESSION_REQUIRED,
        response: {
          200: TwoFactorDisableResponse,
          ...errorResponses([...SIGNED_IN_BODY_ERRORS, 'two_factor_not_enabled', 'invalid_credentials', 'two_factor_invalid', 'rate_limited']),
        },
      },
    },
    async (request) => {
      await twoFactor.disable(await userOf(request), request.body.password, request.body.code, clientOf(request));
      return { enabled: false as const };
    },
  );

  app.post(
    '/api/2fa/recovery-codes',
    {
      schema: {
        tags: ['two-factor'],
        summary: 'New recovery codes with the password and a TOTP or recovery code; the old set stops working',
        body: RecoveryCodesBody,
        security: SESSION_REQUIRED,
        response: { 200: RecoveryCodesResponse, ...errorResponses([...SIGNED_IN_BODY_ERRORS, 'invalid_credentials', 'two_factor_not_enabled', 'two_factor_invalid', 'rate_limited']) },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return twoFactor.regenerateRecoveryCodes(await userOf(request), request.body.password, request.body.code, clientOf(request));
    },
  );

  app.post(
    '/api/login/2fa',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Finish a sign-in that answered twoFactorRequired: the ticket and a TOTP or recovery code',
        body: TwoFactorLoginBody,
        response: { 200: AuthResponse, ...errorResponses([...BODY_ERRORS, 'ticket_invalid', 'two_factor_invalid', 'rate_limited', 'service_unavailable']) },
      },
    },
    async (request, reply) => {
      const signedIn = await accounts.completeTwoFactorLogin(request.body, clientOf(request));
      return signedInBody(request, reply, signedIn, services.now());
    },
  );
};
