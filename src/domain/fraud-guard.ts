import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AppError } from './errors.js';
import type { AuditLog } from './audit.js';
import type { ClientContext } from './client.js';
import type { Logger } from './logger.js';
import { maskPhone, type E164 } from './phone.js';

/**
 * The SMS-pumping guard (docs/security.md#sms-pumping-guard). Pumping sends codes to numbers the
 * attacker is paid for and never uses them, so a destination whose codes are sent but not
 * verified is the signal; fixed caps only slow it. For each destination prefix (calling code plus
 * SMS_PREFIX_DIGITS national digits) and each country the guard counts codes sent and codes
 * verified over the last hour and the last 24 hours, and blocks a scope whose conversion falls
 * below FRAUD_GUARD_MIN_CONVERSION once it has FRAUD_GUARD_MIN_SENDS sends (a country: ten times
 * as many) in either window.
 */

/** Codes sent and verified in one window. */
export interface ConversionCounts {
  readonly sent: number;
  readonly verified: number;
}

/** A scope's figures over the last hour and the last 24 hours. */
export interface ConversionWindows {
  readonly hour: ConversionCounts;
  readonly day: ConversionCounts;
}

export type GuardEvent = 'sent' | 'verified';

/** A prefix or country the guard stopped (or, with FRAUD_GUARD=monitor, only flagged). */
export interface FraudBlock {
  /** "prefix:+86 1391234" or "country:CN". */
  readonly scope: string;
  readonly blockedAt: number;
  readonly until: number;
  /** false when FRAUD_GUARD=monitor: logged, audited and counted, but sends still go out. */
  readonly enforced: boolean;
  /** The window whose conversion tripped the guard, and its figures then. */
  readonly window: 'hour' | 'day';
  readonly sent: number;
  readonly verified: number;
}

/**
 * Where the guard's counters and blocks live: Redis when configured, else the database
 * (src/stores/fraud-guard-*.ts). Buckets are five minutes wide (the day window may use hourly ones),
 * so a window is exact to its bucket width and old buckets expire or are swept, never scanned.
 */
export interface FraudGuardStore {
  /** Adds one event to each scope's current bucket and answers each scope's windows, this event included. */
  record(scopes: readonly string[], event: GuardEvent, now: number): Promise<ConversionWindows[]>;
  /** The scopes of one kind ("prefix" or "country") seen in the last 24 hours, with their windows, for the console. */
  scopes(kind: 'prefix' | 'country', now: number, limit: number): Promise<{ scope: string; windows: ConversionWindows }[]>;
  /** Stores a block and drops the scope's counters, so counting starts afresh when it ends. */
  block(block: FraudBlock): Promise<void>;
  /** Removes a block and the scope's counters; false when there was none. */
  unblock(scope: string): Promise<boolean>;
  /** Blocks whose `until` is after `now`. */
  blocks(now: number): Promise<FraudBlock[]>;
}

export interface FraudGuardSettings {
  readonly mode: 'off' | 'monitor' | 'block';
  readonly minSends: number;
  readonly minConversion: number;
  readonly blockHours: number;
  /** E.164 prefixes without spaces that are never counted or blocked. */
  readonly safePrefixes: readonly string[];
  readonly prefixDigits: number;
  /** TEST_PHONE_NUMBERS: never counted, never blocked. */
  readonly exemptNumbers: { has(phone: string): boolean };
}

export interface FraudGuardDeps {
  readonly store: FraudGuardStore;
  readonly settings: FraudGuardSettings;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly now: () => number;
}

/** The guard's figures for one scope, as the console shows them. */
export interface ScopeFigures {
  readonly scope: string;
  readonly kind: 'prefix' | 'country';
  /** "+86 1391234" or "CN". */
  readonly target: string;
  readonly windows: ConversionWindows;
}

/**
 * The port the verification steps call: before a send, after an SMS went out, after a right code.
 * `sent` and `verified` never throw: the SMS is out (or the code was right) whatever the guard's
 * store says, so a store failure is logged and the count is lost.
 */
