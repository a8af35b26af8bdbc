import { describe, expect, it } from 'vitest';
import { createHasher, generateCode, hashesEqual } from '../../src/domain/codes.js';
import { maskPhone, normalizePhone, phonePrefix, phoneRegion } from '../../src/domain/phone.js';

describe('phone numbers', () => {
  it.each([
    ['13800138000', '+8613800138000'],
    ['+8613800138000', '+8613800138000'],
    ['+86 138 0013 8000', '+8613800138000'],
    ['(+86) 138-0013-8000', '+8613800138000'],
    ['+447911123456', '+447911123456'],
  ])('normalizes %s to %s', (input, e164) => {
    expect(normalizePhone(input, 'CN')).toBe(e164);
  });

  it.each(['02012345678', '10086', '12345678901234567890', '+86 138 0013 800O', '13800138000;DROP', '\u0000', '١٣٨٠٠١٣٨٠٠٠'])(
    'rejects %j as invalid_phone',
    (input) => {
      expect(() => normalizePhone(input, 'CN')).toThrow(expect.objectContaining({ code: 'invalid_phone' }));
    },
  );

  it('uses DEFAULT_REGION for numbers without a country code', () => {
    expect(normalizePhone('07911 123456', 'GB')).toBe('+447911123456');
  });

  it('masks the middle digits', () => {
    expect(maskPhone('+8613800138000')).toBe('+86138****8000');
  });

  it('gives the same region, prefix and mask from the remembered parse as from a fresh one', () => {
    // Never normalized: parsed on the spot.
    const unseen = '+8613800138001' as Parameters<typeof phoneRegion>[0];
    expect([phoneRegion(unseen), phonePrefix(unseen, 7), maskPhone(unseen)]).toEqual(['CN', '+861380013', '+86138****8001']);
    const phone = normalizePhone('139 0013 9000', 'CN');
    expect([phoneRegion(phone), phonePrefix(phone, 7), maskPhone(phone)]).toEqual(['CN', '+861390013', '+86139****9000']);
    // What a person typed is never mistaken for a remembered E.164 number.
    expect(maskPhone('13900139000')).toBe('****9000');
  });
});

describe('codes', () => {
  it('draws codes of the configured length, digits only, leading zeros kept', () => {
    for (const length of [4, 6, 10]) {
      for (let i = 0; i < 200; i++) expect(generateCode(length)).toMatch(new RegExp(`^\\d{${length}}$`));
    }
    const firstDigits = new Set(Array.from({ length: 500 }, () => generateCode(6)[0]));
    expect(firstDigits.has('0')).toBe(true);
  });

  it('spreads codes evenly over the digits', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) for (const d of generateCode(10)) counts[Number(d)]! += 1;
    // 20,000 digits: each should be near 2,000; 1,700..2,300 is over 6 standard deviations wide.
    for (const c of counts) expect(c).toBeGreaterThan(1700);
    for (const c of counts) expect(c).toBeLessThan(2300);
  });

  it('binds a code hash to the secret, purpose, phone and code', () => {
    const h = createHasher('a'.repeat(32));
    const base = h.code('register', '+8613800138000', '123456');
    expect(base).not.toContain('123456');
    expect(h.code('login', '+8613800138000', '123456')).not.toBe(base);
    expect(h.code('register', '+8613900139000', '123456')).not.toBe(base);
    expect(h.code('register', '+8613800138000', '123457')).not.toBe(base);
    expect(createHasher('b'.repeat(32)).code('register', '+8613800138000', '123456')).not.toBe(base);
    expect(h.captchaAnswer('id', 'AbCd')).toBe(h.captchaAnswer('id', 'abcd'));
  });

  it('compares hashes without being fooled by length', () => {
    expect(hashesEqual('abc', 'abc')).toBe(true);
    expect(hashesEqual('abc', 'abd')).toBe(false);
    expect(hashesEqual('abc', 'abcd')).toBe(false);
  });
});
