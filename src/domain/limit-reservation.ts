import { AppError, type RefusalReason } from './errors.js';
import type { LimitDecision, RateLimit } from './ports.js';
import type { Logger } from './logger.js';

/** The 429 a refused limit answers, with the wait in whole seconds (at least one). */
export function rateLimited(refusal: { retryAfterMs: number }, reason: RefusalReason = 'limit'): AppError {
  return new AppError('rate_limited', { retryAfter: Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)) }, { reason });
}

export type Reservation = { release(): Promise<void> };

/**
 * Takes one point from each rule in order. On the first refusal (or a store failure) it gives back
 * what it took, so a request that is turned away spends nobody's allowance.
 */
export async function reserveAll(
  rules: readonly (readonly [RateLimit, string])[],
  now: number,
  log: Logger,
): Promise<Reservation | { refusedBy: RateLimit; retryAfterMs: number }> {
  const taken: Extract<LimitDecision, { allowed: true }>[] = [];
  const releaseAll = async () => {
    await Promise.all(taken.map((t) => t.release().catch((err: unknown) => log.error({ err }, 'could not release a limit point'))));
  };
  for (const [rule, key] of rules) {
    let decision: LimitDecision;
    try {
      decision = await rule.take(key, now);
    } catch (err) {
      await releaseAll();
      throw err;
    }
    if (!decision.allowed) {
      await releaseAll();
      return { refusedBy: rule, retryAfterMs: decision.retryAfterMs };
    }
    taken.push(decision);
  }
  return { release: releaseAll };
}
