import { isIP } from 'node:net';
import { z } from 'zod';
import type { FraudGuardSettings as DomainFraudGuardSettings } from './domain/fraud-guard.js';
import { missingGeetestSettings } from './captcha/geetest-captcha.js';
import { missingTencentCaptchaSettings } from './captcha/tencent-captcha.js';
import { regionsOfRoute, smsRoutesSetting, type SmsRoute } from './sms/routes.js';
import { tencentIntlSettings } from './sms/tencent.js';

import { CAPTCHA_KINDS, PURPOSES, type CaptchaKind, type Purpose } from './domain/purposes.js';

export { CAPTCHA_KINDS, PURPOSES, type CaptchaKind, type Purpose };

/** SMS providers SMS_PROVIDER may name, in the order they are tried. */
export const SMS_PROVIDER_NAMES = ['console', 'tencent', 'aliyun', 'twilio'] as const;
export type SmsProviderName = (typeof SMS_PROVIDER_NAMES)[number];

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

function parseProviderList(raw: string, ctx: z.RefinementCtx): SmsProviderName[] {
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.find((n) => !(SMS_PROVIDER_NAMES as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0) {
    ctx.addIssue({ code: 'custom', message: `must be a comma list of: ${SMS_PROVIDER_NAMES.join(', ')}` });
    return [];
  }
  if (new Set(names).size !== names.length) {
    ctx.addIssue({ code: 'custom', message: 'names a provider twice' });
    return [];
  }
  return names as SmsProviderName[];
}

/** An address range delivery reports may come from. */
export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

function parseIpRanges(raw: string | undefined, ctx: z.RefinementCtx): IpRange[] {
  const ranges: IpRange[] = [];
  for (const item of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [address = '', prefixText] = item.split('/');
    const version = isIP(address);
    const max = version === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (version === 0 || !(prefix >= 0 && prefix <= max)) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an address or CIDR range; use a comma list such as 203.0.113.0/24,198.51.100.7` });
      return [];
    }
    ranges.push({ address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' });
  }
  return ranges;
}

/** A comma list of http(s) URLs (webhook receivers). */
function parseUrlList(value: string | undefined, ctx: z.RefinementCtx): readonly string[] {
  const urls = (value ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  for (const url of urls) {
    if (!/^https?:\/\/[^\s]+$/.test(url) || !URL.canParse(url)) ctx.addIssue({ code: 'custom', message: `"${url}" is not an http(s) URL` });
  }
  return Object.freeze(urls);
}

/** A comma list of exact origins (scheme://host[:port], no path), as browsers send them in Origin. */
function parseOrigins(value: string | undefined, ctx: z.RefinementCtx): readonly string[] {
  const origins = (value ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    const parsed = URL.canParse(origin) ? new URL(origin) : undefined;
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      ctx.addIssue({ code: 'custom', message: `"${origin}" is not an exact origin such as https://app.example.com (no path, no trailing slash)` });
    }
  }
  return Object.freeze(origins);
}

/** An http(s) URL with no query or fragment; tests point these at fakes on 127.0.0.1. */
const httpUrl = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash;
        } catch {
          return false;
        }
      },
      { error: `must be an http(s) URL such as ${fallback}` },
    )
    .transform((value) => value.replace(/\/+$/, ''));

/** The kinds whose answer a vendor verifies (CAPTCHA_SECRET, CAPTCHA_SITE_KEY, CAPTCHA_VERIFY_URL apply). */
const VENDOR_CAPTCHAS: readonly CaptchaKind[] = ['turnstile', 'hcaptcha', 'tencent', 'geetest'];

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

