/**
 * Where short-lived verification state lives: pending codes (with their cooldown and attempt
 * counter) and captcha answers. Each method is one atomic step, so two requests, or two
 * instances, can never both win a race. Implementations: memory, SQLite, Redis and PostgreSQL;
 * test/stores/*.conformance.ts runs the same suite against each.
 *
 * Times are epoch milliseconds passed in by the caller, so a fake clock drives expiry in tests.
 */

export type { BeginSendResult, CheckResult, CodeKey, CodeStore, PendingCode } from '../domain/ports.js';

export interface CaptchaStore {
  /** Keeps a captcha's answer hash until `expiresAt`; `now` is the caller's clock, as for codes. */
  put(id: string, answerHash: string, expiresAt: number, now: number): Promise<void>;
  /** Removes the captcha and returns its answer hash if it had not expired: first use burns it. */
  take(id: string, now: number): Promise<string | undefined>;
}

/** Something a readiness probe can ask. */
export interface HealthCheck {
  readonly name: string;
  ping(): Promise<void>;
}
