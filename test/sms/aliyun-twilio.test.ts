import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliyunPhoneNumber, aliyunSmsProvider, type AliyunSmsOptions } from '../../src/sms/aliyun.js';
import { acs3Authorization, acs3ContentSha256 } from '../../src/sms/aliyun-signer.js';
import type { SmsMessage } from '../../src/sms/provider.js';
import { twilioSmsProvider, type TwilioSmsOptions } from '../../src/sms/twilio.js';
import { startFakeAliyunSms, type FakeAliyunSms } from '../fakes/aliyun-sms-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';

const message: SmsMessage = { to: '+8613800138000', purpose: 'register', code: '246810', ttlMinutes: 5, text: '【测试】您的注册验证码是246810，5分钟内有效，请勿泄露给他人。', messageId: 'our-id-2' };
const signal = () => new AbortController().signal;

describe('Aliyun provider against the fake Dysmsapi', () => {
  let fake: FakeAliyunSms;
  let options: AliyunSmsOptions;
  beforeAll(async () => {
    fake = await startFakeAliyunSms({ accessKeyId: 'LTAIunit', accessKeySecret: 'unit-secret', signName: '阿里测试', templates: { SMS_1001: ['code'] } });
    options = { accessKeyId: 'LTAIunit', accessKeySecret: 'unit-secret', signName: '阿里测试', templateCode: 'SMS_1001', endpoint: fake.url };
  });
  afterAll(async () => {
    await fake.close();
  });

  it('sends {"code"} with the national number and our id as OutId, and returns the BizId', async () => {
    const receipt = await aliyunSmsProvider(options).send(message, signal());
    expect(fake.accepted.at(-1)).toMatchObject({ phone: '+8613800138000', templateCode: 'SMS_1001', params: { code: '246810' }, outId: 'our-id-2' });
    expect(receipt).toEqual({ providerMessageId: fake.accepted.at(-1)?.bizId });
  });

  it('writes numbers as Dysmsapi wants them', () => {
    expect(aliyunPhoneNumber('+8613800138000')).toBe('13800138000');
    expect(aliyunPhoneNumber('+85291234567')).toBe('85291234567');
  });

  it.each([
    ['a wrong secret', { accessKeySecret: 'nope' }, 'SignatureDoesNotMatch'],
    ['an unknown key id', { accessKeyId: 'LTAIother' }, 'InvalidAccessKeyId.NotFound'],
    ['a clock 20 minutes off', { now: () => Date.now() - 20 * 60_000 }, 'InvalidTimeStamp.Expired'],
    ['an unapproved signature', { signName: '别的' }, 'isv.SMS_SIGNATURE_ILLEGAL'],
    ['an unknown template', { templateCode: 'SMS_9' }, 'isv.SMS_TEMPLATE_ILLEGAL'],
  ] as const)('is refused for %s with %s (rejected)', async (_label, overrides, providerCode) => {
    await expect(aliyunSmsProvider({ ...options, ...overrides }).send(message, signal())).rejects.toMatchObject({ kind: 'rejected', providerCode });
  });

  it('signs with V3: the fake refuses a body changed after signing, and an x-acs header left out of the signature', async () => {
    const body = new URLSearchParams({ PhoneNumbers: '13800138000', SignName: '阿里测试', TemplateCode: 'SMS_1001', TemplateParam: '{"code":"1"}' }).toString();
    const headers: Record<string, string> = {
      host: new URL(fake.url).host,
      'content-type': 'application/x-www-form-urlencoded',
      'x-acs-action': 'SendSms',
      'x-acs-version': '2017-05-25',
      'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': `tamper-${Date.now()}`,
      'x-acs-content-sha256': acs3ContentSha256(body),
    };
    const authorization = acs3Authorization('LTAIunit', 'unit-secret', { method: 'POST', path: '/', query: {}, headers, body });
    const { host: _host, ...sent } = headers;
    const post = async (extra: Record<string, string>, sentBody: string) =>
      ((await (await fetch(`${fake.url}/`, { method: 'POST', headers: { ...sent, authorization, ...extra }, body: sentBody })).json()) as { Code: string }).Code;
    expect(await post({}, body.replace('13800138000', '13900139000'))).toBe('ContentSHA256NotMatch');
    expect(await post({ 'x-acs-content-sha256': acs3ContentSha256(body.replace('13800138000', '13900139000')) }, body.replace('13800138000', '13900139000'))).toBe('SignatureDoesNotMatch');
    expect(await post({ 'x-acs-security-token': 'unsigned' }, body)).toBe('IncompleteSignature');
    expect(await post({}, body)).toBe('OK');
  });

  it('names the missing env var when built without a setting', () => {
    expect(() => aliyunSmsProvider({ ...options, accessKeySecret: undefined })).toThrow(/ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    expect(() => aliyunSmsProvider({ ...options, signName: undefined })).toThrow(/ALIYUN_SMS_SIGN_NAME/);
    expect(() => aliyunSmsProvider({ ...options, templateCode: undefined })).toThrow(/ALIYUN_SMS_TEMPLATE_CODE/);
  });
});

describe('Twilio provider against the fake Messages API', () => {
  let fake: FakeTwilio;
  let options: TwilioSmsOptions;
  const sid = `AC${'a'.repeat(32)}`;
  beforeAll(async () => {
    fake = await startFakeTwilio({ accountSid: sid, authToken: 'unit-token', from: '+15005550006' });
    options = { accountSid: sid, authToken: 'unit-token', from: '+15005550006', messagingServiceSid: undefined, apiBase: fake.url };
  });
  afterAll(async () => {
    await fake.close();
  });

  it('sends the full text from TWILIO_FROM and returns the message sid', async () => {
    const receipt = await twilioSmsProvider(options).send(message, signal());
    expect(fake.accepted.at(-1)).toMatchObject({ to: '+8613800138000', from: '+15005550006', body: message.text });
    expect(receipt.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('is refused with a wrong auth token (20003, rejected)', async () => {
    await expect(twilioSmsProvider({ ...options, authToken: 'nope' }).send(message, signal())).rejects.toMatchObject({ kind: 'rejected', providerCode: '20003' });
  });

  it("keeps the full 'To' number Twilio repeats in its messages out of the reason it logs", async () => {
    fake.failNumber('+8613800138000', { status: 400, code: 21614 });
    const failure = (await twilioSmsProvider(options).send(message, signal()).then(
      () => new Error('sent'),
      (err: unknown) => err as Error,
    ));
    fake.failNumber('+8613800138000', undefined);
    expect(failure).toMatchObject({ kind: 'invalid_number', providerCode: '21614' });
    expect(failure.message).not.toContain('13800138000');
    expect(failure.message).toContain('****8000');
  });

  it('names the missing env var when built without a setting', () => {
    expect(() => twilioSmsProvider({ ...options, authToken: undefined })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => twilioSmsProvider({ ...options, from: undefined })).toThrow(/TWILIO_FROM/);
    expect(() => twilioSmsProvider({ ...options, from: undefined, messagingServiceSid: `MG${'b'.repeat(32)}` })).not.toThrow();
  });
});
