/**
 * `npm run bench`: the hot paths an attacker floods and a launch day hits, each beside a bare
 * Fastify route in the same run, written to docs/benchmarks.md.
 *
 * The service runs as in production (`node dist/server.js`, NODE_ENV=production, console SMS
 * provider, LOG_REQUESTS=false) on two backends: Redis for codes and limits with accounts in
 * SQLite, and the embedded default (SQLite for everything, no Redis). Rows: a send to a fresh
 * number, a wrong-code check, a send refused inside the cooldown, a send refused over a limit
 * (the per-IP one), an image captcha. Each is measured by the server process's CPU time per
 * request and by req/s, as the median of rounds that alternate with the bare route, at each
 * connection count. Then two instances on one Redis: does Redis's CPU per request stay flat?
 * Then a short profiled pass (`node --cpu-prof`) of send and check on Redis.
 *
 *   --duration=SECONDS     per measurement (default 4)
 *   --rounds=N             measurements per row, alternating bare and service; the median counts (default 3)
 *   --connections=A,B      connection counts (default 10,32)
 *   --backends=redis,sqlite
 *   --redis-url=URL        default redis://127.0.0.1:6379 (keys under a prefix of this run, removed after)
 *   --quick                smoke test of the script: 1 s, 1 round, 10 connections, no profile, nothing written
 *   --no-profile           skip the profiled pass
 *   --no-write             print only; leave docs/benchmarks.md alone
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
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
const QUICK = args.quick === 'true';
const DURATION = Number(args.duration ?? (QUICK ? 1 : 4));
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 3));
const CONNECTIONS = (args.connections ?? (QUICK ? '10' : '10,32')).split(',').map(Number);
const BACKENDS = (args.backends ?? 'redis,sqlite').split(',') as ('redis' | 'sqlite')[];
const REDIS_URL = args['redis-url'] ?? 'redis://127.0.0.1:6379';
const PROFILE = !QUICK && args['no-profile'] !== 'true';
const WRITE = !QUICK && args['no-write'] !== 'true';
const PREFIX = `sms-verify-bench:${process.pid}:`;

interface Measured {
  rps: number;
  /** CPU time the server process spent per request (Linux): unlike req/s, barely moved by other load on the machine. */
  cpuUs: number | undefined;
  /** Redis's own CPU per request, when its process can be read. */
  redisCpuUs: number | undefined;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

/** user + system CPU of a process in microseconds, from /proc (clock ticks of 10 ms); undefined elsewhere. */
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

const redisInfo = (section: string) => spawnSync('redis-cli', ['-u', REDIS_URL, 'INFO', section], { encoding: 'utf8' }).stdout ?? '';
const REDIS_PID = Number(/process_id:(\d+)/.exec(redisInfo('server'))?.[1]) || undefined;

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
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

interface Server {
  readonly child: ChildProcess;
  readonly url: (path: string) => string;
}

const children: ChildProcess[] = [];

/** One service process with the bench's settings plus `env`. */
async function startService(env: Record<string, string>, profileDir?: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'dist/server.js'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...serviceEnv(env), HOST: '127.0.0.1', PORT: String(port) },
  });
  children.push(child);
  await waitFor(`http://127.0.0.1:${port}/readyz`, child, 'the service');
  return { child, url: (path) => `http://127.0.0.1:${port}${path}` };
}

/** The environment of a bench service (and of the CLI that makes its API key): the bench's settings plus `env`. */
function serviceEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    CAPTCHA: 'off',
    LOG_LEVEL: 'info',
    LOG_REQUESTS: 'false',
    // Every request comes from 127.0.0.1 and the numbers share prefixes: ceilings high enough that
    // the limits are counted on every request (their cost is measured) but never refuse one.
    SMS_PER_IP_HOURLY: '1000000',
    SMS_PER_PREFIX_HOURLY: '1000000',
    SMS_PER_PHONE_HOURLY: '1000',
    SMS_PER_PHONE_DAILY: '10000',
    SMS_DAILY_BUDGET: '100000000',
    CHECKS_PER_IP_HOURLY: '1000000',
    CAPTCHAS_PER_IP_HOURLY: '1000000',
    // Wrong captchas of the captcha row's refusals must not shut the bench's one client out.
    CAPTCHA_FAILURES_PER_IP_HOURLY: '1000000',
    // The fraud guard counts every send (its cost is measured) but never judges one: the bench's
    // codes are never verified, and a blocked prefix would measure the cheapest refusal instead.
    FRAUD_GUARD: 'block',
    FRAUD_GUARD_MIN_SENDS: '1000000',
    ...env,
  };
}

