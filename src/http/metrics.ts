import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../domain/logger.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics/index.js';

/** Constant-time, and the same time whatever the lengths: both sides are hashed first. */
function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The request-duration histogram, on the root so it sees every route. */
export function installRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern ("/api/admin/users/:id"), never the URL: the label set stays bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/**
 * GET /metrics on the main port when METRICS_TOKEN is set (Bearer). Without the token, or with a
 * wrong one, it answers 404 like any unknown path: the scrape endpoint is not advertised.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics; token: string | undefined }> = async (app, { metrics, token }) => {
  // Always a route, so the pages' history-mode fallback never answers /metrics with index.html.
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !sameToken(given, token)) throw new AppError('not_found');
    void reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
};

/**
 * The separate metrics listener (METRICS_PORT on METRICS_HOST, 127.0.0.1 by default): GET
 * /metrics without a token, for a scraper on the same host or network; everything else is 404.
 */
export async function startMetricsListener(registry: Registry, options: { host: string; port: number; log: Logger }): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'No such route.' } }));
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body),
      (err: unknown) => {
        options.log.error({ err }, 'could not collect the metrics');
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal_error', message: 'Something went wrong on our side.' } }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  options.log.info({ host: options.host, port: options.port }, 'metrics listener started');
  return server;
}
