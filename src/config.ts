import { z } from 'zod';

/** Purposes a code can be issued for. A code for one purpose never satisfies another. */
export const PURPOSES = ['register', 'login', 'reset_password', 'change_phone'] as const;
export type Purpose = (typeof PURPOSES)[number];

const int = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })
    .default(fallback);

/**
 * Fastify's `trustProxy`: `false` (socket address only), `true` (trust every hop),
 * a hop count, or a comma list of trusted proxy addresses/CIDR ranges.
 */
export type TrustProxy = boolean | number | string[];

function parseTrustProxy(raw: string, ctx: z.RefinementCtx): TrustProxy {
  const value = raw.trim();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const ranges = value.split(',').map((s) => s.trim()).filter(Boolean);
  const cidr = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;
  const bad = ranges.find((r) => !cidr.test(r) && !['loopback', 'linklocal', 'uniquelocal'].includes(r));
  if (bad) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not an address or CIDR range; use true, false, a hop count or a comma list of ranges` });
    return false;
  }
  return ranges;
}

/** Captcha kinds: the built-in image, Cloudflare Turnstile, hCaptcha, or none. */
export const CAPTCHA_KINDS = ['image', 'turnstile', 'hcaptcha', 'off'] as const;
export type CaptchaKind = (typeof CAPTCHA_KINDS)[number];

/** `SMS_ALLOWED_COUNTRIES`: a comma list of two-letter regions, or `*` for every region. */
function parseCountries(raw: string, ctx: z.RefinementCtx): readonly string[] | '*' {
  const value = raw.trim();
  if (value === '*') return '*';
  const regions = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = regions.find((r) => !/^[A-Z]{2}$/.test(r));
  if (bad || regions.length === 0) {
    ctx.addIssue({ code: 'custom', message: `"${bad ?? ''}" is not a two-letter region; use a comma list such as CN,HK or * for all` });
    return [];
  }
  return Object.freeze(regions);
}

/** `TEST_PHONE_NUMBERS`: "+8613800000000:123456,+8613800000001:654321" (E.164 number, colon, fixed code). */
function parseTestNumbers(raw: string, ctx: z.RefinementCtx): ReadonlyMap<string, string> {
  const numbers = new Map<string, string>();
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\+[1-9]\d{6,14}):(\d{4,10})$/.exec(entry);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${entry.replace(/:.*/, ':…')}" must look like +8613800000000:123456 (E.164 number, colon, 4 to 10 digits)` });
      continue;
    }
    numbers.set(match[1]!, match[2]!);
  }
  return numbers;
}

const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true');

/**
 * Every environment variable the service reads. Documented in README.md's configuration
 * table and `.env.example`; a test keeps the three in step.
 */