/** `FRAUD_GUARD_SAFE_PREFIXES`: "+86 1391234,+852" — E.164 prefixes, spaces ignored. */
function parseSafePrefixes(raw: string, ctx: z.RefinementCtx): readonly string[] {
  const prefixes = raw.split(',').map((s) => s.replace(/\s+/g, '')).filter(Boolean);
  const bad = prefixes.find((p) => !/^\+[1-9]\d{0,14}$/.test(p));
  if (bad) ctx.addIssue({ code: 'custom', message: `"${bad}" is not an E.164 prefix; write it like +86 1391234 or +852` });
  return Object.freeze(prefixes);
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
  /** Milliseconds a client has to send a request's headers, and as many more for its body; a slower one is cut off with request_timeout. @default 30000 */
  REQUEST_TIMEOUT_MS: int(1000, 600_000, 30_000),
  /** Which SMS providers deliver codes, tried in order: a comma list of console, tencent, aliyun, twilio. @default "console" */
  SMS_PROVIDER: z.string().default('console').transform(parseProviderList),
  /** Providers per destination region, e.g. CN=tencent,aliyun;*=twilio (`*` for every other region); replaces SMS_PROVIDER when set. */
  SMS_ROUTES: smsRoutesSetting(SMS_PROVIDER_NAMES),
  /** Milliseconds a provider call may take before the send fails with sms_send_failed. @default 5000 */
  SMS_PROVIDER_TIMEOUT_MS: int(100, 60_000, 5000),
  /** Console provider only: append one JSON line per message to this file. */
  SMS_OUTBOX_FILE: z.string().min(1).optional(),
  // ── SMS providers (issue 3): one block, so other branches merge around it ──
  /** Tencent Cloud API key id (CAM). Required when SMS_PROVIDER includes tencent. */
  TENCENTCLOUD_SECRET_ID: z.string().min(1).optional(),
  /** Tencent Cloud API key secret. Required when SMS_PROVIDER includes tencent. */
  TENCENTCLOUD_SECRET_KEY: z.string().min(1).optional(),
  /** Tencent SMS application id (SmsSdkAppId, e.g. 1400006666). Required for tencent. */
  TENCENT_SMS_SDK_APP_ID: z.string().regex(/^\d+$/, { error: 'must be the numeric SdkAppId, e.g. 1400006666' }).optional(),
  /** Approved signature content (SignName), without 【】. Required for tencent in mainland China. */
  TENCENT_SMS_SIGN_NAME: z.string().min(1).optional(),
  /** Approved template id used for every purpose without its own. Required for tencent. */
  TENCENT_SMS_TEMPLATE_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric template id' }).optional(),
  /** Template id for register codes (overrides TENCENT_SMS_TEMPLATE_ID). */
  TENCENT_SMS_TEMPLATE_ID_REGISTER: z.string().regex(/^\d+$/, { error: 'must be a numeric template id' }).optional(),
  /** Template id for login codes. */
  TENCENT_SMS_TEMPLATE_ID_LOGIN: z.string().regex(/^\d+$/, { error: 'must be a numeric template id' }).optional(),
  /** Template id for password reset codes. */
  TENCENT_SMS_TEMPLATE_ID_RESET_PASSWORD: z.string().regex(/^\d+$/, { error: 'must be a numeric template id' }).optional(),
  /** Template id for change-phone codes. */
  TENCENT_SMS_TEMPLATE_ID_CHANGE_PHONE: z.string().regex(/^\d+$/, { error: 'must be a numeric template id' }).optional(),
  ...tencentIntlSettings,
  /** Region sent as X-TC-Region. @default "ap-guangzhou" */
  TENCENT_SMS_REGION: z.string().regex(/^[a-z]+-[a-z]+(-\d+)?$/, { error: 'must be a region such as ap-guangzhou' }).default('ap-guangzhou'),
  /** SendSms endpoint. @default "https://sms.tencentcloudapi.com" */
  TENCENT_SMS_ENDPOINT: httpUrl('https://sms.tencentcloudapi.com'),
  /** Alibaba Cloud AccessKey id (RAM user). Required when SMS_PROVIDER includes aliyun. */
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().min(1).optional(),
  /** Alibaba Cloud AccessKey secret. Required when SMS_PROVIDER includes aliyun. */
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  /** Approved Aliyun signature name. Required for aliyun. */
  ALIYUN_SMS_SIGN_NAME: z.string().min(1).optional(),
  /** Approved template code (SMS_123456789) for every purpose without its own. Required for aliyun. */
  ALIYUN_SMS_TEMPLATE_CODE: z.string().regex(/^SMS_\d+$/, { error: 'must look like SMS_123456789' }).optional(),
  /** Template code for register codes (overrides ALIYUN_SMS_TEMPLATE_CODE). */
  ALIYUN_SMS_TEMPLATE_CODE_REGISTER: z.string().regex(/^SMS_\d+$/, { error: 'must look like SMS_123456789' }).optional(),
  /** Template code for login codes. */
  ALIYUN_SMS_TEMPLATE_CODE_LOGIN: z.string().regex(/^SMS_\d+$/, { error: 'must look like SMS_123456789' }).optional(),
  /** Template code for password reset codes. */
  ALIYUN_SMS_TEMPLATE_CODE_RESET_PASSWORD: z.string().regex(/^SMS_\d+$/, { error: 'must look like SMS_123456789' }).optional(),
  /** Template code for change-phone codes. */
  ALIYUN_SMS_TEMPLATE_CODE_CHANGE_PHONE: z.string().regex(/^SMS_\d+$/, { error: 'must look like SMS_123456789' }).optional(),
  /** Dysmsapi endpoint. @default "https://dysmsapi.aliyuncs.com" */
  ALIYUN_SMS_ENDPOINT: httpUrl('https://dysmsapi.aliyuncs.com'),
  /** Twilio Account SID (AC…). Required when SMS_PROVIDER includes twilio. */
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, { error: 'must be an Account SID: AC followed by 32 hex digits' }).optional(),
  /** Twilio auth token. Required for twilio. */
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  /** Sender number in E.164 (or alphanumeric sender id). Twilio needs this or TWILIO_MESSAGING_SERVICE_SID. */
  TWILIO_FROM: z.string().min(1).optional(),
  /** Messaging Service SID (MG…), used instead of TWILIO_FROM when set. */
  TWILIO_MESSAGING_SERVICE_SID: z.string().regex(/^MG[0-9a-fA-F]{32}$/, { error: 'must be a Messaging Service SID: MG followed by 32 hex digits' }).optional(),
  /** Twilio REST API base. @default "https://api.twilio.com" */
  TWILIO_API_BASE: httpUrl('https://api.twilio.com'),
  /** Consecutive provider failures that open its circuit (it is then skipped). @default 5 */
  SMS_CIRCUIT_FAILURES: int(1, 100, 5),
  /** Seconds an open circuit waits before one probe send. @default 30 */
  SMS_CIRCUIT_HALF_OPEN_SECONDS: int(1, 3600, 30),
  /** Secret path segment of the delivery-report callbacks; unset turns the callbacks off. At least 24 characters. */
  SMS_CALLBACK_TOKEN: z.string().min(24, { error: 'must be at least 24 characters (try: openssl rand -hex 24)' }).regex(/^[A-Za-z0-9_-]+$/, { error: 'may use only letters, digits, - and _ (it is part of a URL path)' }).optional(),
  /** Comma list of addresses/CIDR ranges allowed to post delivery reports; unset allows any source. */
  SMS_CALLBACK_ALLOWED_IPS: z.string().optional().transform(parseIpRanges),
  // ── end of SMS providers ──
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
  /** Wrong image or widget captcha answers per client IP per clock hour; past it that IP's sends are refused at once until the hour ends. @default 30 */
  CAPTCHA_FAILURES_PER_IP_HOURLY: int(1, 1_000_000, 30),
  /** Leading bits of an IPv6 address that per-IP limits count as one client (a home line usually gets a /56). @default 56 */
  IPV6_LIMIT_PREFIX: int(48, 64, 56),
  /** Wrong codes per phone and purpose per clock hour, across resends; past it the pair is locked until the hour ends. Also bounds wrong second factors per user. @default 10 */
  FAILED_CHECKS_PER_PHONE_HOURLY: int(1, 1000, 10),
  /** Wrong passwords at sign-in per client IP per clock hour; past it password sign-in from that IP waits. @default 30 */
  FAILED_LOGINS_PER_IP_HOURLY: int(1, 1_000_000, 30),
  /** Wrong passwords at sign-in per number per clock hour; past it password sign-in for that number waits (SMS sign-in still works). @default 10 */
  FAILED_LOGINS_PER_PHONE_HOURLY: int(1, 1000, 10),
  /**
   * Where limit counters live. auto: Redis when it is configured, else the database (SQLite or
   * PostgreSQL), so every instance that shares the state shares the counts too. memory: this
   * process only. @default "auto"
   */
  RATE_LIMIT_STORE: z
    .enum(['auto', 'sqlite', 'postgres', 'redis', 'memory'], { error: 'must be auto, sqlite, postgres, redis or memory' })
    .default('auto'),
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
  // --- operations: fraud guard, metrics, retention (issue 14) ---
  /** SMS-pumping guard by conversion: off, monitor (log, audit and metric only) or block. @default "block" */
  FRAUD_GUARD: z.enum(['off', 'monitor', 'block'], { error: 'must be off, monitor or block' }).default('block'),
  /** Sends a prefix needs in a window (hour or day) before its conversion is judged; a country needs ten times as many. @default 20 */
  FRAUD_GUARD_MIN_SENDS: int(1, 1_000_000, 20),
  /** Verified codes per sent code below which a prefix (or country) is blocked, from 0 to 1. @default 0.2 */
  FRAUD_GUARD_MIN_CONVERSION: z.coerce
    .number({ error: 'must be a number from 0 to 1' })
    .min(0, { error: 'must be at least 0' })
    .max(1, { error: 'must be at most 1' })
    .default(0.2),
  /** Hours a prefix or country stays blocked. @default 12 */
  FRAUD_GUARD_BLOCK_HOURS: int(1, 24 * 30, 12),
  /** Comma list of E.164 prefixes the guard never counts or blocks, e.g. "+86 1391234,+852". */
  FRAUD_GUARD_SAFE_PREFIXES: z.string().default('').transform(parseSafePrefixes),
  /** Bearer token that opens GET /metrics on the main port; unset, the main port answers 404 there. */
  METRICS_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).max(512).optional(),
  /** Port of a separate listener that serves only GET /metrics, without a token; unset for none. */
  METRICS_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535).optional(),
  /** Address the metrics listener binds. @default "127.0.0.1" */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Days audit events are kept; older ones are deleted by the background sweep. @default 180 */
  AUDIT_RETENTION_DAYS: int(1, 36_500, 180),
  /** Days SMS message log rows are kept. @default 90 */
  SMS_LOG_RETENTION_DAYS: int(1, 36_500, 90),
  // --- end of issue 14 block ---
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
  // --- tokens, webhooks and cross-origin use (issue 13) ---
  /** This service's public base URL: the `iss` of access tokens. @default "http://localhost:3000" */
  PUBLIC_URL: httpUrl('http://localhost:3000'),
  /** The `aud` of access tokens; backends check it. @default "sms-verify" */
  JWT_AUDIENCE: z.string().min(1).max(256).default('sms-verify'),
  /** Algorithm of newly generated signing keys: ES256 or EdDSA (Ed25519). @default "ES256" */
  JWT_ALGORITHM: z.enum(['ES256', 'EdDSA'], { error: 'must be ES256 or EdDSA' }).default('ES256'),
  /** Access token lifetime in seconds. @default 900 */
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400, 900),
  /** Comma list of URLs that receive signed webhook events; unset sends none. */
  WEBHOOK_URL: z.string().optional().transform(parseUrlList),
  /** Standard Webhooks signing secret, whsec_ followed by base64 (at least 24 bytes). Required with WEBHOOK_URL. */
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, { error: 'must be whsec_ followed by at least 24 bytes of base64 (try: echo whsec_$(openssl rand -base64 32))' })
    .optional(),
  /** Milliseconds a webhook receiver may take to answer before the attempt counts as failed. @default 5000 */
  WEBHOOK_TIMEOUT_MS: int(100, 60_000, 5000),
  /** Comma list of exact origins allowed to call the API from a browser, with credentials; unset allows none. */
  CORS_ORIGINS: z.string().optional().transform(parseOrigins),
  /** Domain attribute of the session cookie (e.g. example.com, shared with its subdomains); unset: host-only. */
  SESSION_COOKIE_DOMAIN: z
    .string()
    .regex(/^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, { error: 'must be a domain name such as example.com' })
    .optional(),
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
  /** Headers must arrive within this many milliseconds, and the body within as many more. */
  readonly requestTimeoutMs: number;
  /** Providers in the order they are tried; the first that accepts the message wins. */
  readonly smsProvider: readonly SmsProviderName[];
  /** SMS_ROUTES: providers per destination region; undefined sends every region through smsProvider. */
  readonly smsRoutes: readonly SmsRoute[] | undefined;
  readonly smsProviderTimeoutMs: number;
  readonly smsOutboxFile: string | undefined;
  /** Tencent Cloud SMS settings; checked at start when smsProvider includes tencent. */
  readonly tencent: {
    readonly secretId: string | undefined;
    readonly secretKey: string | undefined;
    readonly sdkAppId: string | undefined;
    readonly signName: string | undefined;
    readonly templateId: string | undefined;
    readonly templateIds: Readonly<Partial<Record<Purpose, string>>>;
    readonly intlSignName: string | undefined;
    readonly intlTemplateId: string | undefined;
    readonly region: string;
    readonly endpoint: string;
  };
  /** Aliyun SMS (Dysmsapi) settings; checked at start when smsProvider includes aliyun. */
  readonly aliyun: {
    readonly accessKeyId: string | undefined;
    readonly accessKeySecret: string | undefined;
    readonly signName: string | undefined;
    readonly templateCode: string | undefined;
    readonly templateCodes: Readonly<Partial<Record<Purpose, string>>>;
    readonly endpoint: string;
  };
  /** Twilio settings; checked at start when smsProvider includes twilio. */
  readonly twilio: {
    readonly accountSid: string | undefined;
    readonly authToken: string | undefined;
    readonly from: string | undefined;
    readonly messagingServiceSid: string | undefined;
    readonly apiBase: string;
  };
  /** Per-provider circuit breaker. */
  readonly smsCircuit: { readonly failures: number; readonly halfOpenAfterMs: number };
  /** Delivery-report callbacks: off while token is undefined; any source when allowedIps is empty. */
  readonly smsCallback: { readonly token: string | undefined; readonly allowedIps: readonly IpRange[] };
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
  /** Where limit counters live, RATE_LIMIT_STORE with auto resolved. */
  readonly rateLimitStore: 'sqlite' | 'postgres' | 'redis' | 'memory';
  /** Turnstile / hCaptcha / Tencent / GeeTest settings; undefined for image and off. */
  readonly captchaService: { readonly secret: string; readonly siteKey: string; readonly verifyUrl: string | undefined; readonly timeoutMs: number } | undefined;
  readonly privacyMode: 'explicit' | 'strict';
  /** E.164 number → fixed code. Empty unless TEST_PHONE_NUMBERS is set. */
  readonly testPhoneNumbers: ReadonlyMap<string, string>;
  /** Access tokens (JWT) and their signing keys. */
  readonly tokens: {
    readonly issuer: string;
    readonly audience: string;
    readonly algorithm: 'ES256' | 'EdDSA';
    readonly accessTokenTtlSeconds: number;
  };
  /** Webhook delivery; no receivers when urls is empty. */
  readonly webhooks: { readonly urls: readonly string[]; readonly secret: string | undefined; readonly timeoutMs: number };
  /** Origins allowed to call the API from a browser, with credentials. */
  readonly corsOrigins: readonly string[];
  readonly sessionCookieDomain: string | undefined;
  readonly fraudGuard: FraudGuardSettings;
  /** GET /metrics: with a Bearer token on the main port, and/or on its own listener. */
  readonly metrics: { readonly token: string | undefined; readonly port: number | undefined; readonly host: string };
  readonly retention: { readonly auditDays: number; readonly smsLogDays: number };
}

