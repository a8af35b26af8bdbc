/**
 * `npm run bench`: throughput and latency of the two hot endpoints, each beside a bare Fastify
 * route in the same run, written to docs/benchmarks.md.
 *
 * The service runs as in production (`node dist/server.js`, NODE_ENV=production, console SMS
 * provider) with codes in Redis and accounts in SQLite (or --database-url). Options:
 *   --duration=SECONDS     per measurement (default 5)
 *   --rounds=N             measurements per row, alternating bare and service; the median counts (default 3)
 *   --connections=N        concurrent connections (default 10)
 *   --log-requests=BOOL    the service's LOG_REQUESTS (default false, as docs/deployment.md advises)
 *   --redis-url=URL        default redis://127.0.0.1:6379 (keys under a prefix of this run, removed after)
 *   --database-url=URL     accounts database (default a temporary SQLite file)
 *   --profile              run the service under `node --cpu-prof` and print where its time goes
 *   --no-write             print only; leave docs/benchmarks.md alone
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem, release, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort } from '../test/helpers/server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
) as Record<string, string>;
const DURATION = Number(args.duration ?? 5);
const ROUNDS = Number(args.rounds ?? 3);
const CONNECTIONS = Number(args.connections ?? 10);
const LOG_REQUESTS = args['log-requests'] ?? 'false';
const REDIS_URL = args['redis-url'] ?? 'redis://127.0.0.1:6379';
const PROFILE = args.profile === 'true';
const WRITE = args['no-write'] !== 'true';
const PREFIX = `sms-verify-bench:${process.pid}:`;

interface Measured {
  name: string;
  rps: number;
  /** CPU time the server process spent per request (Linux only): unlike req/s, barely moved by other load on the machine. */
  cpuUsPerRequest: number | undefined;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** A fresh, valid Chinese mobile number for every request, so no cooldown or account gets in the way. */
let serial = randomInt(0, 50_000_000);
const freshPhone = () => `+86139${String(serial++ % 100_000_000).padStart(8, '0')}`;

/** user + system CPU of a process in microseconds, from /proc (clock ticks of 10 ms); undefined elsewhere. */
function cpuMicros(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

async function measure(name: string, url: string, body: () => object, duration: number, server?: ChildProcess): Promise<Measured> {
  const cpuBefore = cpuMicros(server?.pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }),
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
  const cpuAfter = cpuMicros(server?.pid);
  const cpuUsPerRequest = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / result.requests.total;
  return { name, rps: result.requests.average, cpuUsPerRequest, p50: result.latency.p50, p99: result.latency.p99, statuses, errors: result.errors };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

/** Self time of the profile, by where the code lives (our src, a package, Node itself) and by function. */
function summarizeProfile(file: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  // Shares of the time the process was busy: idle time (waiting for Redis, or for the CPU) is left out.
  const total = profile.nodes.filter((n) => n.callFrame.functionName !== '(idle)').reduce((s, n) => s + n.hitCount, 0);
  const place = (url: string, fn: string) => {
    if (!url) return fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)' ? fn : '(native)';
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1]!;
    if (url.startsWith('node:')) return 'node internals';
    const src = /\/dist\/(.+)$/.exec(url);
    return src ? `dist/${src[1]}` : url;
  };
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.callFrame.functionName === '(idle)') continue;
    const p = place(n.callFrame.url, n.callFrame.functionName);
    byPlace.set(p, (byPlace.get(p) ?? 0) + n.hitCount);
    const f = `${n.callFrame.functionName || '(anonymous)'} (${p})`;
    byFunction.set(f, (byFunction.get(f) ?? 0) + n.hitCount);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, hits]) => `| ${name} | ${((100 * hits) / total).toFixed(1)}% |`)
      .join('\n');
  return `Self time by place (share of busy time):\n\n| where | share |\n|---|---|\n${top(byPlace, 12)}\n\nSelf time by function (share of busy time):\n\n| function | share |\n|---|---|\n${top(byFunction, 15)}\n`;
}

