import { uuidv7 } from '../domain/ids.js';
import type { Purpose } from '../config.js';
import type { Logger } from '../domain/logger.js';
import { maskPhone } from '../domain/phone.js';
import { SmsSendError, type SmsProvider } from './provider.js';

/** sent: the provider accepted it; failed: it did not; delivered / undelivered: the provider's later report. */
export type SmsMessageStatus = 'sent' | 'failed' | 'delivered' | 'undelivered';

/** One provider attempt to deliver one message. Never holds the code or the text. */
export interface SmsMessageRecord {
  /** This attempt's id. */
  readonly id: string;
  /** Our id for the message; attempts on several providers (failover) share it. */
  readonly messageId: string;
  readonly provider: string;
  /** Tencent SerialNo, Aliyun BizId, Twilio sid. */
  readonly providerMessageId: string | undefined;
  /** E.164. */
  readonly phone: string;
  readonly purpose: Purpose;
  readonly status: SmsMessageStatus;
  /** The provider's error code (or our failure kind when the provider never answered). */
  readonly errorCode: string | undefined;
  /** Billed SMS count, when the provider says. */
  readonly fee: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A provider's delivery report for one message. */
export interface DeliveryReport {
  readonly provider: string;
  readonly providerMessageId: string;
  readonly delivered: boolean;
  /** The carrier's or provider's status code, e.g. DELIVRD or MK:0005. */
  readonly errorCode: string | undefined;
}

/** The message log (table sms_messages): every provider attempt and what became of it. */
export interface SmsMessageLog {
  record(entry: SmsMessageRecord): Promise<void>;
  /** Applies a delivery report; resolves to the number of messages it matched (0 for an id we never saw). */
  applyDeliveryReport(report: DeliveryReport, now: number): Promise<number>;
  /** The message a provider id names, for support and tests. */
  findByProviderMessageId(provider: string, providerMessageId: string): Promise<SmsMessageRecord | undefined>;
}

/**
 * Wraps a provider so each attempt lands in the message log, outside the domain. A log write
 * that fails is logged and swallowed: the SMS has gone out (or not) either way, and failing the
 * send would throw away a code the person is about to receive.
 */
export function recordedSmsProvider(provider: SmsProvider, messages: SmsMessageLog, deps: { now: () => number; log: Logger }) {
  async function write(entry: Omit<SmsMessageRecord, 'id' | 'provider' | 'createdAt' | 'updatedAt'>): Promise<void> {
    const now = deps.now();
    try {
      await messages.record({ ...entry, id: uuidv7(now), provider: provider.name, createdAt: now, updatedAt: now });
    } catch (err) {
      deps.log.error({ err, provider: provider.name, phone: maskPhone(entry.phone) }, 'could not write the sms message log');
    }
  }

  return {
    name: provider.name,
    ...(provider.sendsNotices === false ? { sendsNotices: false } : {}),
    ...(provider.refusesDestination ? { refusesDestination: provider.refusesDestination } : {}),
    async send(message, signal) {
      const base = { messageId: message.messageId, phone: message.to, purpose: message.purpose };
      try {
        const receipt = await provider.send(message, signal);
        await write({ ...base, providerMessageId: receipt.providerMessageId, status: 'sent', errorCode: undefined, fee: receipt.fee });
        return receipt;
      } catch (err) {
        const errorCode = err instanceof SmsSendError ? (err.providerCode ?? err.kind) : 'unexpected_error';
        await write({ ...base, providerMessageId: undefined, status: 'failed', errorCode, fee: undefined });
        throw err;
      }
    },
  } satisfies SmsProvider;
}
