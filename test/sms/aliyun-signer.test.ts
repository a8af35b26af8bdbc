import { describe, expect, it } from 'vitest';
import { aliyunPercentEncode, aliyunSignature, aliyunStringToSign } from '../../src/sms/aliyun-signer.js';

// Alibaba Cloud's published "Signature mechanism" example for RPC APIs (DescribeRegions,
// AccessKey testid / testsecret).
const EXAMPLE = {
  Timestamp: '2016-02-23T12:46:24Z',
  Format: 'XML',
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  Version: '2014-05-26',
  SignatureVersion: '1.0',
};

describe('Aliyun RPC signature (HMAC-SHA1, v1.0)', () => {
  it("reproduces the published example's string to sign and signature", () => {
    expect(aliyunStringToSign('GET', EXAMPLE)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(aliyunSignature('testsecret', 'GET', EXAMPLE)).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('reproduces the older edition of the example, which spelled the parameter TimeStamp', () => {
    const { Timestamp, ...rest } = EXAMPLE;
    expect(aliyunSignature('testsecret', 'GET', { ...rest, TimeStamp: Timestamp })).toBe('CT9X0VtwR86fNWSnsc6v8YGOjuE=');
  });

  it('encodes as RFC 3986: space as %20, * as %2A, ~ kept, UTF-8 for Chinese', () => {
    expect(aliyunPercentEncode("a b*~!'()")).toBe('a%20b%2A~%21%27%28%29');
    expect(aliyunPercentEncode('阿里云')).toBe('%E9%98%BF%E9%87%8C%E4%BA%91');
  });
});