async function main(): Promise<void> {
  process.stdout.write('== building\n');
  const build = spawnSync(process.execPath, ['scripts/build.mjs', 'server'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');

  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-bench-'));
  const profileDir = join(dir, 'profile');
  const databaseUrl = args['database-url'] ?? `sqlite:${join(dir, 'bench.db')}`;
  const servicePort = await freePort();
  const barePort = await freePort();
  const service = spawn(
    process.execPath,
    [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'dist/server.js'],
    {
      cwd: ROOT,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        SECRET: 'bench-secret-bench-secret-bench-secret-0000',
        HOST: '127.0.0.1',
        PORT: String(servicePort),
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        REDIS_KEY_PREFIX: PREFIX,
        CAPTCHA: 'off',
        LOG_LEVEL: 'info',
        LOG_REQUESTS,
        // Every request comes from 127.0.0.1 and the numbers share prefixes: ceilings high enough that
        // the limits are counted on every request (their cost is measured) but never refuse one.
        SMS_PER_IP_HOURLY: '1000000',
        SMS_PER_PREFIX_HOURLY: '1000000',
        SMS_DAILY_BUDGET: '100000000',
        CHECKS_PER_IP_HOURLY: '1000000',
        // The fraud guard counts every send (its cost is measured) but never judges one: the bench's
        // codes are never verified, and a blocked prefix would measure the cheapest refusal instead.
        FRAUD_GUARD: 'block',
        FRAUD_GUARD_MIN_SENDS: '1000000',
      },
    },
  );
  const bare = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-bare-server.ts'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', PORT: String(barePort) },
  });
  const results: Measured[] = [];
  try {
    await waitFor(`http://127.0.0.1:${servicePort}/readyz`, service, 'the service');
    await waitFor(`http://127.0.0.1:${barePort}/bare`, bare, 'the bare server');
    const serviceUrl = (path: string) => `http://127.0.0.1:${servicePort}${path}`;
    const bareUrl = `http://127.0.0.1:${barePort}/bare`;
    const sendBody = () => ({ phone: freshPhone(), purpose: 'register' });
    const checkBody = () => ({ phone: freshPhone(), code: '000000', password: 'benchmark password' });

    process.stdout.write(`== warming up, then ${DURATION} s per measurement, ${CONNECTIONS} connections\n`);
    await measure('warm-up', serviceUrl('/api/sms/send'), sendBody, 2);
    await measure('warm-up', serviceUrl('/api/register'), checkBody, 2);
    await measure('warm-up', bareUrl, sendBody, 2);
    // Rounds alternate bare and service, and each row reports its median round: other work on the
    // machine then weighs on both sides of a ratio alike instead of on whichever ran during it.
    const rows: [string, string, () => object, ChildProcess][] = [
      ['bare Fastify route (send body)', bareUrl, sendBody, bare],
      ['POST /api/sms/send (fresh number)', serviceUrl('/api/sms/send'), sendBody, service],
      ['bare Fastify route (register body)', bareUrl, checkBody, bare],
      ['POST /api/register (wrong code)', serviceUrl('/api/register'), checkBody, service],
    ];
    const rounds: Measured[][] = rows.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [name, url, body, server]] of rows.entries()) {
        // Profiling looks at the service alone, so the bare rows are left out of that run.
        if (PROFILE && url === bareUrl) continue;
        rounds[i]!.push(await measure(name, url, body, DURATION, server));
      }
    }
    for (const measured of rounds) {
      const sorted = [...measured].sort((x, y) => x.rps - y.rps);
      results.push(
        sorted[Math.floor(sorted.length / 2)] ?? { name: '(not measured)', rps: NaN, cpuUsPerRequest: undefined, p50: NaN, p99: NaN, statuses: {}, errors: 0 },
      );
    }
  } finally {
    await stop(service);
    await stop(bare);
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }

  const [bareSend, send, bareCheck, check] = results as [Measured, Measured, Measured, Measured];
  const sendRatio = send.rps / bareSend.rps;
  const checkRatio = check.rps / bareCheck.rps;
  const cpu = (m: Measured) => (m.cpuUsPerRequest === undefined ? 'n/a' : m.cpuUsPerRequest.toFixed(0));
  const cpuRatio = (service: Measured, bareRow: Measured) =>
    service.cpuUsPerRequest && bareRow.cpuUsPerRequest ? `; by CPU per request ${((100 * bareRow.cpuUsPerRequest) / service.cpuUsPerRequest).toFixed(0)}%` : '';
  const row = (m: Measured) =>
    `| ${m.name} | ${Math.round(m.rps)} | ${cpu(m)} | ${m.p50} | ${m.p99} | ${Object.entries(m.statuses)
      .map(([c, n]) => `${c}×${n}`)
      .join(' ')}${m.errors ? `, ${m.errors} errors` : ''} |`;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const cores = cpus();
  const redisInfo = spawnSync('redis-cli', ['-u', REDIS_URL, 'INFO', 'server'], { encoding: 'utf8' }).stdout ?? '';
  const redisVersion = /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown';
  const report = `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` (median of ${ROUNDS} rounds of ${DURATION} s per row, rounds alternating bare and service, ${CONNECTIONS} connections, after a 2 s warm-up).

Machine: ${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}, Node ${process.version}, Redis ${redisVersion} on the same host.
Service: \`node dist/server.js\`, NODE_ENV=production, console SMS provider, CAPTCHA=off, LOG_LEVEL=info, LOG_REQUESTS=${LOG_REQUESTS};
codes in Redis, accounts in ${databaseUrl.startsWith('sqlite:') ? 'SQLite (a temporary file)' : 'PostgreSQL'}. Load generator (autocannon), service and bare server share the two cores.

| what | req/s | server CPU µs/req | p50 ms | p99 ms | answers |
|---|---|---|---|---|---|
${row(bareSend)}
${row(send)}
${row(bareCheck)}
${row(check)}

- send: ${(100 * sendRatio).toFixed(0)}% of the bare route's req/s (goal ≥ 50%: ${verdict(sendRatio >= 0.5)})${cpuRatio(send, bareSend)}; p99 ${send.p99} ms (goal < 20 ms: ${verdict(send.p99 < 20)})
- code check: ${(100 * checkRatio).toFixed(0)}% of the bare route's req/s (goal ≥ 60%: ${verdict(checkRatio >= 0.6)})${cpuRatio(check, bareCheck)}; p99 ${check.p99} ms (goal < 20 ms: ${verdict(check.p99 < 20)})
`;
  process.stdout.write(`\n${report}\n`);

  if (PROFILE) {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) process.stdout.write(`\n== where the service's time went (node --cpu-prof, whole run)\n\n${summarizeProfile(join(profileDir, file))}\n`);
  }
  rmSync(dir, { recursive: true, force: true });

  if (WRITE && !PROFILE) {
    const doc = join(ROOT, 'docs/benchmarks.md');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const current = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`;
    const [before, rest] = current.split(start);
    const after = rest?.split(end)[1] ?? '\n';
    writeFileSync(doc, `${before}${start}\n${report}${end}${after}`);
    process.stdout.write(`wrote ${doc}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