/**
 * A Verify API key (made by `npm run apikey`, as an operator would) and one Verify service on
 * `server`: what the Verify API rows call with.
 */
async function verifyService(server: Server, env: Record<string, string>): Promise<{ auth: string; sid: string }> {
  const made = spawnSync(process.execPath, ['--import', 'tsx', 'src/db/apikey-cli.ts', 'create', '--name', 'bench'], { cwd: ROOT, env: serviceEnv(env), encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`apikey create failed: ${made.stderr}`);
  const key = JSON.parse(made.stdout.trim().split('\n').pop()!) as { sid: string; secret: string };
  const auth = `Basic ${Buffer.from(`${key.sid}:${key.secret}`).toString('base64')}`;
  const res = await fetch(server.url('/v2/Services'), {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ FriendlyName: 'Bench' }).toString(),
  });
  if (res.status !== 201) throw new Error(`POST /v2/Services answered ${res.status}: ${await res.text()}`);
  return { auth, sid: ((await res.json()) as { sid: string }).sid };
}

/** A fresh, valid Chinese mobile number for every request, so no cooldown or account gets in the way. */
let serial = randomInt(0, 50_000_000);
const freshPhone = () => `+86139${String(serial++ % 100_000_000).padStart(8, '0')}`;

interface Load {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: () => object;
  readonly headers?: Record<string, string>;
}

async function load(target: Load, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: target.url,
    method: target.method,
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...target.headers },
    requests: [{ setupRequest: (request) => (target.body ? { ...request, body: JSON.stringify(target.body()) } : request) }],
  });
}

