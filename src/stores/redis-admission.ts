import type { Admission, AdmissionCounter, AdmissionLimits, CheckAdmission, SendAdmission, SendAdmissionRequest, SendLimitName } from '../domain/admission.js';
import { budgetCounter, checkCounters, sendCounters } from '../domain/admission.js';
import type { RedisClient } from './redis-client.js';
import { asDependencyFailure, checkCodeLua, decode } from './redis-store.js';

/** As in redis-store.ts: a pending code outlives its expiry this long, so a late try hears "expired". */
const EXPIRED_GRACE_MS = 10 * 60_000;

/*
 * Counters are plain integers (INCR), each living until its window ends; codes are the string
 * redis-store.ts writes (`attempts:expiresAt:resendAt:codeHash`), under its key, so redisCodeStore
 * restores and checks what this admits.
 *
 * ADMIT decides first and writes only if everything allows it, so a refusal writes nothing.
 * KEYS: the code key when ARGV[1] (the new code's value) is not empty, then the counters.
 * ARGV: value, now, the code's lifetime, then per counter its points and its lifetime (ms).
 * Answers {0, wait} inside the cooldown, {i} when counter i (from 1) is full, or
 * {-1, previous value, its lifetime} once admitted: on Redis Cluster, what an undo puts back.
 */
const ADMIT = `
local now = tonumber(ARGV[2])
local first = 1
local previous, previousTtl = '', 0
if ARGV[1] ~= '' then
  first = 2
  local current = redis.call('GET', KEYS[1])
  if current then
    local resendAt = tonumber(string.match(current, '^%d+:%d+:(%d+):'))
    if resendAt and resendAt > now then return {0, resendAt - now} end
    previous, previousTtl = current, redis.call('PTTL', KEYS[1])
  end
end
for i = first, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[4 + 2 * (i - first)]) then return {i - first + 1} end
end
for i = first, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[5 + 2 * (i - first)]) end
end
if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
return {-1, previous, previousTtl}`;

/**
 * The undo of ADMIT. KEYS as there; ARGV: the admitted code's hash (or ''), the value to put back
 * (or '' to delete) and its lifetime. The code is touched only while it is still the admitted one.
 */
const UNDO = `
local first = 1
if ARGV[1] ~= '' then
  first = 2
  local current = redis.call('GET', KEYS[1])
  if current and string.match(current, '^%d+:%d+:%d+:(.+)$') == ARGV[1] then
    if ARGV[2] ~= '' and tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else redis.call('DEL', KEYS[1]) end
  end
end
for i = first, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0`;

/**
 * The check. KEYS: the code, the number's wrong-code budget, and (on one Redis, not on Cluster)
 * the per-IP check counter. ARGV: candidate hash, now, maxAttempts, budget points, budget
 * lifetime, per-IP points, per-IP lifetime. The hash comparison with == is as in redis-store.ts:
 * both sides are HMACs under SECRET, so timing tells an attacker nothing.
 */
const CHECK = `
if KEYS[3] then
  if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[6]) then return {'refused_ip'} end
  if redis.call('INCR', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[7]) end
end
local failed = tonumber(redis.call('GET', KEYS[2]) or '0')
if failed >= tonumber(ARGV[4]) then return {'refused_budget'} end
${checkCodeLua(`if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return {'wrong', tostring(tonumber(ARGV[3]) - attempts), tostring(tonumber(ARGV[4]) - failed - 1)}`)}`;

type Arg = string | number;
interface AdmissionCommands {
  smsVerifyAdmit(numKeys: number, ...keysAndArgs: Arg[]): Promise<[number, (string | number)?, number?]>;
  smsVerifyUndo(numKeys: number, ...keysAndArgs: Arg[]): Promise<number>;
  smsVerifyAdmissionCheck(numKeys: number, ...keysAndArgs: Arg[]): Promise<string[]>;
}

