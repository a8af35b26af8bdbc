import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tc3Authorization, tc3CanonicalRequest, tc3Signature } from '../../src/sms/tencent-signer.js';

// Tencent's published walk-through of signature v3 (API 3.0 "Signature v3", DescribeInstances on CVM).
const EXAMPLE = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
  timestamp: 1551113065,
  request: {
    method: 'POST',
    path: '/',
    query: '',
    headers: { 'Content-Type': 'application/json; charset=utf-8', Host: 'cvm.tencentcloudapi.com' },
    signedHeaders: ['content-type', 'host'],
    body: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
  },
};

describe('TC3-HMAC-SHA256 signer', () => {
  it("reproduces Tencent's published example: payload hash, canonical request hash and signature", () => {
    const canonical = tc3CanonicalRequest(EXAMPLE.request);
    expect(canonical).toBe(
      'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    );
    expect(createHash('sha256').update(canonical).digest('hex')).toBe('5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    expect(tc3Signature(EXAMPLE.secretKey, 'cvm', EXAMPLE.timestamp, canonical)).toBe(
      '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });

  it('builds the Authorization header in the documented form', () => {
    expect(tc3Authorization(EXAMPLE, 'cvm', EXAMPLE.timestamp, EXAMPLE.request)).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });

  it('dates the credential scope in UTC, not local time (00:44 on the 26th in UTC+8 is still the 25th)', () => {
    expect(tc3Authorization(EXAMPLE, 'cvm', EXAMPLE.timestamp, EXAMPLE.request)).toContain('/2019-02-25/cvm/tc3_request');
  });
});
