import { randomUUID } from 'node:crypto';
import type { Captcha, CaptchaAnswer } from '../captcha/captcha.js';
import type { Purpose } from '../config.js';
import { AppError } from '../errors.js';
import type { SmsProvider } from '../sms/provider.js';
import { SmsSendError } from '../sms/provider.js';
import { verificationText } from '../sms/templates.js';
import type { CodeStore, PendingCode } from '../stores/types.js';
import { generateCode, type Hasher } from './codes.js';
import type { Logger } from './logger.js';
import { maskPhone, normalizePhone, type E164 } from './phone.js';

export interface CodeSettings {
  readonly length: number;
  readonly ttlSeconds: number;
  readonly resendCooldownSeconds: number;
  readonly maxAttempts: number;
}

export interface VerificationDeps {
  readonly codes: CodeStore;
  readonly captcha: Captcha;
  readonly sms: SmsProvider;
  readonly hasher: Hasher;
  /** Whether a number has an account, for the per-purpose send rules. */
  readonly isRegistered: (phone: E164) => Promise<boolean>;
  readonly settings: CodeSettings & {
    readonly appName: string;
    readonly defaultRegion: string;
    /** A provider call that takes longer fails as sms_send_failed. */
    readonly providerTimeoutMs: number;
  };
  readonly now: () => number;
  readonly log: Logger;
}

export interface SendRequest extends CaptchaAnswer {
  /** As the person typed it. */
  readonly phone: string;
  readonly purpose: Purpose;
  /** The signed-in user, when there is one (required for change_phone). */
  readonly userId?: string | undefined;
}

export interface SendResult {
  readonly phone: E164;
  /** Seconds the code stays valid. */
  readonly expiresIn: number;
  /** Seconds until another code may be requested. */
  readonly resendAfter: number;
}

/** A code that was checked and consumed; `restore` puts it back if what it authorized then failed on our side. */
export interface ConsumedCode {
  restore(): Promise<void>;
}

export interface VerificationService {
  send(request: SendRequest): Promise<SendResult>;
  /** Checks a code once, atomically; throws code_invalid / code_expired / code_attempts_exceeded. */
  consume(phone: E164, purpose: Purpose, code: string): Promise<ConsumedCode>;
}

const SMS_FAILURE_TO_ERROR = {
  invalid_number: 'invalid_phone',
  rate_limited: 'rate_limited',
  rejected: 'sms_send_failed',
  unavailable: 'sms_send_failed',
} as const;

/**
 * Step 2 and the check of step 3 of the protocol: issue a code only to a person, for an allowed
 * purpose, outside the cooldown, and report success only once the provider accepted the SMS.
 */
export function createVerificationService(deps: VerificationDeps): VerificationService {
  const { codes, hasher, settings, log } = deps;

  async function enforcePurposeRules(phone: E164, purpose: Purpose, userId: string | undefined): Promise<void> {
    if (purpose === 'change_phone' && !userId) throw new AppError('unauthorized');
    const registered = await deps.isRegistered(phone);
    if ((purpose === 'register' || purpose === 'change_phone') && registered) {
      throw new AppError('phone_taken', { field: 'phone' });
    }
    if ((purpose === 'login' || purpose === 'reset_password') && !registered) {
      throw new AppError('phone_not_registered', { field: 'phone' });
    }
  }

  async function deliver(phone: E164, purpose: Purpose, code: string): Promise<void> {
    const ttlMinutes = Math.max(1, Math.round(settings.ttlSeconds / 60));
    const message = {
      to: phone,
      purpose,
      code,
      ttlMinutes,
      text: verificationText(settings.appName, purpose, code, ttlMinutes),
      messageId: randomUUID(),
    };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The provider gets the signal, and the race guarantees the deadline even if it ignores it.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SmsSendError('unavailable', `provider ${deps.sms.name} timed out after ${settings.providerTimeoutMs} ms`));
      }, settings.providerTimeoutMs);
    });
    try {
      await Promise.race([deps.sms.send(message, controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async send({ phone: rawPhone, purpose, userId, ...captchaAnswer }) {
      // Format first: a typo in the number should not cost the person their captcha.
      const phone = normalizePhone(rawPhone, settings.defaultRegion);
      // The captcha comes before anything that reveals whether the number has an account.
      await deps.captcha.verify(captchaAnswer);
      await enforcePurposeRules(phone, purpose, userId);

      const code = generateCode(settings.length);
      const now = deps.now();
      const pending: PendingCode = {
        codeHash: hasher.code(purpose, phone, code),
        expiresAt: now + settings.ttlSeconds * 1000,
        resendAt: now + settings.resendCooldownSeconds * 1000,
        attempts: 0,
      };
      // Storing before sending, with the cooldown, is what makes ten simultaneous sends one SMS.
      const begun = await codes.beginSend({ phone, purpose }, pending, now);
      if (!begun.ok) throw new AppError('rate_limited', { retryAfter: Math.ceil(begun.retryAfterMs / 1000) });

      try {
        await deliver(phone, purpose, code);
      } catch (err) {
        // No SMS, so no valid code and no cooldown may remain.
        await codes.abortSend({ phone, purpose }, pending.codeHash);
        const failure =
          err instanceof SmsSendError ? err : new SmsSendError('unavailable', 'provider threw an unexpected error', { cause: err });
        log.warn(
          {
            provider: deps.sms.name,
            phone: maskPhone(phone),
            purpose,
            kind: failure.kind,
            providerCode: failure.providerCode,
            requestId: failure.requestId,
            reason: failure.message,
          },
          'sms send failed',
        );
        throw new AppError(SMS_FAILURE_TO_ERROR[failure.kind], failure.kind === 'invalid_number' ? { field: 'phone' } : {});
      }
      log.info({ provider: deps.sms.name, phone: maskPhone(phone), purpose }, 'sms sent');
      return { phone, expiresIn: settings.ttlSeconds, resendAfter: settings.resendCooldownSeconds };
    },

    async consume(phone, purpose, code) {
      const key = { phone, purpose };
      const result = await codes.check(key, hasher.code(purpose, phone, code), deps.now(), settings.maxAttempts);
      switch (result.outcome) {
        case 'valid':
          return { restore: () => codes.restore(key, result.consumed, deps.now()) };
        case 'wrong':
          log.info({ phone: maskPhone(phone), purpose, attemptsLeft: result.attemptsLeft }, 'wrong code');
          throw new AppError('code_invalid', { field: 'code', attemptsLeft: result.attemptsLeft });
        case 'missing':
          throw new AppError('code_invalid', { field: 'code' });
        case 'expired':
          throw new AppError('code_expired', { field: 'code' });
        case 'exhausted':
          throw new AppError('code_attempts_exceeded', { field: 'code' });
      }
    },
  };
}
