import { describe, expect, it } from 'vitest';
import { ipLimitKey } from '../../src/domain/client.js';

describe('ipLimitKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('with a /64 prefix counts %s as %s', (ip, key) => {
    expect(ipLimitKey(ip, 64)).toBe(key);
  });

  // Issue 10: per /64, one home /56 was 256 buckets (5,120 SMS an hour at the default per-IP cap).
  it.each([
    ['2001:db8:1:2::1', '2001:db8:1:0::/56'],
    ['2001:db8:1:ff::1', '2001:db8:1:0::/56'],
    ['2001:db8:1:1ff::1', '2001:db8:1:100::/56'],
    ['203.0.113.7', '203.0.113.7'],
  ])('by default (a /56) counts %s as %s', (ip, key) => {
    expect(ipLimitKey(ip)).toBe(key);
  });

  it('with a /48 prefix counts a whole site as one', () => {
    expect(ipLimitKey('2001:db8:1:ffff::1', 48)).toBe('2001:db8:1::/48');
    expect(ipLimitKey('2001:db8:1:0:1::1', 48)).toBe(ipLimitKey('2001:db8:1:abcd::1', 48));
  });
});