/** Drives `targets` at once (several instances), and reads the CPU of `servers` and of Redis around it. */
async function measure(targets: Load[], servers: ChildProcess[], connections: number, duration = DURATION): Promise<Measured> {
  const before = servers.map((s) => cpuMicros(s.pid));
  const redisBefore = cpuMicros(REDIS_PID);
  const results = await Promise.all(targets.map((t) => load(t, connections, duration)));
  const after = servers.map((s) => cpuMicros(s.pid));
  const redisAfter = cpuMicros(REDIS_PID);
  const total = results.reduce((n, r) => n + r.requests.total, 0);
  const statuses: Record<string, number> = {};
  for (const r of results) {
    for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = (statuses[code] ?? 0) + (stat?.count ?? 0);
  }
  const cpu = before.every((b, i) => b !== undefined && after[i] !== undefined)
    ? before.reduce<number>((sum, b, i) => sum + (after[i]! - b!), 0) / total
    : undefined;
  return {
    rps: results.reduce((n, r) => n + r.requests.average, 0),
    cpuUs: cpu,
    redisCpuUs: redisBefore === undefined || redisAfter === undefined ? undefined : (redisAfter - redisBefore) / total,
    p99: Math.max(...results.map((r) => r.latency.p99)),
    statuses,
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

const median = (xs: Measured[]): Measured => [...xs].sort((a, b) => a.rps - b.rps)[Math.floor(xs.length / 2)]!;

interface Row {
  readonly name: string;
  /** The Goal's floor as a share of the bare route (by CPU per request), when it sets one. */
  readonly goal?: Partial<Record<'redis' | 'sqlite', number>>;
  readonly target: Load;
  readonly server: ChildProcess;
  readonly bare: Load;
}

interface RowResult {
  readonly row: Row;
  readonly service: Measured;
  readonly bare: Measured;
}

interface BackendRun {
  readonly backend: 'redis' | 'sqlite';
  readonly connections: number;
  readonly results: RowResult[];
}

async function runBackend(backend: 'redis' | 'sqlite', dir: string, bare: Server): Promise<BackendRun[]> {
  const db = (name: string) => ({ DATABASE_URL: `sqlite:${join(dir, `${backend}-${name}.db`)}` });
  const redis: Record<string, string> = backend === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: `${PREFIX}${backend}:`, RATE_LIMIT_STORE: 'redis' } : {};
  // A cooldown longer than the run, so the busy number below stays inside it throughout.
  const mainEnv = { ...db('main'), ...redis, RESEND_COOLDOWN_SECONDS: '3600' };
  const main = await startService(mainEnv);
  const verify = await verifyService(main, mainEnv);
  const verifyHeaders = { authorization: verify.auth };
  // Every send from 127.0.0.1 past the first is over its per-IP allowance.
  const limited = await startService({ ...db('limited'), ...redis, REDIS_KEY_PREFIX: `${PREFIX}${backend}-limited:`, SMS_PER_IP_HOURLY: '1' });
  const captcha = await startService({ ...db('captcha'), ...redis, CAPTCHA: 'image' });
  // One number with a code and its cooldown running for the whole run.
  const busyPhone = freshPhone();
  await fetch(main.url('/api/sms/send'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: busyPhone, purpose: 'register' }) });
  await fetch(limited.url('/api/sms/send'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: freshPhone(), purpose: 'register' }) });

  const bareSend: Load = { url: bare.url('/bare'), method: 'POST', body: () => ({ phone: freshPhone(), purpose: 'register' }) };
  const bareCheck: Load = { url: bare.url('/bare'), method: 'POST', body: () => ({ phone: freshPhone(), code: '000000', password: 'benchmark password' }) };
  const bareGet: Load = { url: bare.url('/bare'), method: 'GET' };
  const rows: Row[] = [
    { name: 'send, fresh number', goal: { redis: 0.33, sqlite: 0.25 }, server: main.child, bare: bareSend, target: { url: main.url('/api/sms/send'), method: 'POST', body: () => ({ phone: freshPhone(), purpose: 'register' }) } },
    {
      name: 'wrong-code check (no code pending)',
      goal: { redis: 0.5, sqlite: 0.4 },
      server: main.child,
      bare: bareCheck,
      target: { url: main.url('/api/register'), method: 'POST', body: () => ({ phone: freshPhone(), code: '000000', password: 'benchmark password' }) },
    },
    { name: 'send refused: cooldown', goal: { redis: 0.5 }, server: main.child, bare: bareSend, target: { url: main.url('/api/sms/send'), method: 'POST', body: () => ({ phone: busyPhone, purpose: 'register' }) } },
    { name: 'send refused: per-IP limit', goal: { redis: 0.5 }, server: limited.child, bare: bareSend, target: { url: limited.url('/api/sms/send'), method: 'POST', body: () => ({ phone: freshPhone(), purpose: 'register' }) } },
    { name: 'image captcha', server: captcha.child, bare: bareGet, target: { url: captcha.url('/api/captcha'), method: 'GET' } },
    // The Verify API's start and check, beside the end-user send and check they must stay within 10 % of.
    {
      name: 'Verify API start, fresh number',
      server: main.child,
      bare: bareSend,
      target: { url: main.url(`/v2/Services/${verify.sid}/Verifications`), method: 'POST', headers: verifyHeaders, body: () => ({ To: freshPhone(), Channel: 'sms' }) },
    },
    {
      name: 'Verify API check (no code pending)',
      server: main.child,
      bare: bareCheck,
      target: { url: main.url(`/v2/Services/${verify.sid}/VerificationCheck`), method: 'POST', headers: verifyHeaders, body: () => ({ To: freshPhone(), Code: '000000' }) },
    },
  ];

  const runs: BackendRun[] = [];
  try {
    for (const row of rows) await measure([row.target], [row.server], 10, QUICK ? 1 : 2); // warm-up
    for (const connections of CONNECTIONS) {
      process.stdout.write(`== ${backend}, ${connections} connections: ${ROUNDS} round(s) of ${DURATION} s per row\n`);
      const rounds = rows.map(() => ({ service: [] as Measured[], bare: [] as Measured[] }));
      for (let round = 0; round < ROUNDS; round++) {
        // Bare and service alternate, so load from elsewhere on the machine weighs on both sides of a ratio alike.
        for (const [i, row] of rows.entries()) {
          rounds[i]!.bare.push(await measure([row.bare], [bare.child], connections));
          rounds[i]!.service.push(await measure([row.target], [row.server], connections));
        }
      }
      runs.push({ backend, connections, results: rows.map((row, i) => ({ row, service: median(rounds[i]!.service), bare: median(rounds[i]!.bare) })) });
    }
  } finally {
    await Promise.all([main, limited, captcha].map((s) => stop(s.child)));
  }
  return runs;
}

interface Scaling {
  readonly what: string;
  readonly one: Measured;
  readonly two: Measured;
}

