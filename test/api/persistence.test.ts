import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, fakeClock, PASSWORD, PHONE, post, sendCode } from '../helpers/app.js';
import { recordingSmsProvider } from '../helpers/fake-sms.js';

describe('restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps pending codes, cooldowns, accounts and sessions across a restart', async () => {
    const clock = fakeClock();
    const sms = recordingSmsProvider();
    const before = await createTestApp({ dir, clock, sms });
    const code = await sendCode(before, PHONE, 'register');
    await before.close();

    const after = await createTestApp({ dir, clock, sms });
    const cooldown = await post(after.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(cooldown.status).toBe(429);
    const registered = await post(after.app, '/api/register', { phone: PHONE, code, password: PASSWORD });
    expect(registered.status).toBe(201);
    await after.close();

    const third = await createTestApp({ dir, clock, sms });
    const me = await third.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${registered.body.token}` } });
    expect(me.json().user.phone).toBe(PHONE);
    await third.close();
  });
});
