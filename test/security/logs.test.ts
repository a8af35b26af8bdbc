import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, PHONE, post, sendCode, type TestApp } from '../helpers/app.js';
import { totpNow } from './helpers.js';

const NEW_PHONE = '+8613900139000';
const NEW_PASSWORD = 'the second password';

/**
 * What an operator's log holds in production at info level: masked numbers and ids, never a code,
 * password, token, ticket, TOTP secret, recovery code or full phone number.
 */
describe('secrets stay out of the production log', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('walks every flow of issue 6 and finds none of its secrets in any log line', async () => {
    t = await createTestApp({ env: { NODE_ENV: 'production', LOG_LEVEL: 'info', TEST_PHONE_NUMBERS: '+8613800000000:135790', ALLOW_TEST_NUMBERS_IN_PRODUCTION: 'true' } });
    const secrets: string[] = [PASSWORD, NEW_PASSWORD, '135790'];
    const phones = [PHONE, NEW_PHONE, '+8613800000000'];

    const registerCode = await sendCode(t, PHONE, 'register');
    const reg = await post(t.app, '/api/register', { phone: PHONE, code: registerCode, password: PASSWORD });
    const auth = { authorization: `Bearer ${reg.body.token}` };
    await post(t.app, '/api/register', { phone: PHONE, code: '000001', password: PASSWORD }); // a wrong code, logged as such
    await post(t.app, '/api/login/password', { phone: PHONE, password: 'a wrong password' });

    const setup = (await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body;
    const enableCode = await totpNow(setup.secret, t.clock);
    const { recoveryCodes } = (await post(t.app, '/api/2fa/enable', { code: enableCode }, auth)).body;
    t.clock.advance(30_000);
    const ticket = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body.ticket;
    const loginTotp = await totpNow(setup.secret, t.clock);
    const signedIn = await post(t.app, '/api/login/2fa', { ticket, code: loginTotp });
    expect(reg.status).toBe(201);
    expect(signedIn.status).toBe(200);

    const resetCode = await sendCode(t, PHONE, 'reset_password');
    await post(t.app, '/api/password/reset', { phone: PHONE, code: resetCode, newPassword: NEW_PASSWORD, totp: recoveryCodes[0] });
    const second = (await post(t.app, '/api/login/2fa', { ticket: (await post(t.app, '/api/login/password', { phone: PHONE, password: NEW_PASSWORD })).body.ticket, code: recoveryCodes[1] })).body.token;
    expect(second).toEqual(expect.any(String));
    const changeCode = await sendCode(t, NEW_PHONE, 'change_phone', { authorization: `Bearer ${second}` });
    await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code: changeCode, password: NEW_PASSWORD }, { authorization: `Bearer ${second}` });
    await post(t.app, '/api/sms/send', { phone: '+8613800000000', purpose: 'register' });
    await post(t.app, '/api/register', { phone: '+8613800000000', code: '135790', password: PASSWORD });

    secrets.push(registerCode, resetCode, changeCode, reg.body.token, ticket, signedIn.body.token, second, setup.secret, enableCode, loginTotp, ...recoveryCodes);
    const log = t.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(log).toContain('+86138****8000');
    expect(t.logs.some((l) => l.msg === 'phone changed')).toBe(true);
    for (const secret of secrets) {
      // Digits are matched as whole numbers: a timestamp or port may hold any six digits by chance.
      const pattern = /^\d+$/.test(secret) ? new RegExp(`(?<!\\d)${secret}(?!\\d)`) : new RegExp(secret.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'));
      expect(log, `a secret (${secret.length} characters) is in the log`).not.toMatch(pattern);
    }
    for (const phone of phones) {
      expect(log).not.toContain(phone);
      expect(log).not.toMatch(new RegExp(`(?<!\\d)${phone.slice(3)}(?!\\d)`));
    }
  });
});
