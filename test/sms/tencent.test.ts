import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tencentSmsProvider, type TencentSmsOptions } from '../../src/sms/tencent.js';
import { tc3Authorization } from '../../src/sms/tencent-signer.js';
import type { SmsMessage } from '../../src/sms/provider.js';
import { startFakeTencentSms, type FakeTencentSms } from '../fakes/tencent-sms-server.js';

const SETTINGS = { secretId: 'AKIDunitunitunitunitunit', secretKey: 'unit-secret-key-0123456789', sdkAppId: '1400009999', signName: '单元测试' };
const message: SmsMessage = { to: '+8613800138000', purpose: 'login', code: '654321', ttlMinutes: 5, text: 'ignored', messageId: 'our-id-1' };

describe('Tencent provider against the fake SendSms', () => {
  let fake: FakeTencentSms;
  let options: TencentSmsOptions;
  beforeAll(async () => {
    fake = await startFakeTencentSms({ ...SETTINGS, templates: { '2001': 2, '2002': 2 } });
    options = { ...SETTINGS, templateId: '2001', templateIds: { login: '2002' }, region: 'ap-guangzhou', endpoint: fake.url };
  });
  afterAll(async () => {
    await fake.close();
  });
  const send = (overrides: Partial<TencentSmsOptions> = {}) => tencentSmsProvider({ ...options, ...overrides }).send(message, new AbortController().signal);

  it('sends [code, minutes] with the purpose template, our id as SessionContext, and returns SerialNo and Fee', async () => {
    const receipt = await send();
    expect(fake.accepted.at(-1)).toMatchObject({ phone: '+8613800138000', templateId: '2002', params: ['654321', '5'], sessionContext: 'our-id-1', signName: '单元测试' });
    expect(receipt).toEqual({ providerMessageId: fake.accepted.at(-1)?.serialNo, fee: 1 });
  });

  it.each([
    ['a clock 6 minutes slow', { now: () => Date.now() - 6 * 60_000 }, 'AuthFailure.SignatureExpire'],
    ['a clock 6 minutes fast', { now: () => Date.now() + 6 * 60_000 }, 'AuthFailure.SignatureExpire'],
    ['an unknown SecretId', { secretId: 'AKIDsomeoneelse' }, 'AuthFailure.SecretIdNotFound'],
    ['a wrong SecretKey', { secretKey: 'wrong' }, 'AuthFailure.SignatureFailure'],
    ['another SdkAppId', { sdkAppId: '1400000001' }, 'InvalidParameterValue.SdkAppIdNotExist'],
    ['an unapproved signature', { signName: '别的签名' }, 'FailedOperation.SignatureIncorrectOrUnapproved'],
    ['an unknown template', { templateIds: { login: '9999' } }, 'FailedOperation.TemplateIncorrectOrUnapproved'],
  ] as const)('is refused for %s with %s (rejected)', async (_label, overrides, providerCode) => {
    await expect(send(overrides)).rejects.toMatchObject({ name: 'SmsSendError', kind: 'rejected', providerCode, requestId: expect.any(String) });
  });

  it('accepts a signature made 4 minutes ago (inside the 5-minute window)', async () => {
    await expect(send({ now: () => Date.now() - 4 * 60_000 })).resolves.toMatchObject({ fee: 1 });
  });

  it('refuses a body changed after signing', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const url = new URL(fake.url);
    const signedBody = JSON.stringify({ PhoneNumberSet: ['+8613800138000'], SmsSdkAppId: SETTINGS.sdkAppId, SignName: SETTINGS.signName, TemplateId: '2001', TemplateParamSet: ['1', '5'] });
    const headers = { 'content-type': 'application/json; charset=utf-8', host: url.hostname };
    const authorization = tc3Authorization(SETTINGS, 'sms', timestamp, { method: 'POST', path: '/', query: '', headers, signedHeaders: ['content-type', 'host'], body: signedBody });
    const res = await fetch(fake.url, {
      method: 'POST',
      headers: { 'content-type': headers['content-type'], authorization, 'x-tc-action': 'SendSms', 'x-tc-version': '2021-01-11', 'x-tc-timestamp': String(timestamp), 'x-tc-region': 'ap-guangzhou' },
      body: signedBody.replace('+8613800138000', '+8613900139000'),
    });
    expect(((await res.json()) as { Response: { Error: { Code: string } } }).Response.Error.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses a notice (no code) instead of sending the verification template with an empty code', async () => {
    const before = fake.accepted.length;
    const notice = tencentSmsProvider(options).send({ ...message, kind: 'notice', code: '' }, new AbortController().signal);
    await expect(notice).rejects.toMatchObject({ name: 'SmsSendError', kind: 'rejected' });
    expect(fake.accepted).toHaveLength(before);
  });

  it('names the missing env var when built without a setting', () => {
    expect(() => tencentSmsProvider({ ...options, secretKey: undefined })).toThrow(/TENCENTCLOUD_SECRET_KEY/);
    expect(() => tencentSmsProvider({ ...options, sdkAppId: '' })).toThrow(/TENCENT_SMS_SDK_APP_ID/);
    expect(() => tencentSmsProvider({ ...options, templateId: undefined })).toThrow(/TENCENT_SMS_TEMPLATE_ID/);
    expect(() =>
      tencentSmsProvider({ ...options, templateId: undefined, templateIds: { register: '1', login: '2', reset_password: '3', change_phone: '4' } }),
    ).not.toThrow();
  });
});
