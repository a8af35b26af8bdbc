import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults for development', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      sqlitePath: './data/sms-verify.db',
      smsProvider: 'console',
      captcha: 'image',
      trustProxy: false,
      defaultRegion: 'CN',
      code: { length: 6, ttlSeconds: 300, resendCooldownSeconds: 60, maxAttempts: 5 },
      sessionTtlSeconds: 30 * 24 * 3600,
      smsProviderTimeoutMs: 5000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['CODE_LENGTH', '3'],
    ['CODE_LENGTH', '11'],
    ['CODE_LENGTH', 'six'],
    ['PORT', '70000'],
    ['CAPTCHA', 'maybe'],
    ['SMS_PROVIDER', 'carrier-pigeon'],
    ['DATABASE_URL', 'mysql://x'],
    ['DEFAULT_REGION', 'china'],
    ['TRUST_PROXY', 'not an address'],
    ['SECRET', 'too-short'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_CLUSTER_NODES', '10.0.0.1'],
    ['REDIS_TIMEOUT_MS', '0'],
    ['DATABASE_POOL_MAX', '0'],
    ['LOG_REQUESTS', 'yes'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*\\(got "${value}"\\)`));
  });

  it('requires SECRET in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET: required when NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: 'production', SECRET: 'x'.repeat(32) }).secret).toBe('x'.repeat(32));
  });

  it('reads TRUST_PROXY as a flag, a hop count or a list of ranges', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('reads a PostgreSQL DATABASE_URL and the Redis settings', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://app:pw@db:5432/app',
      REDIS_CLUSTER_NODES: '10.0.0.1:6379, 10.0.0.2:6379',
    });
    expect(config.sqlitePath).toBeUndefined();
    expect(config.postgres).toEqual({ url: 'postgresql://app:pw@db:5432/app', poolMax: 10, timeoutMs: 2000 });
    expect(config.redis).toEqual({ url: undefined, clusterNodes: ['10.0.0.1:6379', '10.0.0.2:6379'], keyPrefix: 'sms-verify:', timeoutMs: 1000 });
    expect(loadConfig({}).redis).toBeUndefined();
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:6379' })).toThrow(/REDIS_CLUSTER_NODES: set either/);
  });

  it('does not print the password of a rejected URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db/app' })).toThrow(/got "mysql:\/\/\*\*\*@db\/app"/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', CODE_LENGTH: '' }).port).toBe(3000);
  });
});
