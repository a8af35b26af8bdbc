import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, registerUser, sendCode, type TestApp } from '../helpers/app.js';
import { listen, totpNow } from './helpers.js';

/** Real concurrent HTTP requests against a listening server; each race has exactly one winner. */
describe('security races over real connections', () => {
  let t: TestApp;
  let http: Awaited<ReturnType<typeof listen>>;
  beforeEach(async () => {
    // Generous per-IP limits: every request here comes from 127.0.0.1, and the race is the subject, not the limit.
    t = await createTestApp({ env: { CHECKS_PER_IP_HOURLY: '10000', SMS_PER_IP_HOURLY: '10000' } });
    http = await listen(t);
  });
  afterEach(async () => {
    await t.close();
  });
  const many = <T>(n: number, fn: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

  it('concurrent sends to one number for different purposes stay within SMS_PER_PHONE_HOURLY', async () => {
    await t.close();
    t = await createTestApp({ env: { SMS_PER_PHONE_HOURLY: '2', SMS_PER_IP_HOURLY: '10000' } });
    http = await listen(t);
    await registerUser(t); // the first SMS of the hour
    // login and reset_password have separate cooldowns, so each could win one; the hourly limit leaves room for one.
    const results = await many(20, (i) => http.post('/api/sms/send', { phone: PHONE, purpose: i % 2 ? 'login' : 'reset_password' }));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 429 && r.body.error.code === 'rate_limited')).toHaveLength(19);
    expect(t.sms.sent).toHaveLength(2);
  });

  it('concurrent checks of one right code: one winner, even with wrong guesses in the mix', async () => {
    await registerUser(t);
    const code = await sendCode(t, PHONE, 'login');
    const wrong = code === '000000' ? '111111' : '000000';
    const results = await many(16, (i) => http.post('/api/login/sms', { phone: PHONE, code: i % 4 === 0 ? wrong : code }));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('concurrent registrations with one code: one account', async () => {
    const code = await sendCode(t, PHONE, 'register');
    const results = await many(15, () => http.post('/api/register', { phone: PHONE, code, password: PASSWORD }));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  });

  it('concurrent resets with one code and one TOTP code: one new password', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const { secret } = (await http.post('/api/2fa/setup', { password: PASSWORD }, auth)).body;
    expect((await http.post('/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth)).status).toBe(200);
    t.clock.advance(30_000);
    const code = await sendCode(t, PHONE, 'reset_password');
    const totp = await totpNow(secret, t.clock);
    const results = await many(10, (i) => http.post('/api/password/reset', { phone: PHONE, code, newPassword: `new password ${i}`, totp }));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('concurrent 2FA enables with one code: one winner, one set of recovery codes', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const { secret } = (await http.post('/api/2fa/setup', { password: PASSWORD }, auth)).body;
    const code = await totpNow(secret, t.clock);
    const results = await many(10, () => http.post('/api/2fa/enable', { code }, auth));
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expect(['two_factor_already_enabled', 'two_factor_invalid']).toContain(r.body.error.code);
    // The winner's recovery codes are the ones that work.
    const ticket = (await http.post('/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    expect((await http.post('/api/login/2fa', { ticket, code: winners[0]!.body.recoveryCodes[0] })).status).toBe(200);
  });

  it('concurrent second steps with one ticket: one session', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const { secret } = (await http.post('/api/2fa/setup', { password: PASSWORD }, auth)).body;
    const { recoveryCodes } = (await http.post('/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth)).body;
    t.clock.advance(30_000);
    const ticket = (await http.post('/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    // Different valid codes, so only the ticket decides.
    const totp = await totpNow(secret, t.clock);
    const codes = [totp, ...recoveryCodes.slice(0, 7)];
    const results = await many(codes.length, (i) => http.post('/api/login/2fa', { ticket, code: codes[i] }));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('concurrent uses of one recovery code: one winner', async () => {
    const token = await registerUser(t);
    const auth = { authorization: `Bearer ${token}` };
    const { secret } = (await http.post('/api/2fa/setup', { password: PASSWORD }, auth)).body;
    const { recoveryCodes } = (await http.post('/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth)).body;
    const tickets = await many(6, async () => (await http.post('/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket as string);
    const results = await many(6, (i) => http.post('/api/login/2fa', { ticket: tickets[i], code: recoveryCodes[0] }));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });
});
