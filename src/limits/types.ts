/**
 * Counters that make abuse expensive. The domain asks a `RateLimit` whether one more use of a
 * key is allowed; it never learns where the counters live (memory, the SQLite file, Redis).
 *
 * Times are epoch milliseconds passed in by the caller, so a fake clock moves the windows in tests.
 */

/** What `take` answers. `release` gives the use back when what it counted did not happen. */
export type LimitDecision =
  | { readonly allowed: true; readonly remaining: number; release(): Promise<void> }
  | { readonly allowed: false; readonly retryAfterMs: number };

/** One rule: at most `points` uses per key in each window. */
export interface RateLimit {
  readonly name: string;
  readonly points: number;
  readonly windowSeconds: number;
  /**
   * Counts one use of `key`, atomically (two callers can never both get the last point, even on
   * two instances sharing Redis). Refused once the window's points are spent.
   */
  take(key: string, now: number): Promise<LimitDecision>;
  /** Points of `key` used in the window holding `now`, without taking one (the daily budget gauge). */
  used(key: string, now: number): Promise<number>;
}

/** Every rule the service enforces, built from the config by `createLimits`. */
export interface Limits {
  readonly smsPerPhoneHourly: RateLimit;
  readonly smsPerPhoneDaily: RateLimit;
  readonly smsPerIpHourly: RateLimit;
  readonly smsPerPrefixHourly: RateLimit;
  /** Undefined when SMS_DAILY_BUDGET=0. The key is ignored: one budget for the whole service. */
  readonly smsDailyBudget: RateLimit | undefined;
  readonly checksPerIpHourly: RateLimit;
  readonly captchasPerIpHourly: RateLimit;
  /** Wrong codes per phone and purpose, across resends. */
  readonly failedChecksPerPhoneHourly: RateLimit;
  /** Wrong second factors or re-entered passwords per user (same budget as failed checks). */
  readonly failedSecondFactorPerUserHourly: RateLimit;
  /** Wrong passwords at sign-in per client IP, and per number. */
  readonly failedLoginsPerIpHourly: RateLimit;
  readonly failedLoginsPerPhoneHourly: RateLimit;
  /** One point per key for a token's lifetime: remembers used captcha tokens. */
  readonly usedCaptchaTokens: RateLimit;
  close(): Promise<void>;
}
