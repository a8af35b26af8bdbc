import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeTencentSms, type FakeTencentSms } from '../fakes/tencent-sms-server.js';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const PHONE = '+8613800138000';
const SECRET_KEY = 'e2e-tencent-secret-key-0123456789';
const CALLBACK_TOKEN = 'e2e-callback-token-0123456789abcdef';

/**
 * The protocol as production runs it with SMS_PROVIDER=tencent: a real server process whose
 * Tencent client signs real requests to the fake SendSms; the code is read off the fake's record.
 */
describe('the real server process with SMS_PROVIDER=tencent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-tencent-e2e-'));
  let fake: FakeTencentSms | undefined;
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (path: string, body: unknown) => {
    const res = await fetch(server!.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('registers a user with the code Tencent delivered, and keeps secrets out of the output', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    fake = await startFakeTencentSms({
      secretId: 'AKIDe2ee2ee2ee2ee2ee2e',
      secretKey: SECRET_KEY,
      sdkAppId: '1400123456',
      signName: '端到端',
      templates: { '449739': 2 },
    });
    server = await startServerProcess({
      NODE_ENV: 'production',
      SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e-secret',
      DATABASE_URL: `sqlite:${join(dir, 'e2e.db')}`,
      CAPTCHA: 'off',
      SMS_PROVIDER: 'tencent',
      TENCENTCLOUD_SECRET_ID: 'AKIDe2ee2ee2ee2ee2ee2e',
      TENCENTCLOUD_SECRET_KEY: SECRET_KEY,
      TENCENT_SMS_SDK_APP_ID: '1400123456',
      TENCENT_SMS_SIGN_NAME: '端到端',
      TENCENT_SMS_TEMPLATE_ID: '449739',
      TENCENT_SMS_ENDPOINT: fake.url,
      SMS_CALLBACK_TOKEN: CALLBACK_TOKEN,
    });

    expect((await call('/api/sms/send', { phone: '13800138000', purpose: 'register' })).status).toBe(200);
    const [accepted] = fake.accepted;
    expect(accepted).toMatchObject({ phone: PHONE, templateId: '449739', params: [expect.stringMatching(/^\d{6}$/), '5'] });
    const code = fake.lastCode(PHONE);

    const registered = await call('/api/register', { phone: PHONE, code, password: 'e2e tencent password' });
    expect(registered.status).toBe(201);
    expect(registered.body.user.phone).toBe(PHONE);

    const report = await call(`/api/sms/callback/tencent/${CALLBACK_TOKEN}`, fake.statusReport(accepted!.serialNo, true));
    expect(report).toEqual({ status: 200, body: { result: 0, errmsg: 'OK' } });

    await server.stop();
    const output = server.output();
    expect(output).toContain('sms sent');
    expect(output).toContain('delivery reports applied');
    for (const secret of [code, SECRET_KEY, CALLBACK_TOKEN, '13800138000', registered.body.token as string]) {
      expect(output).not.toContain(secret);
    }
  });
});
