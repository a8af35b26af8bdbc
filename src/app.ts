import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config, TrustProxy } from './config.js';
import { installErrorHandling } from './http/error-handler.js';
import { accountSettingsRoutes } from './http/routes/account-settings.js';
import { accountRoutes } from './http/routes/accounts.js';
import { adminRoutes } from './http/routes/admin.js';
import { healthRoutes } from './http/routes/health.js';
import { installRequestMetrics, metricsRoutes } from './http/metrics.js';
import { smsCallbackRoutes } from './http/routes/sms-callbacks.js';
import { twoFactorRoutes } from './http/routes/two-factor.js';
import { verificationRoutes } from './http/routes/verification.js';
import { WEB_DIST, hasBuiltPages, webPages } from './http/web-pages.js';
import type { Services } from './services.js';

/** Requests larger than this are refused with payload_too_large before they are parsed. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppOptions {
  config: Config;
  services: Services;
  logger: FastifyBaseLogger;
  /**
   * The built web pages to serve at `/`. Without a build there (unit tests need none) only the API is served.
   * @default WEB_DIST (web/dist)
   */
  webRoot?: string;
}

/** A hop count becomes "trust the nearest N proxies", the form Fastify's types accept. */
function trustProxyOption(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/** Builds the HTTP app. It does not listen: server.ts does, tests use app.inject(). */
export async function buildApp({ config, services, logger, webRoot = WEB_DIST }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: trustProxyOption(config.trustProxy),
    // Two log lines per request are a large share of the CPU under load (docs/benchmarks.md); LOG_REQUESTS=false drops them.
    logController: new LogController({ disableRequestLogging: !config.logRequests }),
    // A slow client must not hold a request open forever.
    requestTimeout: 30_000,
    // A URL the router cannot decode (/api/%zz) gets the documented error body, not Fastify's own.
    frameworkErrors: (_error, _request, reply) => {
      void (reply as FastifyReply).code(400).send({ error: { code: 'invalid_request', message: 'The URL is malformed.' } });
    },
    ajv: {
      // "13800138000" must be sent as a string: a number is a client bug, not something to coerce.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Only JSON bodies: a text/plain POST is what a cross-site HTML form can send without a preflight.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);
  installRequestMetrics(app, services.metrics);

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'sms-verify',
        version: '0.1.0',
        description: 'Phone sign-up with SMS verification codes. Errors are {"error": {"code", "message"}}.',
      },
      tags: [
        { name: 'verification', description: 'Captcha and SMS codes' },
        { name: 'accounts', description: 'Accounts and sessions' },
        { name: 'two-factor', description: 'TOTP second factor and recovery codes' },
        { name: 'admin', description: 'Admin console: operators with 2FA on only (npm run admin -- grant)' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(metricsRoutes, { metrics: services.metrics, token: config.metrics.token });
  await app.register(healthRoutes, { checks: services.checks });
  await app.register(verificationRoutes, { services });
  await app.register(accountRoutes, { services });
  await app.register(smsCallbackRoutes, { services, callback: config.smsCallback });
  await app.register(twoFactorRoutes, { services });
  await app.register(accountSettingsRoutes, { services });
  await app.register(adminRoutes, { admin: services.admin, accounts: services.accounts });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (hasBuiltPages(webRoot)) await app.register(webPages, { root: webRoot, captcha: config.captcha });
  else logger.info({ webRoot }, 'web pages not built (npm run build:web); serving the API only');

  return app;
}
