/**
 * What the cheapest refusals cost, against GET /healthz, in one run (issue 10: a send with no or a
 * made-up captcha cost 7–11× /healthz). CPU time of this process per request through
 * app.inject, so the machine's other load does not count; real sockets add the same HTTP parsing
 * to both sides, so the ratio over the wire is smaller still. Also: CPU per image captcha drawn.
 *
 *   npx tsx scripts/bench-refusals.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { drawCaptcha } from '../src/captcha/captcha-image.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services.js';

const dir = mkdtempSync(join(tmpdir(), 'sms-verify-bench-'));
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const config = loadConfig({
  DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
  SECRET,
  CAPTCHA: 'image',
  LOG_REQUESTS: 'false',
  LOG_LEVEL: 'error',
  CAPTCHA_FAILURES_PER_IP_HOURLY: '3',
});
const logger = createLogger(config.logLevel);
const services = await createServices(config, SECRET, logger);
const app = await buildApp({ config, services, logger, webRoot: join(dir, 'no-pages') });
await app.ready();

const cpuPerRequest = async (n: number, inject: () => Promise<unknown>) => {
  for (let i = 0; i < 200; i++) await inject();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await inject();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
};
const send = (payload: object, ip = '203.0.113.1') => () => app.inject({ method: 'POST', url: '/api/sms/send', payload, remoteAddress: ip });
const N = 3000;

// A blocked client: three wrong answers from its address, then only refusals from memory.
for (let i = 0; i < 4; i++) {
  const { captchaId } = (await app.inject({ method: 'GET', url: '/api/captcha', remoteAddress: '203.0.113.66' })).json() as { captchaId: string };
  await send({ phone: '+8613800138000', purpose: 'register', captchaId, captchaAnswer: 'WWWW' }, '203.0.113.66')();
}

const healthz = await cpuPerRequest(N, () => app.inject({ method: 'GET', url: '/healthz' }));
const rows: [string, number][] = [
  ['GET /healthz', healthz],
  ['send, no captcha', await cpuPerRequest(N, send({ phone: '+8613800138000', purpose: 'register' }))],
  ['send, malformed captcha', await cpuPerRequest(N, send({ phone: '+8613800138000', purpose: 'register', captchaId: 'made-up', captchaAnswer: 'zzzz' }))],
  ['send, client past CAPTCHA_FAILURES_PER_IP_HOURLY', await cpuPerRequest(N, send({ phone: '+8613800138000', purpose: 'register', captchaId: '00000000-0000-4000-8000-000000000000', captchaAnswer: 'AAAA' }, '203.0.113.66'))],
];
for (const [name, us] of rows) console.log(`${name.padEnd(50)} ${us.toFixed(0).padStart(6)} µs CPU  ${(us / healthz).toFixed(2)}× /healthz`);

const images = 300;
const start = process.cpuUsage();
for (let i = 0; i < images; i++) drawCaptcha('AK3X');
const used = process.cpuUsage(start);
console.log(`${'drawing one image captcha (200×64 PNG)'.padEnd(50)} ${((used.user + used.system) / images).toFixed(0).padStart(6)} µs CPU`);

await app.close();
await services.close();
rmSync(dir, { recursive: true, force: true });
