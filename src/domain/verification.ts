import type { AuditLog } from './audit.js';
import { createCaptchaGuard } from './captcha-guard.js';
import { ipLimitKey, UNKNOWN_CLIENT, type ClientContext } from './client.js';
import type { Hasher } from './codes.js';
import { type ConsumedCode, type EngineSettings, type VerificationEngine, type VerificationPolicy } from './engine.js';
import { AppError } from './errors.js';
import { rateLimited } from './limit-reservation.js';
import type { Logger } from './logger.js';
import { alreadyRegisteredText, notRegisteredText, verificationText, type SmsLocale } from './messages.js';
import { normalizePhone, type E164 } from './phone.js';
import type { Captcha, CaptchaAnswer, CaptchaChallenge, CodeStore, Limits, SmsProvider, VerificationEvents } from './ports.js';
import type { Purpose } from './purposes.js';

export type { ConsumedCode } from './engine.js';

export interface CodeSettings {
  readonly length: number;
  readonly ttlSeconds: number;
  readonly resendCooldownSeconds: number;
  readonly maxAttempts: number;
}

export interface VerificationDeps {
  /** The engine the sign-up protocol issues and checks its codes with (shared with the Verify API). */
  readonly engine: VerificationEngine;
  readonly codes: CodeStore;
  readonly captcha: Captcha;
  readonly sms: SmsProvider;
  readonly hasher: Hasher;
  /** The account of a number, if any: for the per-purpose send rules and the audit rows. */
  readonly accountIdOf: (phone: E164) => Promise<string | undefined>;
  /** Abuse limits (src/limits); the domain only sees the counters, not where they live. */
  readonly limits: Limits;
  readonly audit: AuditLog;
  readonly events?: VerificationEvents | undefined;
  readonly settings: CodeSettings &
    EngineSettings & {
      readonly appName: string;
      readonly defaultRegion: string;
      /** strict: send answers alike whether or not the number has an account. */
      readonly privacyMode: 'explicit' | 'strict';
      /** Leading bits of an IPv6 address that per-IP limits count as one client (IPV6_LIMIT_PREFIX). */
      readonly ipv6LimitPrefix?: number | undefined;
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
  /** Who asked: the IP for the per-IP limits, both for the audit log. */
  readonly client?: ClientContext | undefined;
  /** The language of the page that asked: the SMS text is written in it. */
  readonly locale?: SmsLocale | undefined;
}

export interface SendResult {
  readonly phone: E164;
  /** Seconds the code stays valid. */
  readonly expiresIn: number;
  /** Seconds until another code may be requested. */
  readonly resendAfter: number;
}

export interface VerificationService {
  send(request: SendRequest): Promise<SendResult>;
  /**
   * Checks a code once, atomically; throws code_invalid / code_expired / code_attempts_exceeded,
   * or rate_limited past the per-IP check limit or the per-phone wrong-code budget.
   */
  consume(phone: E164, purpose: Purpose, code: string, client?: ClientContext, userId?: string): Promise<ConsumedCode>;
  /** A new image captcha, within the per-IP allowance; not_found when the kind has no challenge to issue. */
  issueCaptcha(client?: ClientContext): Promise<CaptchaChallenge>;
  /**
   * Sends a message without a code (e.g. "your number was changed"). It counts against the same
   * limits and budget as any SMS; a refusal or failure is logged, not thrown.
   */
  sendNotice(phone: E164, purpose: Purpose, text: string, client?: ClientContext): Promise<void>;
}

/**
 * A change_phone code is also bound to the account that asked for it, so another signed-in user
 * who learns it cannot attach the number.
 */
const bindingOf = (purpose: Purpose, userId: string | undefined) => (purpose === 'change_phone' ? userId : undefined);

/**
 * The sign-up protocol's use of the engine (steps 1 and 2): a code goes only to a person (the
 * captcha), for an allowed purpose (the account rules, or a decoy in strict privacy mode); the
 * engine does the rest. Scopes are the four purposes.
 */
export function createVerificationService(deps: VerificationDeps): VerificationService {
  const { settings, log } = deps;
  const { engine } = deps;
  const ipKey = (client: ClientContext) => ipLimitKey(client.ip, settings.ipv6LimitPrefix);
  const captchaGuard = createCaptchaGuard({
    captcha: deps.captcha,
    failures: deps.limits.failedCaptchasPerIpHourly,
    clientKey: ipKey,
    now: deps.now,
    log,
  });
  const policy: VerificationPolicy = {
    codeLength: settings.length,
    ttlSeconds: settings.ttlSeconds,
    resendCooldownSeconds: settings.resendCooldownSeconds,
    maxAttempts: settings.maxAttempts,
  };

  /**
   * The per-purpose send rules. In explicit mode a mismatch is an error; in strict mode it returns
   * the notice to send instead of a code, so the HTTP answer is the same for every number.
   * Also answers the number's account id, so the audit row needs no second lookup.
   */
  async function enforcePurposeRules(
    phone: E164,
    purpose: Purpose,
    userId: string | undefined,
  ): Promise<{ notice: string | undefined; ownerId: string | undefined }> {
    if (purpose === 'change_phone' && !userId) throw new AppError('unauthorized');
    const ownerId = await deps.accountIdOf(phone);
    const registered = ownerId !== undefined;
    if ((purpose === 'register' || purpose === 'change_phone') && registered) {
      if (settings.privacyMode === 'strict') return { notice: alreadyRegisteredText(settings.appName), ownerId };
      throw new AppError('phone_taken', { field: 'phone' });
    }
    if ((purpose === 'login' || purpose === 'reset_password') && !registered) {
      if (settings.privacyMode === 'strict') return { notice: notRegisteredText(settings.appName, purpose), ownerId };
      throw new AppError('phone_not_registered', { field: 'phone' });
    }
    return { notice: undefined, ownerId };
  }

  return {
    async send({ phone: rawPhone, purpose, userId, client = UNKNOWN_CLIENT, locale, ...captchaAnswer }) {
      // A missing or malformed captcha answer, or a client past its budget of wrong answers, is
      // refused before any store is touched: that is what a flood sends.
      captchaGuard.refuseEarly(captchaAnswer, client);
      // Format first: a typo in the number should not cost the person their captcha.
      const phone = normalizePhone(rawPhone, settings.defaultRegion);
      const issued = await engine.issue({
        scope: purpose,
        phone,
        binding: bindingOf(purpose, userId),
        policy,
        client,
        userId,
        message: (code, ttlMinutes) => ({ purpose, text: verificationText(settings.appName, purpose, code, ttlMinutes, locale) }),
        // The captcha comes before anything that reveals whether the number has an account.
        admit: async () => {
          await captchaGuard.verify(captchaAnswer, client);
          return enforcePurposeRules(phone, purpose, userId);
        },
      }).catch((err: unknown) => {
        // Inside the cooldown the pending code still works: saying so keeps the person from waiting for nothing.
        if (err instanceof AppError && err.reason === 'cooldown') {
          throw new AppError('rate_limited', { ...err.details, reason: 'resend_cooldown' }, {
            message: 'A code was already sent to this number and is still valid; another can be requested after retryAfter seconds.',
            reason: 'cooldown',
          });
        }
        throw err;
      });
      return { phone, expiresIn: issued.expiresIn, resendAfter: issued.resendAfter };
    },

    consume(phone, purpose, code, client = UNKNOWN_CLIENT, userId) {
      return engine.check({
        scope: purpose,
        phone,
        binding: bindingOf(purpose, userId),
        code,
        maxAttempts: settings.maxAttempts,
        client,
        ownerOf: () => deps.accountIdOf(phone),
      });
    },

    async issueCaptcha(client = UNKNOWN_CLIENT) {
      if (!deps.captcha.create) throw new AppError('not_found', {}, { message: 'The image captcha is not in use.' });
      const allowance = await deps.limits.captchasPerIpHourly.take(ipKey(client), deps.now());
      if (!allowance.allowed) throw rateLimited(allowance);
      return deps.captcha.create();
    },

    sendNotice: (phone, purpose, text, client = UNKNOWN_CLIENT) => engine.sendNotice(phone, purpose, text, client),
  };
}
