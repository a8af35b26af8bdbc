/**
 * Where short-lived verification state lives: pending codes (with their cooldown and attempt
 * counter) and captcha answers. Each method is one atomic step, so two requests, or two
 * instances, can never both win a race. Implementations: memory, SQLite, Redis and PostgreSQL;
 * test/stores/*.conformance.ts runs the same suite against each.
 *
 * Times are epoch milliseconds passed in by the caller, so a fake clock drives expiry in tests.
 */

/** Identifies one pending code: one per phone and purpose. */
export interface CodeKey {
  readonly phone: string;
  readonly purpose: string;
}

export interface PendingCode {
  /** Keyed hash of the code (see Hasher.code); the code itself is never stored. */
  readonly codeHash: string;
  /** After this instant the code is expired. */
  readonly expiresAt: number;
  /** Before this instant no new code may be sent for the same key. */
  readonly resendAt: number;
  /** Wrong tries so far. */
  readonly attempts: number;
}

export type BeginSendResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export type CheckResult =
  | { readonly outcome: 'valid'; readonly consumed: PendingCode }
  | { readonly outcome: 'missing' }
  | { readonly outcome: 'expired' }
  | { readonly outcome: 'exhausted' }
  | { readonly outcome: 'wrong'; readonly attemptsLeft: number };

export interface CodeStore {
  /**
   * Starts a send: refuses while the key's cooldown runs; otherwise replaces any pending code
   * with `pending` (attempts reset) and starts the cooldown, in one step.
   */
  beginSend(key: CodeKey, pending: PendingCode, now: number): Promise<BeginSendResult>;
  /**
   * Undoes a beginSend whose SMS did not go out: removes the code and its cooldown, but only if
   * the pending code is still the one with `codeHash` (a newer send is left alone).
   */
  abortSend(key: CodeKey, codeHash: string): Promise<void>;
  /**
   * Checks a candidate: a match consumes the code (exactly one caller can get 'valid');
   * a mismatch counts an attempt; at `maxAttempts` wrong tries the code is burned.
   */
  check(key: CodeKey, candidateHash: string, now: number, maxAttempts: number): Promise<CheckResult>;
  /**
   * Puts a consumed code back when the action it authorized failed on our side, unless a
   * newer code has been sent meanwhile.
   */
  restore(key: CodeKey, pending: PendingCode, now: number): Promise<void>;
}

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
