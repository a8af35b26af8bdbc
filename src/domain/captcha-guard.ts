import { AppError } from './errors.js';
import type { Captcha, CaptchaAnswer, RateLimit } from './ports.js';
import type { ClientContext } from './client.js';
import { rateLimited } from './limit-reservation.js';
import type { Logger } from './logger.js';

/** The human check in front of a send, with a per-IP budget of wrong answers. */
export interface CaptchaGuard {
  /**
   * Refuses, without touching any store, an answer that cannot be right (missing or malformed)
   * and a client already past its budget of wrong answers. Throws captcha_required,
   * captcha_invalid or rate_limited.
   */
  refuseEarly(answer: CaptchaAnswer, client: ClientContext): void;
  /** Verifies (and burns) the answer; a wrong one counts against the client's budget. */
  verify(answer: CaptchaAnswer, client: ClientContext): Promise<void>;
}

export interface CaptchaGuardDeps {
  readonly captcha: Captcha;
  /** Wrong answers per client (CAPTCHA_FAILURES_PER_IP_HOURLY). */
  readonly failures: RateLimit;
  /** The client's key for per-IP limits (its IPv4 address or IPv6 prefix). */
  readonly clientKey: (client: ClientContext) => string;
  readonly now: () => number;
  readonly log: Logger;
}

/** Clients remembered as past their budget; a flood from more is still refused, by the shared counter. */
const MAX_REMEMBERED = 50_000;

/**
 * A flood of made-up answers is the cheapest thing an attacker can send, so it must be the
 * cheapest thing to refuse (issue 10: it cost 7–11× /healthz and left limit rows behind). Shape
 * first, in memory. Then a client past its budget is refused from this process's memory of the
 * refusal, until the counter's window ends: no store is asked. Other instances learn it from
 * the shared counter at that client's next wrong answer.
 */
export function createCaptchaGuard(deps: CaptchaGuardDeps): CaptchaGuard {
  const blockedUntil = new Map<string, number>();

  function remember(key: string, until: number, now: number): void {
    if (blockedUntil.size >= MAX_REMEMBERED) {
      for (const [k, t] of blockedUntil) if (t <= now) blockedUntil.delete(k);
      // Still full: forget the oldest; the shared counter still refuses them at their next wrong answer.
      if (blockedUntil.size >= MAX_REMEMBERED) blockedUntil.delete(blockedUntil.keys().next().value!);
    }
    blockedUntil.set(key, until);
  }

  return {
    refuseEarly(answer, client) {
      deps.captcha.precheck?.(answer);
      const key = deps.clientKey(client);
      const until = blockedUntil.get(key);
      if (until === undefined) return;
      const now = deps.now();
      if (until > now) throw rateLimited({ retryAfterMs: until - now });
      blockedUntil.delete(key);
    },

    async verify(answer, client) {
      try {
        await deps.captcha.verify({ ...answer, remoteIp: client.ip });
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'captcha_invalid') throw err;
        const now = deps.now();
        const key = deps.clientKey(client);
        const counted = await deps.failures.take(key, now);
        if (!counted.allowed) {
          remember(key, now + counted.retryAfterMs, now);
          deps.log.warn({ limit: deps.failures.name }, 'client past its budget of wrong captcha answers: its sends are refused until the window ends');
          throw rateLimited(counted);
        }
        throw err;
      }
    },
  };
}