/** The SMS-pumping guard's settings from the environment (docs/security.md). */
export type FraudGuardSettings = Omit<DomainFraudGuardSettings, 'prefixDigits' | 'exemptNumbers'>;

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
  readonly captchaFailuresPerIpHourly: number;
  /** An IPv6 client is counted by this many leading bits of its address (48 to 64). */
  readonly ipv6LimitPrefix: number;
  readonly failedChecksPerPhoneHourly: number;
  readonly failedLoginsPerIpHourly: number;
  readonly failedLoginsPerPhoneHourly: number;
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

/** Credentials whose bad values a start-up error must not print (stderr ends up in log collectors). */
// By name, so a credential added later is covered without anyone remembering this list.
const isCredential = (name: string) => /SECRET|TOKEN|PASSWORD/.test(name);

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
      // Neither a credential nor a URL's password belongs in the message: it ends up in process managers' logs.
      const got =
        present[name] === undefined || isCredential(name) ? '' : ` (got "${present[name].replace(/\/\/[^@/]*@/, '//***@')}")`;
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
  const problems: string[] = missingProviderSettings(e).map((line) => `  ${line}`);
  if ((e.CAPTCHA === 'turnstile' || e.CAPTCHA === 'hcaptcha') && !(e.CAPTCHA_SECRET && e.CAPTCHA_SITE_KEY)) {
    if (!e.CAPTCHA_SECRET) problems.push(`  CAPTCHA_SECRET: required when CAPTCHA=${e.CAPTCHA}; copy the secret key from the ${e.CAPTCHA} dashboard`);
    if (!e.CAPTCHA_SITE_KEY) problems.push(`  CAPTCHA_SITE_KEY: required when CAPTCHA=${e.CAPTCHA}; copy the site key from the ${e.CAPTCHA} dashboard`);
  }
  if (e.CAPTCHA === 'tencent') problems.push(...missingTencentCaptchaSettings(e).map((line) => `  ${line}`));
  if (e.CAPTCHA === 'geetest') problems.push(...missingGeetestSettings(e).map((line) => `  ${line}`));
  const isPostgres = /^postgres(ql)?:/.test(e.DATABASE_URL);
  const hasRedis = Boolean(e.REDIS_URL || e.REDIS_CLUSTER_NODES);
  if (e.RATE_LIMIT_STORE === 'redis' && !hasRedis) {
    problems.push('  RATE_LIMIT_STORE: redis needs REDIS_URL or REDIS_CLUSTER_NODES (e.g. REDIS_URL=redis://127.0.0.1:6379)');
  }
  if (e.RATE_LIMIT_STORE === 'postgres' && !isPostgres) {
    problems.push('  RATE_LIMIT_STORE: postgres needs DATABASE_URL=postgres://…');
  }
  if (e.RATE_LIMIT_STORE === 'sqlite' && isPostgres) {
    problems.push('  RATE_LIMIT_STORE: sqlite needs DATABASE_URL=sqlite:…; leave it unset (auto) to count in PostgreSQL or Redis');
  }
  if (e.WEBHOOK_URL.length > 0 && !e.WEBHOOK_SECRET) {
    problems.push('  WEBHOOK_SECRET: required when WEBHOOK_URL is set (try: echo whsec_$(openssl rand -base64 32))');
  }
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    problems.push('  REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES, not both');
  }
  if (e.NODE_ENV === 'production' && e.TEST_PHONE_NUMBERS.size > 0 && !e.ALLOW_TEST_NUMBERS_IN_PRODUCTION) {
    problems.push(
      '  TEST_PHONE_NUMBERS: refused when NODE_ENV=production (anyone who knows a test number signs in as it); unset it, or set ALLOW_TEST_NUMBERS_IN_PRODUCTION=true for app-store review',
    );
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
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
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    smsProvider: e.SMS_PROVIDER,
    smsRoutes: e.SMS_ROUTES,
    smsProviderTimeoutMs: e.SMS_PROVIDER_TIMEOUT_MS,
    smsOutboxFile: e.SMS_OUTBOX_FILE,
    tencent: Object.freeze({
      secretId: e.TENCENTCLOUD_SECRET_ID,
      secretKey: e.TENCENTCLOUD_SECRET_KEY,
      sdkAppId: e.TENCENT_SMS_SDK_APP_ID,
      signName: e.TENCENT_SMS_SIGN_NAME,
      templateId: e.TENCENT_SMS_TEMPLATE_ID,
      templateIds: perPurpose({
        register: e.TENCENT_SMS_TEMPLATE_ID_REGISTER,
        login: e.TENCENT_SMS_TEMPLATE_ID_LOGIN,
        reset_password: e.TENCENT_SMS_TEMPLATE_ID_RESET_PASSWORD,
        change_phone: e.TENCENT_SMS_TEMPLATE_ID_CHANGE_PHONE,
      }),
      intlSignName: e.TENCENT_SMS_INTL_SIGN_NAME,
      intlTemplateId: e.TENCENT_SMS_INTL_TEMPLATE_ID,
      region: e.TENCENT_SMS_REGION,
      endpoint: e.TENCENT_SMS_ENDPOINT,
    }),
    aliyun: Object.freeze({
      accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID,
      accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      signName: e.ALIYUN_SMS_SIGN_NAME,
      templateCode: e.ALIYUN_SMS_TEMPLATE_CODE,
      templateCodes: perPurpose({
        register: e.ALIYUN_SMS_TEMPLATE_CODE_REGISTER,
        login: e.ALIYUN_SMS_TEMPLATE_CODE_LOGIN,
        reset_password: e.ALIYUN_SMS_TEMPLATE_CODE_RESET_PASSWORD,
        change_phone: e.ALIYUN_SMS_TEMPLATE_CODE_CHANGE_PHONE,
      }),
      endpoint: e.ALIYUN_SMS_ENDPOINT,
    }),
    twilio: Object.freeze({
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      from: e.TWILIO_FROM,
      messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
      apiBase: e.TWILIO_API_BASE,
    }),
    smsCircuit: Object.freeze({ failures: e.SMS_CIRCUIT_FAILURES, halfOpenAfterMs: e.SMS_CIRCUIT_HALF_OPEN_SECONDS * 1000 }),
    smsCallback: Object.freeze({ token: e.SMS_CALLBACK_TOKEN, allowedIps: Object.freeze(e.SMS_CALLBACK_ALLOWED_IPS) }),
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
      captchaFailuresPerIpHourly: e.CAPTCHA_FAILURES_PER_IP_HOURLY,
      ipv6LimitPrefix: e.IPV6_LIMIT_PREFIX,
      failedChecksPerPhoneHourly: e.FAILED_CHECKS_PER_PHONE_HOURLY,
      failedLoginsPerIpHourly: e.FAILED_LOGINS_PER_IP_HOURLY,
      failedLoginsPerPhoneHourly: e.FAILED_LOGINS_PER_PHONE_HOURLY,
    }),
    rateLimitStore:
      e.RATE_LIMIT_STORE !== 'auto' ? e.RATE_LIMIT_STORE : redis ? 'redis' : postgres ? 'postgres' : 'sqlite',
    captchaService:
      VENDOR_CAPTCHAS.includes(e.CAPTCHA) && e.CAPTCHA_SECRET && e.CAPTCHA_SITE_KEY
        ? Object.freeze({ secret: e.CAPTCHA_SECRET, siteKey: e.CAPTCHA_SITE_KEY, verifyUrl: e.CAPTCHA_VERIFY_URL, timeoutMs: e.CAPTCHA_VERIFY_TIMEOUT_MS })
        : undefined,
    privacyMode: e.PRIVACY_MODE,
    testPhoneNumbers: e.TEST_PHONE_NUMBERS,
    tokens: Object.freeze({
      issuer: e.PUBLIC_URL,
      audience: e.JWT_AUDIENCE,
      algorithm: e.JWT_ALGORITHM,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    }),
    webhooks: Object.freeze({ urls: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET, timeoutMs: e.WEBHOOK_TIMEOUT_MS }),
    corsOrigins: e.CORS_ORIGINS,
    sessionCookieDomain: e.SESSION_COOKIE_DOMAIN,
    fraudGuard: Object.freeze({
      mode: e.FRAUD_GUARD,
      minSends: e.FRAUD_GUARD_MIN_SENDS,
      minConversion: e.FRAUD_GUARD_MIN_CONVERSION,
      blockHours: e.FRAUD_GUARD_BLOCK_HOURS,
      safePrefixes: e.FRAUD_GUARD_SAFE_PREFIXES,
    }),
    metrics: Object.freeze({ token: e.METRICS_TOKEN, port: e.METRICS_PORT, host: e.METRICS_HOST }),
    retention: Object.freeze({ auditDays: e.AUDIT_RETENTION_DAYS, smsLogDays: e.SMS_LOG_RETENTION_DAYS }),
  });
}

