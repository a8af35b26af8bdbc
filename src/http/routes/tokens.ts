import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../services.js';
import { clientOf } from '../client-context.js';
import { BODY_ERRORS, errorResponses } from '../openapi.js';
import { RefreshBody, RefreshResponse } from '../schemas.js';
import { tokenPairBody } from '../session-answer.js';

/**
 * Backends cache the key set this long. A rotation publishes the new key at once and signs with
 * it within 30 s; a backend that meets an unknown kid fetches again (jose's createRemoteJWKSet does).
 */
const JWKS_MAX_AGE_SECONDS = 300;

const Jwks = Type.Object({
  keys: Type.Array(Type.Object({ kid: Type.String(), alg: Type.String(), use: Type.Literal('sig'), kty: Type.String() }, { additionalProperties: true })),
}, { title: 'JwksResponse', description: 'The JSON Web Key Set of the access tokens' });

/** The public keys of the access tokens, and the refresh of a token pair. */
export const tokenRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'signingKeys' | 'accounts'> }> = async (app, { services }) => {
  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['accounts'], summary: 'Public keys that verify access tokens (RFC 7517)', response: { 200: Jwks, ...errorResponses(['service_unavailable']) } } },
    async (_request, reply) => {
      void reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      return services.signingKeys.jwks();
    },
  );

  app.post(
    '/api/token/refresh',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Spend a refresh token for a new access token and refresh token; a spent one presented again ends the session',
        body: RefreshBody,
        response: { 200: RefreshResponse, ...errorResponses([...BODY_ERRORS, 'unauthorized', 'service_unavailable']) },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return tokenPairBody(reply, await services.accounts.refresh(request.body.refreshToken, clientOf(request)));
    },
  );
};