/** The same load on one instance and on two instances sharing one Redis. */
async function runScaling(dir: string): Promise<Scaling[]> {
  const env = (name: string) => ({ DATABASE_URL: `sqlite:${join(dir, `scale-${name}.db`)}`, REDIS_URL, REDIS_KEY_PREFIX: `${PREFIX}scale:`, RATE_LIMIT_STORE: 'redis' });
  const a = await startService(env('a'));
  const b = await startService(env('b'));
  const connections = Math.max(...CONNECTIONS);
  const out: Scaling[] = [];
  try {
    const send = (s: Server): Load => ({ url: s.url('/api/sms/send'), method: 'POST', body: () => ({ phone: freshPhone(), purpose: 'register' }) });
    const check = (s: Server): Load => ({ url: s.url('/api/register'), method: 'POST', body: () => ({ phone: freshPhone(), code: '000000', password: 'benchmark password' }) });
    process.stdout.write(`== two instances on one Redis, ${connections} connections each\n`);
    for (const [what, target] of [['send, fresh number', send], ['wrong-code check', check]] as const) {
      await measure([target(a), target(b)], [a.child, b.child], connections, QUICK ? 1 : 2);
      const ones: Measured[] = [];
      const twos: Measured[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ones.push(await measure([target(a)], [a.child], connections));
        twos.push(await measure([target(a), target(b)], [a.child, b.child], connections));
      }
      out.push({ what, one: median(ones), two: median(twos) });
    }
  } finally {
    await Promise.all([a, b].map((s) => stop(s.child)));
  }
  return out;
}

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  hitCount: number;
}

/** Self time of the profile, by where the code lives (our src, a package, Node itself) and by function. */
function summarizeProfile(file: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  // Shares of the time the process was busy: idle time (waiting for Redis, or for the CPU) is left out.
  const busy = profile.nodes.filter((n) => n.callFrame.functionName !== '(idle)');
  const total = busy.reduce((s, n) => s + n.hitCount, 0);
  const place = (url: string, fn: string) => {
    if (!url) return fn === '(program)' || fn === '(garbage collector)' ? fn : '(native)';
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1]!;
    if (url.startsWith('node:')) return 'node internals';
    const src = /\/dist\/(.+)$/.exec(url);
    return src ? `dist/${src[1]}` : url;
  };
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const n of busy) {
    const p = place(n.callFrame.url, n.callFrame.functionName);
    byPlace.set(p, (byPlace.get(p) ?? 0) + n.hitCount);
    const f = `${n.callFrame.functionName || '(anonymous)'} (${p})`;
    byFunction.set(f, (byFunction.get(f) ?? 0) + n.hitCount);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, k)
      .map(([name, hits]) => `| ${name} | ${((100 * hits) / total).toFixed(1)}% |`)
      .join('\n');
  return `Self time by place (share of busy time):\n\n| where | share |\n|---|---|\n${top(byPlace, 12)}\n\nSelf time by function:\n\n| function | share |\n|---|---|\n${top(byFunction, 15)}\n`;
}

async function runProfile(dir: string): Promise<string> {
  const profileDir = join(dir, 'profile');
  const s = await startService(
    { DATABASE_URL: `sqlite:${join(dir, 'profile.db')}`, REDIS_URL, REDIS_KEY_PREFIX: `${PREFIX}profile:`, RATE_LIMIT_STORE: 'redis' },
    profileDir,
  );
  process.stdout.write('== profiling send and check on Redis (node --cpu-prof)\n');
  try {
    await measure([{ url: s.url('/api/sms/send'), method: 'POST', body: () => ({ phone: freshPhone(), purpose: 'register' }) }], [s.child], 10, 5);
    await measure([{ url: s.url('/api/register'), method: 'POST', body: () => ({ phone: freshPhone(), code: '000000', password: 'benchmark password' }) }], [s.child], 10, 5);
  } finally {
    await stop(s.child);
  }
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  return file ? summarizeProfile(join(profileDir, file)) : '(no profile written)\n';
}

