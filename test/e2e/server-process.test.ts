import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const PHONE = '+8613800138000';
const PASSWORD = 'e2e password one';
const NEW_PASSWORD = 'e2e password two';

/**
 * The protocol as a user runs it: a real server process in production mode, CAPTCHA=off, the
 * console provider writing to an outbox file that stands in for the person's phone.
 */
describe('the real server process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-e2e-'));
  const outbox = join(dir, 'outbox.jsonl');
  const env = {
    NODE_ENV: 'production',
    SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e-secret',
    DATABASE_URL: `sqlite:${join(dir, 'e2e.db')}`,
    CAPTCHA: 'off',
    SMS_OUTBOX_FILE: outbox,
  };
  const outputs: string[] = [];
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(server!.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined };
  };
  /** The code in the newest outbox line for this purpose, as the person would read it off the SMS. */
  const codeFromOutbox = (purpose: string) => {
    const lines = readFileSync(outbox, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { to: string; text: string; purpose: string });
    const last = lines.filter((l) => l.purpose === purpose && l.to === PHONE).at(-1);
    const match = /验证码是(\d{6})/.exec(last?.text ?? '');
    if (!match?.[1]) throw new Error(`no ${purpose} code in the outbox`);
    return match[1];
  };

  it('walks sign-up, sign-out, both sign-ins and a reset, surviving a restart, with clean logs', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    server = await startServerProcess(env);
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).body).toMatchObject({ status: 'ok' });

    expect((await call('POST', '/api/sms/send', { phone: '138 0013 8000', purpose: 'register' })).body).toEqual({
      sent: true,
      expiresIn: 300,
      resendAfter: 60,
    });
    const registerCode = codeFromOutbox('register');

    // A restart between the SMS and the form keeps the pending code.
    await server.stop();
    outputs.push(server.output());
    server = await startServerProcess(env);

    const registered = await call('POST', '/api/register', { phone: '13800138000', code: registerCode, password: PASSWORD });
    expect(registered.status).toBe(201);
    expect(registered.body.user.phone).toBe(PHONE);
    const me = await call('GET', '/api/me', undefined, registered.body.token);
    expect(me.body.user).toMatchObject({ phone: PHONE, createdAt: expect.any(String) });
    expect((await call('POST', '/api/logout', undefined, registered.body.token)).status).toBe(204);
    expect((await call('GET', '/api/me', undefined, registered.body.token)).status).toBe(401);

    const byPassword = await call('POST', '/api/login/password', { phone: PHONE, password: PASSWORD });
    expect(byPassword.status).toBe(200);

    expect((await call('POST', '/api/sms/send', { phone: PHONE, purpose: 'login' })).status).toBe(200);
    const bySms = await call('POST', '/api/login/sms', { phone: PHONE, code: codeFromOutbox('login') });
    expect(bySms.status).toBe(200);

    expect((await call('POST', '/api/sms/send', { phone: PHONE, purpose: 'reset_password' })).status).toBe(200);
    const resetCode = codeFromOutbox('reset_password');
    expect((await call('POST', '/api/password/reset', { phone: PHONE, code: resetCode, newPassword: NEW_PASSWORD })).status).toBe(200);
    expect((await call('GET', '/api/me', undefined, bySms.body.token)).status).toBe(401);
    expect((await call('POST', '/api/login/password', { phone: PHONE, password: NEW_PASSWORD })).status).toBe(200);

    const docs = await call('GET', '/openapi.json');
    expect(docs.body.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/sms/send', '/api/register', '/api/me']));

    await server.stop();
    outputs.push(server.output());
    const log = outputs.join('\n');
    expect(log).toContain('sms sent');
    expect(log).toContain('+86138****8000');
    for (const secret of [PASSWORD, NEW_PASSWORD, registered.body.token, byPassword.body.token, bySms.body.token]) {
      expect(log).not.toContain(secret);
    }
    // Digits are checked as whole numbers: a timestamp may contain any six digits by chance.
    for (const digits of [registerCode, resetCode, '8613800138000', '13800138000']) {
      expect(log).not.toMatch(new RegExp(`(?<!\\d)${digits}(?!\\d)`));
    }
  });
});
