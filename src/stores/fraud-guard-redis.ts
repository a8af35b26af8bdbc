import type { ConversionWindows, FraudBlock, FraudGuardStore } from '../domain/fraud-guard.js';
import { GUARD_BUCKET_MS } from './fraud-guard-store.js';
import type { RedisClient } from './redis-client.js';
import { asDependencyFailure } from './redis-store.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/*
 * One hash per scope: fields "m<5-minute bucket><s|v>" for the hour window (12 buckets) and
 * "h<hour bucket><s|v>" for the day window (24 buckets), so a hash never holds more than about 76
 * fields. The day window is exact to the hour, the hour window to five minutes. Every script
 * drops the fields that fell out of their window, and the hash itself expires a day after its
 * last event, so nothing ever scans for old keys.
 *
 * All the guard's keys share the hash tag {fraud-guard}: on Redis Cluster they sit in one slot, so
 * a send's prefix and country are counted and read by one script in one round trip. The guard's
 * load is one small script per send and per right code, which one shard carries easily.
 */
const SUM_WINDOWS = `
local function windows(key, m, h)
  local fields = redis.call('HGETALL', key)
  local hs, hv, ds, dv = 0, 0, 0, 0
  local stale = {}
  for j = 1, #fields, 2 do
    local f = fields[j]
    local kind, idx, e = string.match(f, '^(%a)(%d+)(%a)$')
    idx = tonumber(idx)
    local n = tonumber(fields[j + 1])
    if kind == 'm' and idx and idx > m - 12 then
      if e == 's' then hs = hs + n else hv = hv + n end
    elseif kind == 'h' and idx and idx > h - 24 then
      if e == 's' then ds = ds + n else dv = dv + n end
    else
      stale[#stale + 1] = f
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return {hs, hv, ds, dv}
end
`;

/** KEYS: the scope index, then one counts hash per scope. ARGV: event letter, now, 5-minute bucket, hour bucket, then the scopes. */
const RECORD = `${SUM_WINDOWS}
local ev, now, m, h = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'm' .. m .. ev, 1)
  redis.call('HINCRBY', KEYS[i], 'h' .. h .. ev, 1)
  redis.call('PEXPIRE', KEYS[i], ${DAY_MS + HOUR_MS})
  redis.call('ZADD', KEYS[1], now, ARGV[3 + i])
  local w = windows(KEYS[i], m, h)
  for _, n in ipairs(w) do out[#out + 1] = n end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ${DAY_MS})
return out`;

/** KEYS: counts hashes. ARGV: 5-minute bucket, hour bucket. */
const READ = `${SUM_WINDOWS}
local out = {}
for i = 1, #KEYS do
  local w = windows(KEYS[i], tonumber(ARGV[1]), tonumber(ARGV[2]))
  for _, n in ipairs(w) do out[#out + 1] = n end
end
return out`;

interface GuardCommands {
  smsVerifyGuardRecord(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
  smsVerifyGuardRead(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
}

function withScripts(client: RedisClient): RedisClient & GuardCommands {
  const c = client as RedisClient & Partial<GuardCommands>;
  if (!c.smsVerifyGuardRecord) {
    client.defineCommand('smsVerifyGuardRecord', { lua: RECORD });
    client.defineCommand('smsVerifyGuardRead', { lua: READ });
  }
  return c as RedisClient & GuardCommands;
}

async function call<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw asDependencyFailure(err);
  }
}

/** Four numbers per scope (hour sent, hour verified, day sent, day verified) → windows. */
function decode(flat: readonly number[], count: number): ConversionWindows[] {
  return Array.from({ length: count }, (_, i) => ({
    hour: { sent: Number(flat[i * 4]), verified: Number(flat[i * 4 + 1]) },
    day: { sent: Number(flat[i * 4 + 2]), verified: Number(flat[i * 4 + 3]) },
  }));
}

/** The guard's counters and blocks in Redis, shared by every instance. The client is the caller's. */
export function redisFraudGuardStore(client: RedisClient, { keyPrefix }: { keyPrefix: string }): FraudGuardStore {
  const redis = withScripts(client);
  const base = `${keyPrefix}{fraud-guard}`;
  const countsKey = (scope: string) => `${base}:counts:${scope}`;
  const scopesKey = `${base}:scopes`;
  const blocksKey = `${base}:blocks`;
  const buckets = (now: number) => [Math.floor(now / GUARD_BUCKET_MS), Math.floor(now / HOUR_MS)] as const;

  return {
    async record(scopes, event, now) {
      const [m, h] = buckets(now);
      const keys = [scopesKey, ...scopes.map(countsKey)];
      const flat = await call(() => redis.smsVerifyGuardRecord(keys.length, ...keys, event === 'sent' ? 's' : 'v', now, m, h, ...scopes));
      return decode(flat, scopes.length);
    },
    async scopes(kind, now, limit) {
      // The index holds every scope seen in the last day; a pumping run over many prefixes makes it
      // long, so the console reads at most the 1000 most recently active.
      const recent = await call(() => client.zrevrangebyscore(scopesKey, '+inf', now - DAY_MS, 'LIMIT', 0, 1000));
      const scopes = recent.filter((s) => s.startsWith(`${kind}:`));
      if (scopes.length === 0) return [];
      const [m, h] = buckets(now);
      const keys = scopes.map(countsKey);
      const windows = decode(await call(() => redis.smsVerifyGuardRead(keys.length, ...keys, m, h)), scopes.length);
      return scopes
        .map((scope, i) => ({ scope, windows: windows[i]! }))
        .filter((r) => r.windows.day.sent + r.windows.day.verified > 0)
        .sort((a, b) => b.windows.day.sent - a.windows.day.sent || a.scope.localeCompare(b.scope))
        .slice(0, limit);
    },
    async block(block) {
      await call(() => client.multi().hset(blocksKey, block.scope, JSON.stringify(block)).del(countsKey(block.scope)).exec());
    },
    async unblock(scope) {
      const results = await call(() => client.multi().hdel(blocksKey, scope).del(countsKey(scope)).exec());
      return Number(results?.[0]?.[1] ?? 0) > 0;
    },
    async blocks(now) {
      const all = await call(() => client.hgetall(blocksKey));
      const active: FraudBlock[] = [];
      const ended: string[] = [];
      for (const [scope, json] of Object.entries(all)) {
        const block = JSON.parse(json) as FraudBlock;
        if (block.until > now) active.push(block);
        else ended.push(scope);
      }
      if (ended.length > 0) await call(() => client.hdel(blocksKey, ...ended));
      return active;
    },
  } satisfies FraudGuardStore;
}
