/**
 * Every port the domain uses, declared here so that adapters import the domain and never the
 * reverse (test/architecture.test.ts fails the run when a file under src/domain imports from
 * outside it). Implementations: src/stores (codes), src/limits (counters), src/sms (providers),
 * src/captcha, src/db (repositories and logs).
 */
import type { CaptchaKind, Purpose } from './purposes.js';

/** The clock every time-dependent rule reads: epoch milliseconds, a fake one in tests. */
export type Clock = () => number;

// ---- Code store -------------------------------------------------------------------------------
// Where pending codes live (with their cooldown and attempt counter). Each method is one atomic
// step, so two requests, or two instances, can never both win a race. Times are epoch
// milliseconds passed in by the caller.

/** Identifies one pending code: one per phone and scope (a purpose, or a Verify service). */
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


// ---- Limits ----------------------------------------------------------------------------------
// Counters that make abuse expensive; the domain never learns where they live.

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
  /** Wrong captcha answers per client IP; past it the client's sends are refused at once. */
  readonly failedCaptchasPerIpHourly: RateLimit;
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

// ---- SMS sender --------------------------------------------------------------------------------

/** One message to deliver: a verification code, or a notice that carries no code. */
export interface SmsMessage {
  /** E.164 number. */
  readonly to: string;
  readonly purpose: Purpose;
  /** Absent means 'code'. A 'notice' (e.g. "your number was changed") has an empty `code`; send its `text`. */
  readonly kind?: 'code' | 'notice';
  /** The code, for providers whose templates take it as a parameter (Tencent, Aliyun). Empty for a notice. */
  readonly code: string;
  /** Minutes the code stays valid, the second template parameter in Chinese SMS templates. */
  readonly ttlMinutes: number;
  /** The full text, for providers that send free text (console, Twilio). */
  readonly text: string;
  /** Our id for this message, echoed by providers that support it. */
  readonly messageId: string;
}

export interface SmsSendReceipt {
  /** The provider's id for the message (Tencent SerialNo, Aliyun BizId, Twilio sid). */
  readonly providerMessageId?: string;
  /** Billed SMS count, when the provider says at send time (Tencent's Fee). */
  readonly fee?: number;
}

/**
 * Delivers verification messages. A provider resolves only when the provider accepted the
 * message, and otherwise rejects with an SmsSendError saying which kind of failure it was.
 */
export interface SmsProvider {
  readonly name: string;
  /**
   * false for template-only providers (Tencent, Aliyun), which cannot carry a notice without a code.
   * Failover skips them for notices without counting it against their circuit. Absent means true.
   */
  readonly sendsNotices?: boolean;
  /**
   * Why this provider, as configured, cannot send to `to` (Tencent without an international
   * template for a number outside +86), or undefined when it can. Failover skips it there without
   * counting it against its circuit, as for notices.
   */
  readonly refusesDestination?: (to: string) => string | undefined;
  send(message: SmsMessage, signal: AbortSignal): Promise<SmsSendReceipt>;
}

/**
 * Why a send failed, which decides what the client is told and whether another provider could help:
 * - `invalid_number`: the provider says the number is wrong or barred (client: invalid_phone)
 * - `rate_limited`: the provider's own per-number limits (client: rate_limited)
 * - `rejected`: the provider refused for a reason of ours: auth, template, balance (client: sms_send_failed)
 * - `unavailable`: network error, timeout, 5xx or a body we cannot read (client: sms_send_failed)
 */
export type SmsFailureKind = 'invalid_number' | 'rate_limited' | 'rejected' | 'unavailable';

export class SmsSendError extends Error {
  override name = 'SmsSendError';
  readonly kind: SmsFailureKind;
  /** The provider's own error code, for the log only. */
  readonly providerCode: string | undefined;
  /** The provider's request id, for the log only. */
  readonly requestId: string | undefined;

  constructor(
    kind: SmsFailureKind,
    message: string,
    options: { providerCode?: string; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.providerCode = options.providerCode;
    this.requestId = options.requestId;
  }
}

// ---- Captcha -----------------------------------------------------------------------------------

/** What GeeTest v4's widget hands the page after a pass, sent on as `geetest`. */
export interface GeetestAnswer {
  readonly lot_number: string;
  readonly captcha_output: string;
  readonly pass_token: string;
  readonly gen_time: string;
}

/** What the client answered (fields of POST /api/sms/send). */
export interface CaptchaAnswer {
  readonly captchaId?: string | undefined;
  readonly captchaAnswer?: string | undefined;
  /** The Turnstile / hCaptcha widget's token, or Tencent Captcha's ticket. */
  readonly captchaToken?: string | undefined;
  /** Tencent Captcha's randstr, which goes with its ticket. */
  readonly captchaRandstr?: string | undefined;
  /** The four values GeeTest v4's widget returns. */
  readonly geetest?: GeetestAnswer | undefined;
  /** The client's IP, passed on to siteverify as `remoteip`. */
  readonly remoteIp?: string | undefined;
}

export interface CaptchaChallenge {
  readonly captchaId: string;
  /** A PNG image as a data: URL, ready for <img src>. */
  readonly image: string;
  /** Seconds until the challenge expires. */
  readonly expiresIn: number;
}

/**
 * The human check in front of every SMS send. `verify` burns the challenge whatever the outcome
 * and throws captcha_required or captcha_invalid.
 */
export interface Captcha {
  readonly kind: CaptchaKind;
  /** The public key the page's widget needs (Turnstile, hCaptcha, Tencent's app id, GeeTest's captcha_id). */
  readonly siteKey?: string;
  /** Issues a new challenge; undefined for kinds that have none to issue. */
  readonly create?: () => Promise<CaptchaChallenge>;
  verify(answer: CaptchaAnswer): Promise<void>;
  /**
   * Throws captcha_required / captcha_invalid for an answer that cannot be right, from its shape
   * alone: no store, no network. Run before anything else a send does, so the cheapest requests
   * of a flood are refused at the cheapest point.
   */
  readonly precheck?: (answer: CaptchaAnswer) => void;
}


// ---- Verification events -----------------------------------------------------------------------

/** A code went out: the provider accepted the SMS. */
export interface CodeSentEvent {
  readonly scope: string;
  readonly phone: string;
  readonly at: number;
  /** The Verify API's verification sid, when the send came through it. */
  readonly verificationSid?: string | undefined;
}

/** A code was checked and matched (consumed); exactly one such event per code. */
export interface CodeApprovedEvent {
  readonly scope: string;
  readonly phone: string;
  readonly at: number;
  readonly verificationSid?: string | undefined;
}

/**
 * Observers of the engine: a fraud guard counting sends against verified codes per prefix,
 * webhooks (`verification.approved`), metrics. The engine awaits them after the fact it reports,
 * so an observer can never change an outcome; a throwing observer is logged and ignored.
 */
export interface VerificationEvents {
  codeSent?(event: CodeSentEvent): Promise<void> | void;
  codeApproved?(event: CodeApprovedEvent): Promise<void> | void;
}
