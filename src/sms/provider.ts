import type { Purpose } from '../config.js';

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