const envSchema = z.object({
  /** @default "development" */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** TCP port to listen on. @default 3000 */
  PORT: int(0, 65535, 3000),
  /** Address to bind. @default "0.0.0.0" */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Where accounts and (without Redis) codes live. @default "sqlite:./data/sms-verify.db" */
  DATABASE_URL: z
    .string()
    .regex(/^sqlite:.+/, { error: 'must look like sqlite:./data/sms-verify.db' })
    .default('sqlite:./data/sms-verify.db'),
  /** Which SMS provider delivers codes. @default "console" */
  SMS_PROVIDER: z.enum(['console'], { error: 'must be one of: console' }).default('console'),
  /** Milliseconds a provider call may take before the send fails with sms_send_failed. @default 5000 */
  SMS_PROVIDER_TIMEOUT_MS: int(100, 60_000, 5000),
  /** Console provider only: append one JSON line per message to this file. */
  SMS_OUTBOX_FILE: z.string().min(1).optional(),
  /** Product name shown in the SMS signature 【…】. @default "sms-verify" */
  APP_NAME: z.string().min(1).max(32).default('sms-verify'),
  /** Human check before any SMS is sent. @default "image" */
  CAPTCHA: z.enum(CAPTCHA_KINDS, { error: `must be one of: ${CAPTCHA_KINDS.join(', ')}` }).default('image'),
  /** Key for code, captcha and session hashes. Required in production, at least 32 characters. */
  SECRET: z.string().min(32, { error: 'must be at least 32 characters (try: openssl rand -hex 32)' }).optional(),
  /** Take the client IP from X-Forwarded-For: false, true, a hop count, or proxy ranges. @default false */
  TRUST_PROXY: z.string().default('false').transform(parseTrustProxy),
  // --- abuse protection and account security (issue 6) ---
  /** SMS per phone number (any purpose) per clock hour. @default 5 */
  SMS_PER_PHONE_HOURLY: int(1, 1000, 5),
  /** SMS per phone number (any purpose) per UTC day. @default 10 */
  SMS_PER_PHONE_DAILY: int(1, 10_000, 10),
  /** SMS per client IP per clock hour. @default 20 */
  SMS_PER_IP_HOURLY: int(1, 1_000_000, 20),
  /** SMS per number prefix (country code plus SMS_PREFIX_DIGITS national digits) per clock hour. @default 50 */
  SMS_PER_PREFIX_HOURLY: int(1, 1_000_000, 50),
  /** National digits after the country code that make a prefix (7 = a Chinese HLR block of 10 000 numbers). @default 7 */
  SMS_PREFIX_DIGITS: int(1, 12, 7),
  /** SMS for the whole service per UTC day; 0 for no budget. @default 10000 */
  SMS_DAILY_BUDGET: int(0, 100_000_000, 10_000),
  /** Regions SMS may go to: a comma list of two-letter codes, or * for all. @default "CN" */
  SMS_ALLOWED_COUNTRIES: z.string().default('CN').transform(parseCountries),
  /** Code checks (any route that takes a code) per client IP per clock hour. @default 100 */
  CHECKS_PER_IP_HOURLY: int(1, 1_000_000, 100),
  /** Image captchas per client IP per clock hour. @default 60 */
  CAPTCHAS_PER_IP_HOURLY: int(1, 1_000_000, 60),
  /** Wrong codes per phone and purpose per clock hour, across resends; past it the pair is locked until the hour ends. Also bounds wrong second factors per user. @default 10 */
  FAILED_CHECKS_PER_PHONE_HOURLY: int(1, 1000, 10),
  /** Where limit counters live: sqlite (the database file), memory (this process only) or redis (REDIS_URL, shared). @default "sqlite" */
  RATE_LIMIT_STORE: z.enum(['sqlite', 'memory', 'redis'], { error: 'must be sqlite, memory or redis' }).default('sqlite'),
  /** Prefix of every limit key in Redis, so several deployments (or test runs) can share one Redis. @default "sms-verify" */
  RATE_LIMIT_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1 to 64 letters, digits or _.:-' }).default('sms-verify'),
  /** Redis for RATE_LIMIT_STORE=redis, e.g. redis://127.0.0.1:6379. */
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, { error: 'must look like redis://host:6379' }).optional(),
  /** Turnstile or hCaptcha secret key (server side). Required with CAPTCHA=turnstile or hcaptcha. */
  CAPTCHA_SECRET: z.string().min(1).max(512).optional(),
  /** Turnstile or hCaptcha site key, given to the pages through GET /api/config. Required with CAPTCHA=turnstile or hcaptcha. */
  CAPTCHA_SITE_KEY: z.string().min(1).max(512).optional(),
  /** Override of the siteverify URL (tests, proxies). @default the provider's */
  CAPTCHA_VERIFY_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Milliseconds the siteverify call may take before the send fails with service_unavailable. @default 5000 */
  CAPTCHA_VERIFY_TIMEOUT_MS: int(100, 60_000, 5000),
  /** explicit: send says phone_taken / phone_not_registered; strict: send answers alike for every number. @default "explicit" */
  PRIVACY_MODE: z.enum(['explicit', 'strict'], { error: 'must be explicit or strict' }).default('explicit'),
  /** Numbers with a fixed code that skip the provider and the limits: "+8613800000000:123456,…". */
  TEST_PHONE_NUMBERS: z.string().default('').transform(parseTestNumbers),
  /** Let TEST_PHONE_NUMBERS work when NODE_ENV=production (app-store review). @default false */
  ALLOW_TEST_NUMBERS_IN_PRODUCTION: flag,
  // --- end of issue 6 block ---
  /** pino level. @default "info" */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Default region for numbers written without +country code. @default "CN" */
  DEFAULT_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: 'must be a two-letter region code such as CN' })
    .default('CN'),
  /** Digits per code. @default 6 */
  CODE_LENGTH: int(4, 10, 6),
  /** Seconds a code stays valid. @default 300 */
  CODE_TTL_SECONDS: int(60, 3600, 300),
  /** Seconds before the same phone may get another code for the same purpose. @default 60 */
  RESEND_COOLDOWN_SECONDS: int(0, 3600, 60),
  /** Wrong tries that burn a code. @default 5 */
  MAX_CHECK_ATTEMPTS: int(1, 20, 5),
  /** Session lifetime in seconds. @default 2592000 (30 days) */
  SESSION_TTL_SECONDS: int(300, 31_536_000, 2_592_000),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  /** Filesystem path of the SQLite database, or ':memory:'. */
  readonly sqlitePath: string;
  readonly smsProvider: 'console';
  readonly smsProviderTimeoutMs: number;
  readonly smsOutboxFile: string | undefined;
  readonly appName: string;
  readonly captcha: CaptchaKind;
  /** Undefined means "generate one and keep it in the data folder" (development only). */
  readonly secret: string | undefined;
  readonly trustProxy: TrustProxy;
  readonly logLevel: string;
  readonly defaultRegion: string;
  readonly code: {
    readonly length: number;
    readonly ttlSeconds: number;
    readonly resendCooldownSeconds: number;
    readonly maxAttempts: number;
  };
  readonly sessionTtlSeconds: number;
  readonly limits: LimitSettings;
  readonly rateLimitStore: 'sqlite' | 'memory' | 'redis';
  readonly redisUrl: string | undefined;
  readonly rateLimitKeyPrefix: string;
  /** Turnstile / hCaptcha settings; undefined for image and off. */
  readonly captchaService: { readonly secret: string; readonly siteKey: string; readonly verifyUrl: string | undefined; readonly timeoutMs: number } | undefined;
  readonly privacyMode: 'explicit' | 'strict';
  /** E.164 number → fixed code. Empty unless TEST_PHONE_NUMBERS is set. */
  readonly testPhoneNumbers: ReadonlyMap<string, string>;
}

