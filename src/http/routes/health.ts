import type { FastifyPluginAsync } from 'fastify';
import type { HealthCheck } from '../../stores/types.js';

const PING_TIMEOUT_MS = 1500;

async function probe(check: HealthCheck): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => {
    timer = setTimeout(() => resolve('down'), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.ping().then(() => 'ok' as const), timeout]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz: the process answers. /readyz: every dependency answers, for load balancers. */
export const healthRoutes: FastifyPluginAsync<{ checks: readonly HealthCheck[] }> = async (app, { checks }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await probe(c)] as const));
    const down = results.filter(([, state]) => state === 'down').map(([name]) => name);
    void reply.code(down.length ? 503 : 200);
    return { status: down.length ? 'unavailable' : 'ok', checks: Object.fromEntries(results), ...(down.length ? { down } : {}) };
  });
};
