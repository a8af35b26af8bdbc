import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config, TrustProxy } from './config.js';
import { answerClientError, installBodyDeadline } from './http/client-errors.js';
import { installErrorHandling } from './http/error-handler.js';
import { endUserApi } from './http/end-user-api.js';
import { registerApiDocs } from './http/openapi.js';
import { healthRoutes } from './http/routes/health.js';
import { registerVerifyApi } from './http/verify-api/index.js';
import { installRequestMetrics, metricsRoutes } from './http/metrics.js';
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
    // A slow client must not hold a request open: its headers have REQUEST_TIMEOUT_MS, and its
    // body REQUEST_TIMEOUT_MS more (installBodyDeadline below). Node checks its deadlines only
    // every connectionsCheckingInterval (30 s by default); checking every second cuts a slow
    // client within a second of the deadline.
    requestTimeout: config.requestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs), headersTimeout: config.requestTimeoutMs },
    clientErrorHandler: answerClientError,
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
  installBodyDeadline(app, config.requestTimeoutMs);
  installRequestMetrics(app, services.metrics);

  // parseOptions are also the defaults of every setCookie/clearCookie: the session cookie's Domain.
  await app.register(cookie, config.sessionCookieDomain ? { parseOptions: { domain: config.sessionCookieDomain } } : {});
  if (config.corsOrigins.length > 0) {
    const allowed = new Set(config.corsOrigins);
    await app.register(cors, {
      // Exact matches only; any other origin (or none) gets no CORS header at all, and its preflight a 404.
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization'],
      exposedHeaders: ['retry-after'],
      maxAge: 600,
    });
  }
  await registerApiDocs(app);

  await app.register(metricsRoutes, { metrics: services.metrics, token: config.metrics.token });
  await app.register(healthRoutes, { checks: services.checks });
  await app.register(endUserApi, { services, config });
  await registerVerifyApi(app, { verifyApi: services.verifyApi, apiKeys: services.apiKeys, accountSid: services.accountSid, now: services.now });
  if (hasBuiltPages(webRoot)) await app.register(webPages, { root: webRoot, captcha: config.captcha });
  else logger.info({ webRoot }, 'web pages not built (npm run build:web); serving the API only');

  return app;
}