function withScripts(client: RedisClient): AdmissionCommands {
  const c = client as RedisClient & Partial<AdmissionCommands>;
  if (!c.smsVerifyAdmit) {
    client.defineCommand('smsVerifyAdmit', { lua: ADMIT });
    client.defineCommand('smsVerifyUndo', { lua: UNDO });
    client.defineCommand('smsVerifyAdmissionCheck', { lua: CHECK });
  }
  return c as RedisClient & AdmissionCommands;
}

export interface RedisAdmissionOptions {
  /** REDIS_KEY_PREFIX, as for redisCodeStore. */
  readonly keyPrefix: string;
}

const lifetime = (c: AdmissionCounter, now: number) => Math.max(1, c.windowEnd - now);
const codeValue = ({ pending }: SendAdmissionRequest) => (pending ? `0:${pending.expiresAt}:${pending.resendAt}:${pending.codeHash}` : '');
const codeLifetime = ({ pending, now }: SendAdmissionRequest) => (pending ? Math.max(1, Math.max(pending.expiresAt + EXPIRED_GRACE_MS, pending.resendAt) - now) : 0);

/**
 * The admission step in Redis: one script per send and one per check on a single Redis (or
 * Sentinel). Keys of one number carry the number as hash tag (`…{+8613800138000}…`), like its
 * code, so on Redis Cluster the cooldown, the number's counters and the code are decided in one
 * script in the number's slot. The per-IP, per-prefix and budget counters belong to no number:
 * they share the tag `{limits}` (one slot, so one more script takes them all), which puts that
 * counting on one shard of the cluster; docs/benchmarks.md has the numbers.
 *
 * On Cluster a send is the number's script first (a cooldown refusal, the commonest, is then one
 * script that counts nothing), then the shared one; if that refuses, an undo in the number's slot
 * gives the number's points back and puts its previous code back. For that one round trip the
 * refused send holds the number's cooldown and points; never the shared counters.
 */
