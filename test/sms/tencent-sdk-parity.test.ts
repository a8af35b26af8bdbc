import sdkSignModule from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import { describe, expect, it } from 'vitest';
import { tc3Authorization, tc3SignedHost, tencentApiHeaders } from '../../src/sms/tencent-signer.js';

type SignClass = typeof sdkSignModule.default;
// A CommonJS module compiled from TypeScript: Node gives an ESM importer module.exports (the class
// under .default), while vitest's interop gives the class itself.
const Sign: SignClass = (sdkSignModule as { default?: SignClass }).default ?? (sdkSignModule as unknown as SignClass);

const credentials = { secretId: 'AKIDparityparityparityparity', secretKey: 'parity-secret-key-0123456789abcdef' };
const ENDPOINT = 'https://sms.tencentcloudapi.com/';

/** The Authorization Tencent's official Node SDK computes for a SendSms POST (sign3, as its HttpConnection calls it). */
function sdkAuthorization(payload: object, timestamp: number, url = ENDPOINT): string {
  return Sign.sign3({
    method: 'POST',
    url,
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
      headers: { 'content-type': 'application/json', host: tc3SignedHost(ENDPOINT) },
      signedHeaders: ['content-type', 'host'],
      body: JSON.stringify(payload),
    });
    expect(ours).toBe(sdkAuthorization(payload, timestamp));
  });

  // The SDK builds its URL as protocol + endpoint + path and signs the host name without the port
  // (while sending Host with it); every test setup has a port, and proxies add paths.
  it.each([
    ['the public endpoint', 'https://sms.tencentcloudapi.com'],
    ['a regional endpoint with a trailing slash', 'https://sms.ap-guangzhou.tencentcloudapi.com/'],
    ['an IPv4 address with a port', 'http://127.0.0.1:40123'],
    ['a host name with a port and a path', 'http://sms-proxy.internal:8443/tencent/sms'],
    ['an IPv6 address with a port', 'http://[::1]:9000/'],
    ['an IPv6 address with a port and a path', 'http://[2001:db8::7]:8080/egress/tencent'],
    ['an upper-case host name', 'https://SMS.TencentCloudAPI.com'],
  ])('signs a call to %s exactly as the SDK does', (_label, endpoint) => {
    const payload = { PhoneNumberSet: ['+8613800138000'], SmsSdkAppId: '1400006666', SignName: '腾讯云', TemplateId: '1110', TemplateParamSet: ['123456', '5'] };
    const timestamp = 1_767_225_600;
    const ours = tencentApiHeaders(credentials, { endpoint, service: 'sms', action: 'SendSms', version: '2021-01-11', region: 'ap-guangzhou', timestamp, body: JSON.stringify(payload) });
    expect(ours.authorization).toBe(sdkAuthorization(payload, timestamp, new URL(endpoint).href));
  });

  it('signs a DescribeCaptchaResult call (service captcha, no region) exactly as the SDK does', () => {
    const payload = { CaptchaType: 9, Ticket: 't03abc', UserIp: '203.0.113.9', Randstr: '@xyz', CaptchaAppId: 190000000, AppSecretKey: 'k' };
    const timestamp = 1_767_225_600;
    const endpoint = 'http://127.0.0.1:40125';
    const ours = tencentApiHeaders(credentials, { endpoint, service: 'captcha', action: 'DescribeCaptchaResult', version: '2019-07-22', timestamp, body: JSON.stringify(payload) });
    const sdk = Sign.sign3({ method: 'POST', url: new URL(endpoint).href, payload, timestamp, service: 'captcha', ...credentials, multipart: false, boundary: '', headers: { 'Content-Type': 'application/json' } });
    expect(ours.authorization).toBe(sdk);
    expect(ours['x-tc-region']).toBeUndefined();
  });

  it('signs the host the fake (and Tencent) read from a Host header with a port: the name alone', () => {
    expect(tc3SignedHost('127.0.0.1:40123')).toBe('127.0.0.1');
    expect(tc3SignedHost('[::1]:9000')).toBe('[::1]');
    expect(tc3SignedHost('sms.tencentcloudapi.com')).toBe('sms.tencentcloudapi.com');
  });
});
