import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults for development', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      sqlitePath: './data/sms-verify.db',
      smsProvider: ['console'],
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
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_CLUSTER_NODES', '10.0.0.1'],
    ['REDIS_TIMEOUT_MS', '0'],
    ['DATABASE_POOL_MAX', '0'],
    ['LOG_REQUESTS', 'yes'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*\\(got "${value}"\\)`));
  });

  it.each(['SECRET', 'CAPTCHA_SECRET'])('names %s without printing its bad value', (name) => {
    const value = name === 'CAPTCHA_SECRET' ? 'x'.repeat(600) : 'short-but-real-secret';
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
    expect(() => loadConfig({ [name]: value })).not.toThrow(new RegExp(value));
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

describe('SMS provider configuration', () => {
  const tencent = {
    TENCENTCLOUD_SECRET_ID: 'AKIDx',
    TENCENTCLOUD_SECRET_KEY: 'key',
    TENCENT_SMS_SDK_APP_ID: '1400006666',
    TENCENT_SMS_SIGN_NAME: '签名',
    TENCENT_SMS_TEMPLATE_ID: '1110',
  };

  it('reads SMS_PROVIDER as an ordered list', () => {
    const config = loadConfig({
      ...tencent,
      SMS_PROVIDER: 'tencent, console',
    });
    expect(config.smsProvider).toEqual(['tencent', 'console']);
    expect(config.tencent).toMatchObject({ region: 'ap-guangzhou', endpoint: 'https://sms.tencentcloudapi.com', templateIds: {} });
  });

  it.each(['tencent,tencent', ',', 'tencent;aliyun', 'sms77'])('refuses SMS_PROVIDER=%j', (value) => {
    expect(() => loadConfig({ ...tencent, SMS_PROVIDER: value })).toThrow(/SMS_PROVIDER: /);
  });

  it('names every setting a selected provider lacks, at start', () => {
    expect(() => loadConfig({ SMS_PROVIDER: 'tencent' })).toThrow(ConfigError);
    let message = '';
    try {
      loadConfig({ SMS_PROVIDER: 'console,tencent,aliyun,twilio', TENCENTCLOUD_SECRET_ID: 'AKIDx' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of [
      'TENCENTCLOUD_SECRET_KEY',
      'TENCENT_SMS_SDK_APP_ID',
      'TENCENT_SMS_SIGN_NAME',
      'TENCENT_SMS_TEMPLATE_ID',
      'ALIBABA_CLOUD_ACCESS_KEY_ID',
      'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      'ALIYUN_SMS_SIGN_NAME',
      'ALIYUN_SMS_TEMPLATE_CODE',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM',
    ]) {
      expect(message).toMatch(new RegExp(`^  ${name}: required when SMS_PROVIDER includes`, 'm'));
    }
    expect(message).not.toMatch(/TENCENTCLOUD_SECRET_ID/);
  });

  it('needs no default template when every purpose has its own', () => {
    const { TENCENT_SMS_TEMPLATE_ID: _, ...rest } = tencent;
    const config = loadConfig({
      ...rest,
      SMS_PROVIDER: 'tencent',
      TENCENT_SMS_TEMPLATE_ID_REGISTER: '1',
      TENCENT_SMS_TEMPLATE_ID_LOGIN: '2',
      TENCENT_SMS_TEMPLATE_ID_RESET_PASSWORD: '3',
      TENCENT_SMS_TEMPLATE_ID_CHANGE_PHONE: '4',
    });
    expect(config.tencent.templateIds).toEqual({ register: '1', login: '2', reset_password: '3', change_phone: '4' });
  });

  it('does not require the settings of providers that are not selected', () => {
    expect(loadConfig({ SMS_PROVIDER: 'console' }).tencent.secretId).toBeUndefined();
  });

  it.each([
    ['TENCENT_SMS_ENDPOINT', 'ftp://example.com'],
    ['TENCENT_SMS_ENDPOINT', 'not a url'],
    ['ALIYUN_SMS_ENDPOINT', 'https://dysmsapi.aliyuncs.com/?x=1'],
    ['TENCENT_SMS_SDK_APP_ID', 'app'],
    ['ALIYUN_SMS_TEMPLATE_CODE', '12345'],
    ['TWILIO_ACCOUNT_SID', 'AC123'],
    ['SMS_CALLBACK_ALLOWED_IPS', '10.0.0.0/33'],
    ['SMS_CALLBACK_ALLOWED_IPS', 'tencent.com'],
    ['SMS_CIRCUIT_FAILURES', '0'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*\\(got "${value.replace(/[?.*/()[\]]/g, '\\$&')}"\\)`));
  });

  it.each(['short', 'has/a/slash/in/it/0123456789'])('names SMS_CALLBACK_TOKEN without printing its value %j', (value) => {
    const message = (() => {
      try {
        loadConfig({ SMS_CALLBACK_TOKEN: value });
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toMatch(/SMS_CALLBACK_TOKEN: /);
    expect(message).not.toContain(value);
  });

  it('reads the callback settings', () => {
    const config = loadConfig({ SMS_CALLBACK_TOKEN: 'a'.repeat(24), SMS_CALLBACK_ALLOWED_IPS: '203.0.113.0/24, 198.51.100.7, 2001:db8::/32' });
    expect(config.smsCallback).toEqual({
      token: 'a'.repeat(24),
      allowedIps: [
        { address: '203.0.113.0', prefix: 24, family: 'ipv4' },
        { address: '198.51.100.7', prefix: 32, family: 'ipv4' },
        { address: '2001:db8::', prefix: 32, family: 'ipv6' },
      ],
    });
    expect(loadConfig({}).smsCallback).toEqual({ token: undefined, allowedIps: [] });
  });

  it('reads the token, webhook and CORS settings, and names a bad one', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const config = loadConfig({
      PUBLIC_URL: 'https://auth.example.com/',
      WEBHOOK_URL: 'https://a.example.com/hooks, http://127.0.0.1:9000/h',
      WEBHOOK_SECRET: secret,
      CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
      SESSION_COOKIE_DOMAIN: 'example.com',
    });
    expect(config.tokens).toEqual({ issuer: 'https://auth.example.com', audience: 'sms-verify', algorithm: 'ES256', accessTokenTtlSeconds: 900 });
    expect(config.webhooks).toEqual({ urls: ['https://a.example.com/hooks', 'http://127.0.0.1:9000/h'], secret, timeoutMs: 5000 });
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.sessionCookieDomain).toBe('example.com');
    expect(loadConfig({}).corsOrigins).toEqual([]);

    expect(() => loadConfig({ WEBHOOK_URL: 'https://a.example.com/hooks' })).toThrow(/WEBHOOK_SECRET: required when WEBHOOK_URL is set/);
    expect(() => loadConfig({ WEBHOOK_URL: 'ftp://a.example.com', WEBHOOK_SECRET: secret })).toThrow(/WEBHOOK_URL: "ftp:\/\/a.example.com" is not an http\(s\) URL/);
    // A credential's bad value is not printed.
    expect(() => loadConfig({ WEBHOOK_SECRET: 'whsec_short' })).toThrow(/WEBHOOK_SECRET: must be whsec_/);
    expect(() => loadConfig({ WEBHOOK_SECRET: 'whsec_short' })).not.toThrow(/got "whsec_short"/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/' })).toThrow(/CORS_ORIGINS: .*not an exact origin/);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ JWT_ALGORITHM: 'HS256' })).toThrow(/JWT_ALGORITHM: must be ES256 or EdDSA/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL_SECONDS: '10' })).toThrow(/ACCESS_TOKEN_TTL_SECONDS/);
  });
});
