import { DependencyUnavailableError } from '../errors.js';
import type { RedisClient } from './redis-client.js';
import type { CaptchaStore, CheckResult, CodeKey, CodeStore, HealthCheck, PendingCode } from './types.js';

/**
 * A pending code lives this long after it expires, so a late attempt hears "expired" rather than
 * "no code"; then Redis drops the key by itself and nothing ever has to scan for old keys.
 */
const EXPIRED_GRACE_MS = 10 * 60_000;

/**
 * One pending code is one string key (about 200 bytes in all, see docs/benchmarks.md):
 * `attempts:expiresAt:resendAt:codeHash`. A string is the most compact encoding Redis has, and
 * the scripts below rewrite it whole, so the four fields always change together.
 */
const encode = (p: PendingCode) => `${p.attempts}:${p.expiresAt}:${p.resendAt}:${p.codeHash}`;

export function decode(value: string): PendingCode | undefined {
  const match = /^(\d+):(\d+):(\d+):(.+)$/.exec(value);
  if (!match) return undefined;
  return { attempts: Number(match[1]), expiresAt: Number(match[2]), resendAt: Number(match[3]), codeHash: match[4]! };
}

/** Milliseconds the key must live, measured from the caller's clock (tests drive it by hand). */
const keyLifetimeMs = (p: PendingCode, now: number) => Math.max(1, Math.max(p.expiresAt + EXPIRED_GRACE_MS, p.resendAt) - now);

/*
 * Each check-and-change below is one Lua script: Redis runs a script alone, so no other client
 * (in this process or another instance) can interleave between its read and its write, and it
 * costs one round trip. Every script touches one key, so it runs on Redis Cluster too.
 */

/** Refuses inside the cooldown (returns the milliseconds left), otherwise stores the new code (returns 0). */
const BEGIN_SEND = `
local current = redis.call('GET', KEYS[1])
if current then
  local resendAt = tonumber(string.match(current, '^%d+:%d+:(%d+):'))
  local now = tonumber(ARGV[2])
  if resendAt and resendAt > now then return resendAt - now end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 0`;

/*
 * The comparison of hashes happens here, in Lua, with ==, which is not constant-time. That is
 * acceptable: both sides are HMAC-SHA256 outputs under SECRET, the attacker chooses the code but
 * cannot compute its HMAC, so learning how many leading characters of two HMACs agree tells them
 * nothing about which code is right. Comparing in the script is what keeps check one atomic step.
 */
/**
 * The check of the code in KEYS[1] against the hash in ARGV[1] at ARGV[2] with ARGV[3] tries;
 * after a wrong code it runs `onWrong` (Lua that sees `attempts`, the new count) and answers.
 * Shared with the admission step's check (redis-admission.ts), which counts the failure there.
 */
export const checkCodeLua = (onWrong = "return {'wrong', tostring(tonumber(ARGV[3]) - attempts)}") => `
local current = redis.call('GET', KEYS[1])
if not current then return {'missing'} end
local attempts, expiresAt, resendAt, hash = string.match(current, '^(%d+):(%d+):(%d+):(.+)$')
if not hash then return {'missing'} end
attempts = tonumber(attempts)
if tonumber(expiresAt) <= tonumber(ARGV[2]) then return {'expired'} end
if attempts >= tonumber(ARGV[3]) then return {'exhausted'} end
if hash == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'valid', current}
end
attempts = attempts + 1
redis.call('SET', KEYS[1], attempts .. ':' .. expiresAt .. ':' .. resendAt .. ':' .. hash, 'KEEPTTL')
${onWrong}`;

const CHECK = checkCodeLua();

