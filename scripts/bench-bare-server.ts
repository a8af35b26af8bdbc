import Fastify from 'fastify';

/**
 * The yardstick for `npm run bench`: Fastify with nothing but one route that parses the same JSON
 * body as the service's routes and answers JSON, in a process of its own like the service.
 */
const app = Fastify({ bodyLimit: 16 * 1024 });
app.post('/bare', async (request) => {
  const body = request.body as { phone?: unknown };
  return { sent: true, expiresIn: 300, resendAfter: 60, echo: typeof body.phone };
});
// The yardstick for the GET rows (the image captcha): a small JSON answer.
app.get('/bare', async () => ({ id: 'bare', image: 'data:image/svg+xml;base64,', expiresIn: 300 }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
