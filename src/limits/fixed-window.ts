import { RateLimiterRes } from 'rate-limiter-flexible';
import { DependencyUnavailableError } from '../errors.js';
import type { LimitBackend } from './backends.js';
import type { LimitDecision, RateLimit } from './types.js';

export interface FixedWindowOptions {
  /** Short name, also the counter's key prefix: "sms_phone_h". */
  readonly name: string;
  readonly points: number;
  readonly windowSeconds: number;
  /**
   * true (the default): windows are aligned to the epoch (clock hours, UTC days) and chosen with
   * the caller's clock, so "until the window passes" means the end of this hour or day, and a fake
   * clock moves it in tests. false: the window starts at the key's first use (used-token memory).
   */
  readonly aligned?: boolean;
}

/**
 * A fixed-window rule on a rate-limiter-flexible limiter. Each window has its own counter key
 * (`key@windowIndex`), so a new window starts at zero whatever the store's own expiry says; the
 * store's TTL only cleans up. The known cost of fixed windows: at a boundary a client may use up
 * to twice the points in a short span (docs/security.md counts with it).
 */
export function fixedWindowLimit(backend: LimitBackend, options: FixedWindowOptions): RateLimit {
  const aligned = options.aligned ?? true;
  const windowMs = options.windowSeconds * 1000;
  const limiter = backend.limiter({ keyPrefix: options.name, points: options.points, duration: options.windowSeconds });

  const counterKeyOf = (key: string, now: number) => (aligned ? `${key}@${Math.floor(now / windowMs)}` : key);
  return {
    name: options.name,
    points: options.points,
    windowSeconds: options.windowSeconds,
    async take(key, now): Promise<LimitDecision> {
      const index = Math.floor(now / windowMs);
      const counterKey = aligned ? `${key}@${index}` : key;
      const retryAfterMs = (res: RateLimiterRes) => (aligned ? (index + 1) * windowMs - now : Math.max(res.msBeforeNext, 1000));
      try {
        const res = await limiter.consume(counterKey, 1);
        return {
          allowed: true,
          remaining: res.remainingPoints,
          release: async () => {
            await limiter.reward(counterKey, 1);
          },
        };
      } catch (err) {
        // rate-limiter-flexible rejects with a RateLimiterRes when the points are spent, with an Error when the store fails.
        if (err instanceof RateLimiterRes) {
          // A refused consume still incremented the counter. Give that back, or refusals would pile up
          // over the limit and points released later (a failed captcha, say) would never free a slot.
          await limiter.reward(counterKey, 1).catch(() => undefined);
          return { allowed: false, retryAfterMs: retryAfterMs(err) };
        }
        // The counter store did not answer: 503, and the request fails closed.
        throw new DependencyUnavailableError(`limit store (${backend.name})`, { cause: err });
      }
    },
    async used(key, now) {
      try {
        return (await limiter.get(counterKeyOf(key, now)))?.consumedPoints ?? 0;
      } catch (err) {
        throw new DependencyUnavailableError(`limit store (${backend.name})`, { cause: err });
      }
    },
  } satisfies RateLimit;
}
