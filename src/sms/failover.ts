import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import type { Logger } from '../domain/logger.js';
import { maskPhone } from '../domain/phone.js';
import { SmsSendError, type SmsProvider } from './provider.js';

export interface FailoverOptions {
  /**
   * The whole send's budget (SMS_PROVIDER_TIMEOUT_MS). Each attempt may use the time left divided
   * by the providers left, so a hung first provider still leaves the next one its share.
   */
  readonly timeoutMs: number;
  /** Consecutive failures that open a provider's circuit, and how long it stays open before a probe. */
  readonly breaker: { readonly failures: number; readonly halfOpenAfterMs: number };
  readonly log: Logger;
  /** Told when a provider's circuit opens (true) or closes again (false), for the metrics. */
  readonly onCircuitChange?: ((provider: string, open: boolean) => void) | undefined;
}

/** A verdict about the number or its limits: another provider would be told the same, and the provider is healthy. */
const isVerdictAboutNumber = (err: SmsSendError) => err.kind === 'invalid_number' || err.kind === 'rate_limited';

function asSendError(err: unknown, provider: string): SmsSendError {
  if (err instanceof SmsSendError) return err;
  if (err instanceof BrokenCircuitError) {
    return new SmsSendError('unavailable', `${provider}: circuit open after repeated failures, skipped`, { providerCode: 'circuit_open' });
  }
  return new SmsSendError('unavailable', `${provider}: unexpected error`, { cause: err });
}

/** Settles with `work`, or fails when `signal` aborts first: a provider that ignores its signal cannot hold up the next one. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, provider: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SmsSendError('unavailable', `${provider}: no answer within its share of the deadline`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Tries providers in order until one accepts the message. A failure another provider could fix
 * (network, timeout, 5xx, auth, template, balance, open circuit) moves on; a verdict about the
 * number (`invalid_number`) or its limits (`rate_limited`) is the answer. Each provider has its own
 * circuit breaker (cockatiel): after `failures` consecutive failures it is skipped for
 * `halfOpenAfterMs`, then one send probes it.
 */
export function failoverSmsProvider(providers: readonly SmsProvider[], options: FailoverOptions) {
  if (providers.length === 0) throw new Error('failoverSmsProvider needs at least one provider');
  const guarded = providers.map((provider) => {
    const breaker = circuitBreaker(
      // Only failures that say something about the provider count against it.
      handleWhen((err) => !(err instanceof SmsSendError && isVerdictAboutNumber(err))),
      { halfOpenAfter: options.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breaker.failures) },
    );
    breaker.onBreak(() => options.onCircuitChange?.(provider.name, true));
    breaker.onReset(() => options.onCircuitChange?.(provider.name, false));
    return { provider, breaker };
  });

  const noticeCapable = guarded.filter(({ provider }) => provider.sendsNotices !== false);
  return {
    name: providers.map((p) => p.name).join(','),
    ...(noticeCapable.length === 0 ? { sendsNotices: false } : {}),
    async send(message, signal) {
      const deadline = performance.now() + options.timeoutMs;
      // A notice skips template-only providers up front: their refusal says nothing about their
      // health, and counting it would let notices open the circuit that real codes need.
      const refusals: string[] = [];
      const candidates = (message.kind === 'notice' ? noticeCapable : guarded).filter(({ provider }) => {
        const refusal = provider.refusesDestination?.(message.to);
        if (refusal) refusals.push(refusal);
        return refusal === undefined;
      });
      if (candidates.length === 0) {
        throw new SmsSendError('rejected', refusals.length > 0 ? refusals.join('; ') : 'no configured provider can send a notice without a code');
      }
      let lastFailure: SmsSendError | undefined;
      for (const [index, { provider, breaker }] of candidates.entries()) {
        if (signal.aborted) break;
        const share = Math.max(1, Math.floor((deadline - performance.now()) / (candidates.length - index)));
        const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(share)]);
        try {
          return await breaker.execute(() => untilAborted(provider.send(message, attemptSignal), attemptSignal, provider.name));
        } catch (err) {
          const failure = asSendError(err, provider.name);
          if (isVerdictAboutNumber(failure)) throw failure;
          lastFailure = failure;
          if (index < candidates.length - 1) {
            options.log.warn(
              {
                provider: provider.name,
                phone: maskPhone(message.to),
                purpose: message.purpose,
                kind: failure.kind,
                providerCode: failure.providerCode,
                requestId: failure.requestId,
                reason: failure.message,
              },
              'sms provider failed, trying the next one',
            );
          }
        }
      }
      throw lastFailure ?? new SmsSendError('unavailable', 'the send was aborted before any provider answered');
    },
  } satisfies SmsProvider;
}
