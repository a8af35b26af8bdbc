import sdkSignModule from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import { describe, expect, it } from 'vitest';
import { tc3Authorization } from '../../src/sms/tencent-signer.js';

type SignClass = typeof sdkSignModule.default;
// A CommonJS module compiled from TypeScript: Node gives an ESM importer module.exports (the class
// under .default), while vitest's interop gives the class itself.
const Sign: SignClass = (sdkSignModule as { default?: SignClass }).default ?? (sdkSignModule as unknown as SignClass);

const credentials = { secretId: 'AKIDparityparityparityparity', secretKey: 'parity-secret-key-0123456789abcdef' };
const ENDPOINT = 'https://sms.tencentcloudapi.com/';

/** The Authorization Tencent's official Node SDK computes for a SendSms POST (sign3, as its HttpConnection calls it). */
function sdkAuthorization(payload: object, timestamp: number): string {
  return Sign.sign3({
    method: 'POST',
    url: ENDPOINT,
    payload,
    timestamp,
    service: 'sms',
    ...credentials,
    multipart: false,
    boundary: '',
    headers: { 'Content-Type': 'application/json' },
  });
}

describe('our TC3 signer against the official SDK (tencentcloud-sdk-nodejs-common)', () => {
  it.each([
    ['a SendSms body with a Chinese signature', 1_767_225_600, { PhoneNumberSet: ['+8613800138000'], SmsSdkAppId: '1400006666', SignName: '腾讯云', TemplateId: '1110', TemplateParamSet: ['123456', '5'], SessionContext: 'a2b7c3' }],
    ['one second before UTC midnight', 1_767_311_999, { PhoneNumberSet: ['+8613900139000'], TemplateParamSet: ['000001', '10'] }],
    ['an empty body', 1_551_113_065, {}],
  ])('signs %s exactly as the SDK does', (_label, timestamp, payload) => {
    // What the provider sends: the body JSON.stringify makes (the SDK's json-bigint gives the same bytes).
    const ours = tc3Authorization(credentials, 'sms', timestamp, {
      method: 'POST',
      path: '/',
      query: '',
      headers: { 'content-type': 'application/json', host: new URL(ENDPOINT).host },
      signedHeaders: ['content-type', 'host'],
      body: JSON.stringify(payload),
    });
    expect(ours).toBe(sdkAuthorization(payload, timestamp));
  });
});
