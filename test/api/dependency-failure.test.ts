import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/db/database.js';
import { createTestApp, PASSWORD, PHONE, post, sendCode, type TestApp } from '../helpers/app.js';

describe('when another process holds the SQLite write lock', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
    // The app would wait 5 s for the lock; a short wait keeps the test quick and the behaviour the same.
    t.database!.sqlite.pragma('busy_timeout = 50');
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers 503 service_unavailable, consumes nothing, and recovers when the lock is released', async () => {
    const code = await sendCode(t, PHONE, 'register');
    const other = openSqliteDatabase(`${t.dir}/test.db`);
    other.sqlite.exec('BEGIN EXCLUSIVE');

    const blocked = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(blocked.status).toBe(503);
    expect(blocked.body.error).toEqual({ code: 'service_unavailable', message: expect.any(String) });
    const send = await post(t.app, '/api/sms/send', { phone: '+8613900139000', purpose: 'register' });
    expect(send.status).toBe(503);

    other.sqlite.exec('ROLLBACK');
    await other.close();

    // The failed attempt did not use up the code: the same code registers now.
    const registered = await post(t.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(registered.status).toBe(201);
    expect((await post(t.app, '/api/sms/send', { phone: '+8613900139000', purpose: 'register' })).status).toBe(200);
  });
});
