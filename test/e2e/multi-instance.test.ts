import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAvailable, postgresTestSchema, redisTestPrefix, TEST_REDIS_URL } from '../helpers/backends.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'multi instance password';

const withPostgres = backendAvailable('TEST_DATABASE_URL');
const withRedis = backendAvailable('TEST_REDIS_URL');
const variants = [
  ...(withPostgres && withRedis ? [{ name: 'codes in Redis, accounts in PostgreSQL', redis: true }] : []),
  ...(withPostgres ? [{ name: 'codes and accounts in PostgreSQL', redis: false }] : []),
];

/**
 * Two real server processes behind no load balancer but the test itself, which sends each
 * request to one or the other: every piece of state must be shared through the backends.
 */
if (variants.length === 0) describe.skip('two instances (TEST_DATABASE_URL is not set)', () => it.skip('share every piece of state'));

describe.each(variants)('two instances, $name', ({ redis }) => {
  const schema = postgresTestSchema({ migrated: false });
  const prefix = redis ? redisTestPrefix() : '';
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-multi-'));
  const outbox = join(dir, 'outbox.jsonl');
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    await schema.create();
    const env = {
      NODE_ENV: 'production',
      SECRET: 'multi-instance-secret-multi-instance-secret',
      DATABASE_URL: schema.url,
      ...(redis ? { REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix } : {}),
      CAPTCHA: 'off',
      SMS_OUTBOX_FILE: outbox,
      LOG_LEVEL: 'warn',
    };
    // Started together on an empty schema: the migration lock lets exactly one migrate.
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (server: ServerProcess, method: string, path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined };
  };
  const messagesTo = (phone: string) =>
    readFileSync(outbox, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { to: string; text: string })
      .filter((m) => m.to === phone);
  const lastCode = (phone: string) => {
    const match = /验证码是(\d{6})/.exec(messagesTo(phone).at(-1)?.text ?? '');
    if (!match?.[1]) throw new Error(`no code for ${phone} in the outbox`);
    return match[1];
  };

  it('both are ready on the shared backends', async () => {
    for (const server of [a, b]) expect((await call(server, 'GET', '/readyz')).body.status).toBe('ok');
  });

  it('a code sent through one is accepted by the other, and a session made on one works on the other', async () => {
    const phone = '+8613800138020';
    expect((await call(a, 'POST', '/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    const registered = await call(b, 'POST', '/api/register', { phone, code: lastCode(phone), password: PASSWORD });
    expect(registered.status).toBe(201);
    const me = await call(a, 'GET', '/api/me', undefined, registered.body.token);
    expect(me.status).toBe(200);
    expect(me.body.user.phone).toBe(phone);
    expect((await call(a, 'POST', '/api/logout', undefined, registered.body.token)).status).toBe(204);
    expect((await call(b, 'GET', '/api/me', undefined, registered.body.token)).status).toBe(401);
  });

  it('a cooldown started on one holds on the other', async () => {
    const phone = '+8613800138021';
    expect((await call(a, 'POST', '/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    const again = await call(b, 'POST', '/api/sms/send', { phone, purpose: 'register' });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('rate_limited');
    expect(again.body.error.retryAfter).toBeGreaterThan(0);
  });

  it('ten simultaneous sends split across both send exactly one SMS', async () => {
    const phone = '+8613800138022';
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(i % 2 ? a : b, 'POST', '/api/sms/send', { phone, purpose: 'register' })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 429)).toHaveLength(9);
    expect(messagesTo(phone)).toHaveLength(1);
  });

  it('twenty simultaneous registrations with one code, split across both, create exactly one account', async () => {
    const phone = '+8613800138023';
    expect((await call(b, 'POST', '/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    const code = lastCode(phone);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(i % 2 ? a : b, 'POST', '/api/register', { phone, code, password: PASSWORD })),
    );
    const winners = results.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    // A check in flight holds a point of the number's wrong-code budget (FAILED_CHECKS_PER_PHONE_HOURLY=10),
    // so past ten at once the rest are told to wait instead of being checked.
    for (const loser of results.filter((r) => r.status !== 201)) {
      expect(['phone_taken', 'code_invalid', 'rate_limited']).toContain(loser.body.error.code);
    }
    const login = await call(a, 'POST', '/api/login/password', { phone, password: PASSWORD });
    expect(login.body.user.id).toBe(winners[0]?.body.user.id);
  });
});
