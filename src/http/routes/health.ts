import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { HealthCheck } from '../../stores/types.js';

const PING_TIMEOUT_MS = 1500;

const HealthResponse = Type.Object({ status: Type.Literal('ok') }, { title: 'HealthResponse', description: 'The process is up' });

const DependencyState = Type.Union([Type.Literal('ok'), Type.Literal('down')]);
const ReadinessResponse = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Record(Type.String(), DependencyState, { description: 'Each dependency (sqlite or postgres, redis) and whether it answered' }),
    down: Type.Optional(Type.Array(Type.String(), { description: 'The dependencies that did not answer' })),
  },
  { title: 'ReadinessResponse', examples: [{ status: 'ok', checks: { sqlite: 'ok', redis: 'ok' } }] },
);

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
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness: 200 while the process answers, whatever its dependencies do', response: { 200: HealthResponse } } },
    async () => ({ status: 'ok' as const }),
  );

  const readinessSchema = {
    tags: ['operations'],
    summary: 'Readiness: 200 when every dependency answers within 1.5 s, 503 naming the ones that did not',
    response: {
      200: { ...ReadinessResponse, 'x-response-description': 'Every dependency answered' },
      503: { ...ReadinessResponse, 'x-response-description': 'A dependency is down: take this instance out of the load balancer' },
    },
  };
  app.get('/readyz', { schema: readinessSchema }, async (request, reply) => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await probe(c)] as const));
    const down = results.filter(([, state]) => state === 'down').map(([name]) => name);
    void reply.code(down.length ? 503 : 200);
    return { status: down.length ? 'unavailable' : 'ok', checks: Object.fromEntries(results), ...(down.length ? { down } : {}) };
  });
};