export interface DeliveryGuard {
  /**
   * Throws destination_blocked when the number's prefix or country is blocked and the mode is
   * block. Reads a copy of the block list this process refreshes at most every BLOCK_CACHE_MS, so
   * the refusal costs no store round trip (and flooding it costs us nothing).
   */
  admit(phone: E164): Promise<void>;
  /** A code (or a privacy notice) went out: count it and judge the scope. */
  sent(phone: E164): Promise<void>;
  /** A right code was checked for this number. */
  verified(phone: E164): Promise<void>;
}

export interface FraudGuard extends DeliveryGuard {
  readonly mode: FraudGuardSettings['mode'];
  /** Active blocks (enforced or flagged), newest first. */
  blocks(): Promise<FraudBlock[]>;
  /** The figures of the countries and the prefixes with the lowest conversion, for the console. */
  figures(kind: 'prefix' | 'country', limit: number): Promise<ScopeFigures[]>;
  /** Lifts a block now; audited with the operator. False when the scope was not blocked. */
  unblock(scope: string, by: { userId: string; client?: ClientContext | undefined }): Promise<boolean>;
  /** Active blocks this process knows of (its copy, at most BLOCK_CACHE_MS old), for the metrics gauge. */
  knownBlocks(): FraudBlock[];
}

/**
 * How old this process's copy of the block list may be. The cost in accuracy: after a block made
 * on another instance, this one may still send to the scope for up to this long (and one unblocked
 * elsewhere stays refused here as long). At the per-prefix cap's default 50 SMS an hour, that is
 * well under one extra SMS.
 */
export const BLOCK_CACHE_MS = 2000;

const HOUR_MS = 3_600_000;

type Destination = { prefix: string; country: string | undefined } | undefined;
/**
 * Parsing with the full metadata is the guard's largest CPU cost, and one send asks for the same
 * number twice (admit, then sent): the last few hundred answers are kept.
 */
const recentDestinations = new Map<string, Destination>();

/** "+86 1391234": the calling code, a space and the first national digits (how the console writes it). */
export function destinationPrefix(phone: string, digits: number): Destination {
  const key = `${digits}:${phone}`;
  if (recentDestinations.has(key)) return recentDestinations.get(key);
  const parsed = parsePhoneNumberFromString(phone);
  const destination = parsed && { prefix: `+${parsed.countryCallingCode} ${String(parsed.nationalNumber).slice(0, digits)}`, country: parsed.country };
  if (recentDestinations.size >= 512) recentDestinations.clear();
  recentDestinations.set(key, destination);
  return destination;
}

export const prefixScope = (prefix: string) => `prefix:${prefix}`;
export const countryScope = (country: string) => `country:${country}`;

function describeScope(scope: string): { kind: 'prefix' | 'country'; target: string } {
  const [kind, ...rest] = scope.split(':');
  return { kind: kind === 'country' ? 'country' : 'prefix', target: rest.join(':') };
}

const conversion = (c: ConversionCounts) => (c.sent === 0 ? 1 : c.verified / c.sent);