function report(runs: BackendRun[], scaling: Scaling[], profile: string | undefined): string {
  const cores = cpus();
  const redisVersion = /redis_version:(\S+)/.exec(redisInfo('server'))?.[1] ?? 'unknown';
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const us = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(0));
  const statuses = (m: Measured) =>
    `${Object.entries(m.statuses)
      .map(([c, n]) => `${c}×${n}`)
      .join(' ')}${m.errors ? `, ${m.errors} errors` : ''}`;
  const lines: string[] = [];
  lines.push(
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\`: median of ${ROUNDS} rounds of ${DURATION} s per row, each round alternating the bare route and the service; load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
    '',
    `Machine: ${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}, Node ${process.version}, Redis ${redisVersion} on the same host. autocannon, the service, the bare server and Redis share the cores.`,
    '',
    'CPU share = the bare route\'s CPU per request ÷ the service\'s (what the Goal measures); req/s share likewise. A ✗ marks a share under the Goal.',
  );
  for (const run of runs) {
    lines.push(
      '',
      `### ${run.backend === 'redis' ? 'Redis (codes and limits), accounts in SQLite' : 'Embedded default: SQLite for everything, no Redis'}, ${run.connections} connections`,
      '',
      '| row | req/s | CPU µs/req | bare CPU µs/req | CPU share | req/s share | p99 ms | answers |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const { row, service, bare } of run.results) {
      const cpuShare = service.cpuUs && bare.cpuUs ? bare.cpuUs / service.cpuUs : NaN;
      const goal = row.goal?.[run.backend];
      const mark = goal !== undefined && cpuShare < goal ? ` ✗ (goal ${pct(goal)})` : goal !== undefined ? ` (goal ${pct(goal)})` : '';
      lines.push(
        `| ${row.name} | ${Math.round(service.rps)} | ${us(service.cpuUs)} | ${us(bare.cpuUs)} | ${pct(cpuShare)}${mark} | ${pct(service.rps / bare.rps)} | ${service.p99} | ${statuses(service)} |`,
      );
    }
    const cpuOf = (name: string) => run.results.find((r) => r.row.name.startsWith(name))?.service.cpuUs;
    const versus = (verifyRow: string, endUserRow: string) => {
      const v = cpuOf(verifyRow);
      const e = cpuOf(endUserRow);
      return v && e ? `${verifyRow} costs ${pct(v / e)} of ${endUserRow}'s CPU per request` : `${verifyRow}: n/a`;
    };
    lines.push('', `Verify API against the end-user surface (goal: within 10 %): ${versus('Verify API start', 'send, fresh number')}; ${versus('Verify API check', 'wrong-code check')}.`);
  }
  if (scaling.length) {
    lines.push(
      '',
      `### Two instances on one Redis (${Math.max(...CONNECTIONS)} connections to each)`,
      '',
      '| row | instances | req/s (all) | service CPU µs/req | Redis CPU µs/req | p99 ms |',
      '|---|---|---|---|---|---|',
    );
    for (const s of scaling) {
      for (const [n, m] of [[1, s.one], [2, s.two]] as const) {
        lines.push(`| ${s.what} | ${n} | ${Math.round(m.rps)} | ${us(m.cpuUs)} | ${m.redisCpuUs === undefined ? 'n/a' : m.redisCpuUs.toFixed(1)} | ${m.p99} |`);
      }
    }
  }
  if (profile) lines.push('', '### Where a send and a check spend the CPU now (Redis, `node --cpu-prof`, 5 s of each)', '', profile.trim());
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  process.stdout.write('== building\n');
  const build = spawnSync(process.execPath, ['scripts/build.mjs', 'server'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-bench-'));
  const barePort = await freePort();
  const bareChild = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-bare-server.ts'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', PORT: String(barePort) },
  });
  children.push(bareChild);
  const bare: Server = { child: bareChild, url: (path) => `http://127.0.0.1:${barePort}${path}` };
  let text: string;
  try {
    await waitFor(bare.url('/bare'), bareChild, 'the bare server');
    const runs: BackendRun[] = [];
    for (const backend of BACKENDS) runs.push(...(await runBackend(backend, dir, bare)));
    const scaling = BACKENDS.includes('redis') ? await runScaling(dir) : [];
    const profile = PROFILE && BACKENDS.includes('redis') ? await runProfile(dir) : undefined;
    text = report(runs, scaling, profile);
  } finally {
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
  process.stdout.write(`\n${text}\n`);

  if (WRITE) {
    const doc = join(ROOT, 'docs/benchmarks.md');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const current = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`;
    const [before, rest] = current.split(start);
    const after = rest?.split(end)[1] ?? '\n';
    writeFileSync(doc, `${before}${start}\n${text}${end}${after}`);
    process.stdout.write(`wrote ${doc}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
