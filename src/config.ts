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
  /**
   * Where accounts and (without Redis) codes live: a SQLite file or a PostgreSQL server.
   * @default "sqlite:./data/sms-verify.db"
   */
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)/, {
      error: 'must look like sqlite:./data/sms-verify.db or postgres://user:password@host:5432/database',
    })
    .default('sqlite:./data/sms-verify.db'),
  /** PostgreSQL only: connections each instance may hold. @default 10 */
  DATABASE_POOL_MAX: int(1, 1000, 10),
  /** PostgreSQL only: milliseconds to connect or to run one statement before the request fails with 503. @default 2000 */
  DATABASE_TIMEOUT_MS: int(100, 60_000, 2000),
  /** Keep codes, cooldowns and captchas in this Redis (redis:// or rediss://) instead of the database. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, { error: 'must look like redis://host:6379 or rediss://user:password@host:6380/0' })
    .optional(),
  /** Redis Cluster: comma list of host:port seed nodes; starts a cluster client instead of REDIS_URL's. */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((raw, ctx) => {
      const nodes = raw.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = nodes.find((n) => !/^[^\s:/]+:\d{1,5}$/.test(n));
      if (bad || nodes.length === 0) {
        ctx.addIssue({ code: 'custom', message: `"${bad ?? raw}" is not host:port; use a comma list such as 10.0.0.1:6379,10.0.0.2:6379` });
      }
      return nodes;
    })
    .optional(),
  /** Prefix of every Redis key, so several services (or test runs) can share one Redis. @default "sms-verify:" */
  REDIS_KEY_PREFIX: z.string().max(64).default('sms-verify:'),
  /** Milliseconds to connect to Redis or to get one reply before the request fails with 503. @default 1000 */
  REDIS_TIMEOUT_MS: int(50, 60_000, 1000),
  /** Log one line per request and response; off saves about 15–20% of the CPU per request (docs/benchmarks.md). @default true */
  LOG_REQUESTS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true'),
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
  /** Filesystem path of the SQLite database, or ':memory:'; undefined on PostgreSQL. */
  readonly sqlitePath: string | undefined;
  /** Set when DATABASE_URL is postgres:// or postgresql://. */
  readonly postgres: PostgresConfig | undefined;
  /** Set when REDIS_URL or REDIS_CLUSTER_NODES is: codes and captchas then live in Redis. */
  readonly redis: RedisConfig | undefined;
  readonly logRequests: boolean;
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

export interface PostgresConfig {
  readonly url: string;
  readonly poolMax: number;
  /** Bounds connecting and each statement, so a sick database answers 503 instead of hanging requests. */
  readonly timeoutMs: number;
}

export interface RedisConfig {
  /** Exactly one of url and clusterNodes is set. */
  readonly url: string | undefined;
  readonly clusterNodes: readonly string[] | undefined;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
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
      // A URL's password stays out of the message: it ends up in process managers' logs.
      const got = present[name] === undefined ? '' : ` (got "${present[name].replace(/\/\/[^@/]*@/, '//***@')}")`;
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
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError('Invalid configuration:\n  REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES, not both');
  }
  const isPostgres = /^postgres(ql)?:/.test(e.DATABASE_URL);
  const sqlitePath = isPostgres ? undefined : e.DATABASE_URL.replace(/^sqlite:(\/\/)?/, '');
  const postgres = isPostgres
    ? Object.freeze({ url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, timeoutMs: e.DATABASE_TIMEOUT_MS })
    : undefined;
  const redis =
    e.REDIS_URL || e.REDIS_CLUSTER_NODES
      ? Object.freeze({
          url: e.REDIS_URL,
          clusterNodes: e.REDIS_CLUSTER_NODES && Object.freeze(e.REDIS_CLUSTER_NODES),
          keyPrefix: e.REDIS_KEY_PREFIX,
          timeoutMs: e.REDIS_TIMEOUT_MS,
        })
      : undefined;
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    sqlitePath,
    postgres,
    redis,
    logRequests: e.LOG_REQUESTS === 'true',
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
