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
  CAPTCHA: z.enum(['image', 'off'], { error: 'must be image or off' }).default('image'),
  /** Key for code, captcha and session hashes. Required in production, at least 32 characters. */
  SECRET: z.string().min(32, { error: 'must be at least 32 characters (try: openssl rand -hex 32)' }).optional(),
  /** Take the client IP from X-Forwarded-For: false, true, a hop count, or proxy ranges. @default false */
  TRUST_PROXY: z.string().default('false').transform(parseTrustProxy),
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
  readonly captcha: 'image' | 'off';
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
  });
}
