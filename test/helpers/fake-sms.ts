import { SmsSendError, type SmsFailureKind, type SmsMessage, type SmsProvider } from '../../src/sms/provider.js';

/** A provider that keeps what it was asked to send, and can be told to fail or to hang. */
export interface RecordingSmsProvider extends SmsProvider {
  readonly sent: SmsMessage[];
  /** The code in the last message to `phone` (E.164). */
  lastCode(phone: string): string;
  /** Fail every send with this kind until cleared with undefined. */
  failWith(kind: SmsFailureKind | 'hang' | undefined): void;
}

export function recordingSmsProvider(): RecordingSmsProvider {
  const sent: SmsMessage[] = [];
  let failure: SmsFailureKind | 'hang' | undefined;
  return {
    name: 'recording',
    sent,
    failWith(kind) {
      failure = kind;
    },
    lastCode(phone) {
      const last = sent.filter((m) => m.to === phone).at(-1);
      if (!last) throw new Error(`no SMS was sent to ${phone}`);
      return last.code;
    },
    async send(message, signal) {
      if (failure === 'hang') {
        return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      if (failure) throw new SmsSendError(failure, `told to fail with ${failure}`, { providerCode: 'Fake.Failure', requestId: 'req-fake' });
      sent.push(message);
      return { providerMessageId: `fake-${sent.length}` };
    },
  };
}