function perPurpose(values: Record<Purpose, string | undefined>): Readonly<Partial<Record<Purpose, string>>> {
  return Object.freeze(Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)));
}

type ParsedEnv = z.output<typeof envSchema>;

/**
 * Settings a selected provider cannot work without, as "NAME: why" lines. A template per purpose
 * may replace the default template, so the default is required only when some purpose lacks one.
 */
function missingProviderSettings(e: ParsedEnv): string[] {
  const lines: string[] = [];
  const selector = e.SMS_ROUTES ? 'SMS_ROUTES' : 'SMS_PROVIDER';
  const used = new Set(e.SMS_ROUTES ? e.SMS_ROUTES.flatMap((r) => r.providers) : e.SMS_PROVIDER);
  const need = (provider: SmsProviderName, name: keyof ParsedEnv) => {
    if (e[name] === undefined) lines.push(`${name}: required when ${selector} includes ${provider}`);
  };
  // A route that sends numbers outside mainland China through Tencent needs its international template.
  const intlRoute = e.SMS_ROUTES?.find((route) => {
    if (!route.providers.includes('tencent')) return false;
    const regions = regionsOfRoute(route, e.SMS_ROUTES ?? [], e.SMS_ALLOWED_COUNTRIES);
    return regions === '*' || regions.some((r) => r !== 'CN');
  });
  if (intlRoute && e.TENCENT_SMS_INTL_TEMPLATE_ID === undefined) {
    const regions = intlRoute.regions === '*' ? '*' : intlRoute.regions.join(',');
    lines.push(`TENCENT_SMS_INTL_TEMPLATE_ID: required because SMS_ROUTES sends ${regions} through tencent, which needs an approved international template for numbers outside +86`);
  }
  const everyPurpose = (prefix: string) =>
    PURPOSES.every((p) => e[`${prefix}_${p.toUpperCase()}` as keyof ParsedEnv] !== undefined);
  if (used.has('tencent')) {
    for (const name of ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'TENCENT_SMS_SDK_APP_ID', 'TENCENT_SMS_SIGN_NAME'] as const) {
      need('tencent', name);
    }
    if (!everyPurpose('TENCENT_SMS_TEMPLATE_ID')) need('tencent', 'TENCENT_SMS_TEMPLATE_ID');
  }
  if (used.has('aliyun')) {
    for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIYUN_SMS_SIGN_NAME'] as const) {
      need('aliyun', name);
    }
    if (!everyPurpose('ALIYUN_SMS_TEMPLATE_CODE')) need('aliyun', 'ALIYUN_SMS_TEMPLATE_CODE');
  }
  if (used.has('twilio')) {
    need('twilio', 'TWILIO_ACCOUNT_SID');
    need('twilio', 'TWILIO_AUTH_TOKEN');
    if (e.TWILIO_FROM === undefined && e.TWILIO_MESSAGING_SERVICE_SID === undefined) {
      lines.push(`TWILIO_FROM: required when ${selector} includes twilio (or set TWILIO_MESSAGING_SERVICE_SID)`);
    }
  }
  return lines;
}
