import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, post, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { backendAvailable, postgresTestSchema } from '../helpers/backends.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** Polls until the check passes, for at most `ms`; a dependency coming back is not instantaneous. */
async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const timed = async <T>(run: () => Promise<T>) => {
  const start = Date.now();
  const result = await run();
  return { result, ms: Date.now() - start };
};

describe.runIf(backendAvailable('TEST_DATABASE_URL'))('PostgreSQL going away (codes and accounts in PostgreSQL)', () => {
  const schema = postgresTestSchema();
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    await schema.truncate();
    const target = new URL(schema.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const throughProxy = new URL(schema.url);
    throughProxy.host = `127.0.0.1:${proxy.port}`;
    t = await createTestApp({ env: { DATABASE_URL: throughProxy.toString(), DATABASE_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
  });

  const ready = async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200;

  it.each(['refuse', 'blackhole'] as const)(
    'when the host %ss, answers 503 within seconds, names postgres on /readyz, and recovers by itself',
    async (failure) => {
      const phone = failure === 'refuse' ? '+8613800138001' : '+8613800138002';
      await registerUser(t, phone);
      proxy[failure]();

      for (const [url, body] of [
        ['/api/sms/send', { phone: '+8613800138009', purpose: 'register' }],
        ['/api/login/password', { phone, password: PASSWORD }],
      ] as const) {
        const { result, ms } = await timed(() => post(t.app, url, body));
        expect(result.status).toBe(503);
        expect(result.body.error.code).toBe('service_unavailable');
        expect(ms).toBeLessThan(3500);
      }
      const readyz = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(readyz.statusCode).toBe(503);
      expect(readyz.json()).toMatchObject({ status: 'unavailable', down: ['postgres'] });
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      proxy.restore();
      await eventually(ready);
      expect((await post(t.app, '/api/login/password', { phone, password: PASSWORD })).status).toBe(200);
    },
  );

  it('a registration whose account insert fails gives the code back: no account, and the same code works afterwards', async () => {
    const phone = '+8613800138003';
    const code = await sendCode(t, phone, 'register');
    // The database refuses the insert as a server going down would (SQLSTATE 57P03, cannot_connect_now).
    const database = await schema.open();
    try {
      await sql`create function refuse_insert() returns trigger language plpgsql as $$
        begin raise exception 'going down' using errcode = '57P03'; end $$`.execute(database.db);
      await sql`create trigger refuse_insert before insert on users for each row execute function refuse_insert()`.execute(database.db);
      const failed = await post(t.app, '/api/register', { phone, code, password: PASSWORD });
      expect(failed.status).toBe(503);
      expect(await database.db.selectFrom('users').select('id').where('phone', '=', phone).executeTakeFirst()).toBeUndefined();

      await sql`drop trigger refuse_insert on users`.execute(database.db);
      const retried = await post(t.app, '/api/register', { phone, code, password: PASSWORD });
      expect(retried.status).toBe(201);
      expect(retried.body.user.phone).toBe(phone);
    } finally {
      await sql`drop function if exists refuse_insert() cascade`.execute(database.db);
      await database.close();
    }
  });

  it('never logs a password, code or full number while failing', () => {
    const text = JSON.stringify(t.logs);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/8613800138\d{3}(?!\*)/);
    expect(PHONE).toBeDefined();
  });
});
