import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The issue 6 settings: defaults as documented, and a bad value names its variable. */
describe('abuse and security configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual({
      smsPerPhoneHourly: 5,
      smsPerPhoneDaily: 10,
      smsPerIpHourly: 20,
      smsPerPrefixHourly: 50,
      prefixDigits: 7,
      smsDailyBudget: 10_000,
      allowedCountries: ['CN'],
      checksPerIpHourly: 100,
      captchasPerIpHourly: 60,
      captchaFailuresPerIpHourly: 30,
      ipv6LimitPrefix: 56,
      failedChecksPerPhoneHourly: 10,
      failedLoginsPerIpHourly: 30,
      failedLoginsPerPhoneHourly: 10,
    });
    expect(config).toMatchObject({ rateLimitStore: 'sqlite', privacyMode: 'explicit', captchaService: undefined });
    expect(config.testPhoneNumbers.size).toBe(0);
  });

  it('reads lists: countries (or *) and test numbers', () => {
    expect(loadConfig({ SMS_ALLOWED_COUNTRIES: 'cn, hk' }).limits.allowedCountries).toEqual(['CN', 'HK']);
    expect(loadConfig({ SMS_ALLOWED_COUNTRIES: '*' }).limits.allowedCountries).toBe('*');
    expect(loadConfig({ SMS_DAILY_BUDGET: '0' }).limits.smsDailyBudget).toBe(0);
    const numbers = loadConfig({ TEST_PHONE_NUMBERS: '+8613800000000:123456, +8613800000001:654321' }).testPhoneNumbers;
    expect([...numbers]).toEqual([
      ['+8613800000000', '123456'],
      ['+8613800000001', '654321'],
    ]);
  });

  it.each([
    ['SMS_PER_PHONE_HOURLY', '0'],
    ['SMS_PER_IP_HOURLY', 'lots'],
    ['SMS_DAILY_BUDGET', '-1'],
    ['SMS_ALLOWED_COUNTRIES', 'china'],
    ['FAILED_CHECKS_PER_PHONE_HOURLY', '1.5'],
    ['RATE_LIMIT_STORE', 'mongo'],
    ['REDIS_URL', 'localhost:6379'],
    ['PRIVACY_MODE', 'paranoid'],
    ['ALLOW_TEST_NUMBERS_IN_PRODUCTION', 'yes'],
    ['CAPTCHA', 'recaptcha'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*\\(got "${value.replace(/[.*+?^$()]/g, '\\$&')}"\\)`));
  });

  it('picks the limit store from the rest of the config, and refuses one that cannot work', () => {
    expect(loadConfig({}).rateLimitStore).toBe('sqlite');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).rateLimitStore).toBe('postgres');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379' }).rateLimitStore).toBe('redis');
    expect(loadConfig({ RATE_LIMIT_STORE: 'memory', REDIS_URL: 'redis://h:6379' }).rateLimitStore).toBe('memory');
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'redis' })).toThrow(/RATE_LIMIT_STORE: redis needs REDIS_URL or REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'postgres' })).toThrow(/RATE_LIMIT_STORE: postgres needs DATABASE_URL=postgres/);
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'sqlite', DATABASE_URL: 'postgres://u@h/db' })).toThrow(/RATE_LIMIT_STORE: sqlite needs/);
  });
});