export function createFraudGuard(deps: FraudGuardDeps): FraudGuard {
  const { store, settings, log } = deps;
  let cached: { at: number; blocks: Map<string, FraudBlock> } | undefined;
  let refreshing: Promise<Map<string, FraudBlock>> | undefined;

  async function currentBlocks(): Promise<Map<string, FraudBlock>> {
    const now = deps.now();
    if (cached && now - cached.at < BLOCK_CACHE_MS && now >= cached.at) {
      for (const [scope, block] of cached.blocks) if (block.until <= now) cached.blocks.delete(scope);
      return cached.blocks;
    }
    // One read per process however many sends arrive while it runs.
    refreshing ??= store
      .blocks(now)
      .then((list) => {
        const blocks = new Map(list.map((b) => [b.scope, b]));
        cached = { at: now, blocks };
        return blocks;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }

  /** The scopes the guard counts for a number, or none for test numbers and safe prefixes. */
  function scopesOf(phone: E164): string[] {
    if (settings.mode === 'off' || settings.exemptNumbers.has(phone)) return [];
    if (settings.safePrefixes.some((p) => phone.startsWith(p))) return [];
    const destination = destinationPrefix(phone, settings.prefixDigits);
    if (!destination) return [];
    const scopes = [prefixScope(destination.prefix)];
    if (destination.country) scopes.push(countryScope(destination.country));
    return scopes;
  }

  /** The window that trips the guard for a scope, if any. */
  function tripped(scope: string, windows: ConversionWindows): 'hour' | 'day' | undefined {
    const minSends = describeScope(scope).kind === 'country' ? settings.minSends * 10 : settings.minSends;
    for (const window of ['hour', 'day'] as const) {
      const counts = windows[window];
      if (counts.sent >= minSends && conversion(counts) < settings.minConversion) return window;
    }
    return undefined;
  }

  async function block(scope: string, window: 'hour' | 'day', counts: ConversionCounts, now: number): Promise<void> {
    const entry: FraudBlock = {
      scope,
      blockedAt: now,
      until: now + settings.blockHours * HOUR_MS,
      enforced: settings.mode === 'block',
      window,
      sent: counts.sent,
      verified: counts.verified,
    };
    await store.block(entry);
    (await currentBlocks()).set(scope, entry);
    log.warn(
      { scope, window, sent: counts.sent, verified: counts.verified, enforced: entry.enforced, until: new Date(entry.until).toISOString() },
      entry.enforced ? 'fraud guard: destination blocked for low conversion' : 'fraud guard (monitor): destination would be blocked for low conversion',
    );
    await deps.audit.record({
      type: 'fraud_guard_blocked',
      detail: `${scope} ${window} ${counts.verified}/${counts.sent}${entry.enforced ? '' : ' monitor'}`,
    });
  }

  return {
    mode: settings.mode,

    async admit(phone) {
      if (settings.mode !== 'block') return;
      const scopes = scopesOf(phone);
      if (scopes.length === 0) return;
      const blocks = await currentBlocks();
      const hit = scopes.map((s) => blocks.get(s)).find((b) => b?.enforced && b.until > deps.now());
      if (hit) {
        log.info({ scope: hit.scope, phone: maskPhone(phone) }, 'send refused: destination blocked by the fraud guard');
        throw new AppError('destination_blocked', { field: 'phone' });
      }
    },

    async sent(phone) {
      const scopes = scopesOf(phone);
      if (scopes.length === 0) return;
      try {
        const now = deps.now();
        const windows = await store.record(scopes, 'sent', now);
        const blocks = await currentBlocks();
        for (const [i, scope] of scopes.entries()) {
          if (blocks.has(scope)) continue;
          const window = tripped(scope, windows[i]!);
          if (window) await block(scope, window, windows[i]![window], now);
        }
      } catch (err) {
        log.error({ err, phone: maskPhone(phone) }, 'fraud guard: could not count a send');
      }
    },

    async verified(phone) {
      const scopes = scopesOf(phone);
      if (scopes.length === 0) return;
      try {
        await store.record(scopes, 'verified', deps.now());
      } catch (err) {
        log.error({ err, phone: maskPhone(phone) }, 'fraud guard: could not count a verified code');
      }
    },

    async blocks() {
      return (await store.blocks(deps.now())).sort((a, b) => b.blockedAt - a.blockedAt);
    },

    async figures(kind, limit) {
      const rows = await store.scopes(kind, deps.now(), limit);
      return rows.map(({ scope, windows }) => ({ scope, ...describeScope(scope), windows }));
    },

    async unblock(scope, by) {
      const removed = await store.unblock(scope);
      (await currentBlocks()).delete(scope);
      if (removed) {
        log.warn({ scope, operator: by.userId }, 'fraud guard: destination unblocked by an operator');
        await deps.audit.record({ type: 'fraud_guard_unblocked', userId: by.userId, client: by.client, detail: scope });
      }
      return removed;
    },

    knownBlocks() {
      const now = deps.now();
      return [...(cached?.blocks.values() ?? [])].filter((b) => b.until > now);
    },
  };
}