/** Deletes the code only if it is still the one this send stored. */
const ABORT_SEND = `
local current = redis.call('GET', KEYS[1])
if current and string.match(current, '^%d+:%d+:%d+:(.+)$') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

interface ScriptCommands {
  smsVerifyBeginSend(key: string, value: string, now: number, ttlMs: number): Promise<number>;
  smsVerifyCheck(key: string, candidateHash: string, now: number, maxAttempts: number): Promise<[string, string?]>;
  smsVerifyAbortSend(key: string, codeHash: string): Promise<number>;
}

/** Registers the scripts once per client; ioredis then sends EVALSHA and falls back to EVAL after a restart. */
function withScripts(client: RedisClient): ScriptCommands {
  const c = client as RedisClient & Partial<ScriptCommands>;
  if (!c.smsVerifyBeginSend) {
    client.defineCommand('smsVerifyBeginSend', { numberOfKeys: 1, lua: BEGIN_SEND });
    client.defineCommand('smsVerifyCheck', { numberOfKeys: 1, lua: CHECK });
    client.defineCommand('smsVerifyAbortSend', { numberOfKeys: 1, lua: ABORT_SEND });
  }
  return c as RedisClient & ScriptCommands;
}

/**
 * Errors that mean "Redis is not there" become DependencyUnavailableError (503). A reply that
 * says our script or command is wrong is a bug and stays as it is (500).
 */
export function asDependencyFailure(err: unknown): unknown {
  const isBug = err instanceof Error && err.name === 'ReplyError' && /^(ERR|WRONGTYPE|NOSCRIPT)/.test(err.message);
  return isBug ? err : new DependencyUnavailableError('redis', { cause: err });
}

async function call<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw asDependencyFailure(err);
  }
}

export interface RedisStoreOptions {
  /** Prepended to every key (REDIS_KEY_PREFIX). */
  keyPrefix: string;
}

/**
 * Verification state in Redis, shared by every instance. Keys of one phone carry the phone as a
 * hash tag (`sms-verify:code:{+8613800138000}:register`), so whatever else a later feature keeps
 * per phone lands in the same Cluster slot and can join these keys in one script.
 */
export function redisCodeStore(client: RedisClient, { keyPrefix }: RedisStoreOptions): CodeStore {
  const redis = withScripts(client);
  const keyOf = (k: CodeKey) => `${keyPrefix}code:{${k.phone}}:${k.purpose}`;

  return {
    async beginSend(key, pending, now) {
      const stored = { ...pending, attempts: 0 };
      let waitMs: number;
      try {
        waitMs = await redis.smsVerifyBeginSend(keyOf(key), encode(stored), now, keyLifetimeMs(stored, now));
      } catch (err) {
        // After a timeout the script may still run (a frozen Redis answers late), leaving a code
        // nobody received and a cooldown on a send that reported failure. Its undo goes out right
        // behind it on the same connection, so Redis runs the two in order.
        redis.smsVerifyAbortSend(keyOf(key), stored.codeHash).catch(() => {});
        throw asDependencyFailure(err);
      }
      return waitMs > 0 ? { ok: false, retryAfterMs: waitMs } : { ok: true };
    },
    async abortSend(key, codeHash) {
      await call(() => redis.smsVerifyAbortSend(keyOf(key), codeHash));
    },
    async check(key, candidateHash, now, maxAttempts): Promise<CheckResult> {
      const [outcome, detail] = await call(() => redis.smsVerifyCheck(keyOf(key), candidateHash, now, maxAttempts));
      switch (outcome) {
        case 'valid': {
          const consumed = decode(detail ?? '');
          return consumed ? { outcome: 'valid', consumed } : { outcome: 'missing' };
        }
        case 'wrong':
          return { outcome: 'wrong', attemptsLeft: Number(detail) };
        case 'expired':
        case 'exhausted':
          return { outcome };
        default:
          return { outcome: 'missing' };
      }
    },
    async restore(key, pending, now) {
      if (pending.expiresAt <= now) return;
      // NX: a newer code sent meanwhile wins over the one being given back.
      await call(() => client.set(keyOf(key), encode(pending), 'PX', keyLifetimeMs(pending, now), 'NX'));
    },
  } satisfies CodeStore;
}

/** Captcha answers in Redis: one key each, expiring by itself; GETDEL burns it in one command. */
export function redisCaptchaStore(client: RedisClient, { keyPrefix }: RedisStoreOptions): CaptchaStore {
  const keyOf = (id: string) => `${keyPrefix}captcha:${id}`;
  return {
    async put(id, answerHash, expiresAt, now) {
      await call(() => client.set(keyOf(id), `${expiresAt}:${answerHash}`, 'PX', Math.max(1, expiresAt - now)));
    },
    async take(id, now) {
      const value = await call(() => client.getdel(keyOf(id)));
      const match = value ? /^(\d+):(.+)$/.exec(value) : null;
      return match && Number(match[1]) > now ? match[2] : undefined;
    },
  } satisfies CaptchaStore;
}

export function redisHealthCheck(client: RedisClient): HealthCheck {
  return {
    name: 'redis',
    async ping() {
      await client.ping();
    },
  };
}