/** The abuse limits (see docs/security.md). Counts are per fixed window: a clock hour or a UTC day. */
export interface LimitSettings {
  readonly smsPerPhoneHourly: number;
  readonly smsPerPhoneDaily: number;
  readonly smsPerIpHourly: number;
  readonly smsPerPrefixHourly: number;
  readonly prefixDigits: number;
  /** 0 means no budget. */
  readonly smsDailyBudget: number;
  readonly allowedCountries: readonly string[] | '*';
  readonly checksPerIpHourly: number;
  readonly captchasPerIpHourly: number;
  readonly failedChecksPerPhoneHourly: number;
}

/** The names of every variable in the schema, for docs and tests. */
export const ENV_VARS = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates the environment once. Throws a ConfigError naming every bad variable.
 * Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const present: Record<string, string> = {};
  for (const name of ENV_VARS) {
    const value = source[name];
    if (value !== undefined && value !== '') present[name] = value;
  }
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = present[name] === undefined ? '' : ` (got "${present[name]}")`;
      return `  ${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.SECRET) {
    throw new ConfigError(
      'Invalid configuration:\n  SECRET: required when NODE_ENV=production; set it to at least 32 random characters (openssl rand -hex 32)',
    );
  }
  const problems: string[] = [];
  if ((e.CAPTCHA === 'turnstile' || e.CAPTCHA === 'hcaptcha') && !(e.CAPTCHA_SECRET && e.CAPTCHA_SITE_KEY)) {
    if (!e.CAPTCHA_SECRET) problems.push(`  CAPTCHA_SECRET: required when CAPTCHA=${e.CAPTCHA}; copy the secret key from the ${e.CAPTCHA} dashboard`);
    if (!e.CAPTCHA_SITE_KEY) problems.push(`  CAPTCHA_SITE_KEY: required when CAPTCHA=${e.CAPTCHA}; copy the site key from the ${e.CAPTCHA} dashboard`);
  }
  if (e.RATE_LIMIT_STORE === 'redis' && !e.REDIS_URL) {
    problems.push('  REDIS_URL: required when RATE_LIMIT_STORE=redis (e.g. redis://127.0.0.1:6379)');
  }
  if (e.NODE_ENV === 'production' && e.TEST_PHONE_NUMBERS.size > 0 && !e.ALLOW_TEST_NUMBERS_IN_PRODUCTION) {
    problems.push(
      '  TEST_PHONE_NUMBERS: refused when NODE_ENV=production (anyone who knows a test number signs in as it); unset it, or set ALLOW_TEST_NUMBERS_IN_PRODUCTION=true for app-store review',
    );
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  const sqlitePath = e.DATABASE_URL.replace(/^sqlite:(\/\/)?/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    sqlitePath,
    smsProvider: e.SMS_PROVIDER,
    smsProviderTimeoutMs: e.SMS_PROVIDER_TIMEOUT_MS,
    smsOutboxFile: e.SMS_OUTBOX_FILE,
    appName: e.APP_NAME,
    captcha: e.CAPTCHA,
    secret: e.SECRET,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    defaultRegion: e.DEFAULT_REGION,
    code: Object.freeze({
      length: e.CODE_LENGTH,
      ttlSeconds: e.CODE_TTL_SECONDS,
      resendCooldownSeconds: e.RESEND_COOLDOWN_SECONDS,
      maxAttempts: e.MAX_CHECK_ATTEMPTS,
    }),
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    limits: Object.freeze({
      smsPerPhoneHourly: e.SMS_PER_PHONE_HOURLY,
      smsPerPhoneDaily: e.SMS_PER_PHONE_DAILY,
      smsPerIpHourly: e.SMS_PER_IP_HOURLY,
      smsPerPrefixHourly: e.SMS_PER_PREFIX_HOURLY,
      prefixDigits: e.SMS_PREFIX_DIGITS,
      smsDailyBudget: e.SMS_DAILY_BUDGET,
      allowedCountries: e.SMS_ALLOWED_COUNTRIES,
      checksPerIpHourly: e.CHECKS_PER_IP_HOURLY,
      captchasPerIpHourly: e.CAPTCHAS_PER_IP_HOURLY,
      failedChecksPerPhoneHourly: e.FAILED_CHECKS_PER_PHONE_HOURLY,
    }),
    rateLimitStore: e.RATE_LIMIT_STORE,
    redisUrl: e.REDIS_URL,
    rateLimitKeyPrefix: e.RATE_LIMIT_KEY_PREFIX,
    captchaService:
      (e.CAPTCHA === 'turnstile' || e.CAPTCHA === 'hcaptcha') && e.CAPTCHA_SECRET && e.CAPTCHA_SITE_KEY
        ? Object.freeze({ secret: e.CAPTCHA_SECRET, siteKey: e.CAPTCHA_SITE_KEY, verifyUrl: e.CAPTCHA_VERIFY_URL, timeoutMs: e.CAPTCHA_VERIFY_TIMEOUT_MS })
        : undefined,
    privacyMode: e.PRIVACY_MODE,
    testPhoneNumbers: e.TEST_PHONE_NUMBERS,
  });
}
