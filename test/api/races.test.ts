import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, registerUser, sendCode, type TestApp } from '../helpers/app.js';

/** Real concurrent HTTP requests against a listening server, counting winners. */
describe('races over real connections', () => {
  let t: TestApp;
  let base: string;
  beforeEach(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await t.close();
  });

  const postJson = (url: string, body: unknown) =>
    fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
      async (res) => ({ status: res.status, body: (await res.json()) as any }),
    );

  it('twenty simultaneous registrations with one valid code create exactly one account', async () => {
    const code = await sendCode(t, PHONE, 'register');
    const results = await Promise.all(Array.from({ length: 20 }, () => postJson('/api/register', { phone: PHONE, code, password: PASSWORD })));
    const winners = results.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 201)) {
      // Past ten checks in flight the wrong-code budget (FAILED_CHECKS_PER_PHONE_HOURLY) holds the rest back.
      expect(['phone_taken', 'code_invalid', 'rate_limited']).toContain(loser.body.error.code);
    }
    // The one account can sign in; nothing else was created.
    const login = await postJson('/api/login/password', { phone: PHONE, password: PASSWORD });
    expect(login.body.user.id).toBe(winners[0]?.body.user.id);
  });

  it('ten simultaneous sends to one number send exactly one SMS', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => postJson('/api/sms/send', { phone: PHONE, purpose: 'register' })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 429 && r.body.error.code === 'rate_limited')).toHaveLength(9);
    expect(t.sms.sent).toHaveLength(1);
  });

  it('ten simultaneous SMS logins with one code start exactly one session', async () => {
    await registerUser(t);
    const code = await sendCode(t, PHONE, 'login');
    const results = await Promise.all(Array.from({ length: 10 }, () => postJson('/api/login/sms', { phone: PHONE, code })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('ten simultaneous resets with one code change the password once', async () => {
    await registerUser(t);
    const code = await sendCode(t, PHONE, 'reset_password');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => postJson('/api/password/reset', { phone: PHONE, code, newPassword: `new password ${i}` })),
    );
    const winners = results.map((r, i) => ({ ...r, i })).filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    const login = await postJson('/api/login/password', { phone: PHONE, password: `new password ${winners[0]?.i}` });
    expect(login.status).toBe(200);
  });
});
