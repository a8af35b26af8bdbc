import { describe, expect, it } from 'vitest';
import { acs3Authorization, acs3CanonicalRequest, aliyunPercentEncode, parseAcs3Authorization } from '../../src/sms/aliyun-signer.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Alibaba Cloud's published example of signature V3 ("V3 request structure and signature",
 * RunInstances on ECS, AccessKey YourAccessKeyId / YourAccessKeySecret): a POST with its
 * parameters in the query and an empty body.
 */
const example = (date: string, nonce: string) => ({
  method: 'POST',
  path: '/',
  query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
  headers: {
    host: 'ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action': 'RunInstances',
    'x-acs-version': '2014-05-26',
    'x-acs-date': date,
    'x-acs-signature-nonce': nonce,
    'x-acs-content-sha256': EMPTY_SHA256,
  },
  body: '',
});

describe('Aliyun signature V3 (ACS3-HMAC-SHA256)', () => {
  it("reproduces the published example's canonical request and Authorization", () => {
    const request = example('2023-10-26T10:22:32Z', '3156853299f313e23d1673dc12e1703d');
    expect(acs3CanonicalRequest(request)).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        'host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:' + EMPTY_SHA256 +
          '\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        EMPTY_SHA256,
      ].join('\n'),
    );
    expect(acs3Authorization('YourAccessKeyId', 'YourAccessKeySecret', request)).toBe(
      'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    );
  });

  it("reproduces the signature of the example's common-headers table (another date and nonce)", () => {
    const auth = acs3Authorization('YourAccessKeyId', 'YourAccessKeySecret', example('2023-10-26T09:01:01Z', 'd410180a5abf7fe235dd9b74aca91fc0'));
    expect(parseAcs3Authorization(auth)?.signature).toBe('e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804');
  });

  it('signs content-type and every x-acs-* header, and nothing else', () => {
    const auth = acs3Authorization('id', 'secret', { ...example('2026-01-01T00:00:00Z', 'n'), headers: { ...example('', '').headers, 'Content-Type': 'application/x-www-form-urlencoded', 'user-agent': 'x' } });
    expect(parseAcs3Authorization(auth)?.signedHeaders).toEqual(['content-type', 'host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']);
  });

  it('encodes as RFC 3986: space as %20, * as %2A, ~ kept, UTF-8 for Chinese', () => {
    expect(aliyunPercentEncode("a b*~!'()")).toBe('a%20b%2A~%21%27%28%29');
    expect(aliyunPercentEncode('阿里云')).toBe('%E9%98%BF%E9%87%8C%E4%BA%91');
  });
});