export function redisAdmission(limits: AdmissionLimits, client: RedisClient, { keyPrefix }: RedisAdmissionOptions): Admission {
  const redis = withScripts(client);
  const cluster = client.isCluster;
  const codeKey = (r: { phone: string; purpose: string }) => `${keyPrefix}code:{${r.phone}}:${r.purpose}`;
  const counterKey = (c: AdmissionCounter, phone: string) => (c.perNumber ? `${keyPrefix}limit:{${phone}}:${c.key}` : `${keyPrefix}limit:{limits}:${c.key}`);
  const counterArgs = (counters: readonly AdmissionCounter[], now: number) => counters.flatMap((c) => [c.points, lifetime(c, now)]);

  async function call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw asDependencyFailure(err);
    }
  }

  /** One ADMIT: with the code when `withCode`, over `counters`; answers what it refused, or what an undo would put back. */
  async function admit(r: SendAdmissionRequest, counters: readonly AdmissionCounter[], withCode: boolean) {
    withCode &&= r.pending !== undefined;
    const keys = [...(withCode ? [codeKey(r)] : []), ...counters.map((c) => counterKey(c, r.phone))];
    const args = [withCode ? codeValue(r) : '', r.now, codeLifetime(r), ...counterArgs(counters, r.now)];
    try {
      return await redis.smsVerifyAdmit(keys.length, ...keys, ...args);
    } catch (err) {
      // After a timeout the script may still run (a frozen Redis answers late). Its undo goes out
      // right behind it on the same connection, so Redis runs the two in order.
      redis.smsVerifyUndo(keys.length, ...keys, withCode ? r.pending!.codeHash : '', '', 0).catch(() => {});
      throw asDependencyFailure(err);
    }
  }

  function undo(r: SendAdmissionRequest, counters: readonly AdmissionCounter[], code: { previous: string; ttl: number } | undefined) {
    if (!r.pending) code = undefined;
    const keys = [...(code ? [codeKey(r)] : []), ...counters.map((c) => counterKey(c, r.phone))];
    return call(() => redis.smsVerifyUndo(keys.length, ...keys, code ? r.pending!.codeHash : '', code?.previous ?? '', code?.ttl ?? 0));
  }

  const refusedBy = (answer: [number, (string | number)?, number?], counters: readonly AdmissionCounter<SendLimitName>[], now: number): SendAdmission | undefined => {
    if (answer[0] === 0) return { admitted: false, refusedBy: 'cooldown', retryAfterMs: Number(answer[1]) };
    if (answer[0] > 0) {
      const c = counters[answer[0] - 1]!;
      return { admitted: false, refusedBy: c.rule, retryAfterMs: c.windowEnd - now };
    }
    return undefined;
  };

  return {
    name: 'redis',
    async admitSend(r) {
      const counters = sendCounters(limits, r);
      if (!cluster) return refusedBy(await admit(r, counters, true), counters, r.now) ?? { admitted: true };
      const own = counters.filter((c) => c.perNumber);
      const shared = counters.filter((c) => !c.perNumber);
      const first = await admit(r, own, true);
      const refusal = refusedBy(first, own, r.now);
      if (refusal) return refusal;
      let second: Awaited<ReturnType<typeof admit>>;
      try {
        second = await admit(r, shared, false);
      } catch (err) {
        await undo(r, own, { previous: String(first[1] ?? ''), ttl: Number(first[2] ?? 0) }).catch(() => {});
        throw err;
      }
      const sharedRefusal = refusedBy(second, shared, r.now);
      if (sharedRefusal) await undo(r, own, { previous: String(first[1] ?? ''), ttl: Number(first[2] ?? 0) });
      return sharedRefusal ?? { admitted: true };
    },

    async abortSend(r) {
      const counters = sendCounters(limits, r);
      if (!cluster) return void (await undo(r, counters, { previous: '', ttl: 0 }));
      await undo(
        r,
        counters.filter((c) => c.perNumber),
        { previous: '', ttl: 0 },
      );
      await undo(
        r,
        counters.filter((c) => !c.perNumber),
        undefined,
      );
    },

    async check(r): Promise<CheckAdmission> {
      const { perIp, failures } = checkCounters(limits, r);
      const refusedIp: CheckAdmission = { outcome: 'refused', refusedBy: 'checks_ip_h', retryAfterMs: (perIp?.windowEnd ?? r.now) - r.now };
      if (cluster && perIp) {
        const key = counterKey(perIp, r.phone);
        const [taken] = await call(() => redis.smsVerifyAdmit(1, key, '', r.now, 0, ...counterArgs([perIp], r.now)));
        if (taken !== -1) return refusedIp;
      }
      const keys = [codeKey(r), counterKey(failures, r.phone), ...(cluster || !perIp ? [] : [counterKey(perIp, r.phone)])];
      const args = [r.candidateHash, r.now, r.maxAttempts, failures.points, lifetime(failures, r.now), perIp?.points ?? 0, perIp ? lifetime(perIp, r.now) : 0];
      const [outcome, detail, failuresLeft] = await call(() => redis.smsVerifyAdmissionCheck(keys.length, ...keys, ...args));
      switch (outcome) {
        case 'refused_ip':
          return refusedIp;
        case 'refused_budget':
          return { outcome: 'refused', refusedBy: failures.rule, retryAfterMs: failures.windowEnd - r.now };
        case 'valid': {
          const consumed = decode(detail ?? '');
          return consumed ? { outcome: 'valid', consumed } : { outcome: 'missing' };
        }
        case 'wrong':
          return { outcome: 'wrong', attemptsLeft: Number(detail), failuresLeft: Number(failuresLeft) };
        case 'expired':
        case 'exhausted':
          return { outcome };
        default:
          return { outcome: 'missing' };
      }
    },

    async dailyBudgetUsed(now) {
      const budget = budgetCounter(limits, now);
      return budget ? Number((await call(() => client.get(counterKey(budget, '')))) ?? 0) : 0;
    },
  } satisfies Admission;
}
