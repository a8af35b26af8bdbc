import { randomUUID } from 'node:crypto';
import type { Captcha, CaptchaAnswer } from '../captcha/captcha.js';
import type { Purpose } from '../config.js';
import { AppError } from '../errors.js';
import type { SmsProvider } from '../sms/provider.js';
import { SmsSendError } from '../sms/provider.js';
import { alreadyRegisteredText, notRegisteredText } from '../sms/notice-templates.js';
import { verificationText } from '../sms/templates.js';
import type { CaptchaChallenge } from '../captcha/captcha.js';
import type { LimitDecision, Limits, RateLimit } from '../limits/types.js';
import type { CodeStore, PendingCode } from '../stores/types.js';
import type { AuditLog } from './audit.js';
import type { DeliveryGuard } from './fraud-guard.js';
import { ipLimitKey, UNKNOWN_CLIENT, type ClientContext } from './client.js';
import { generateCode, type Hasher } from './codes.js';
import type { Logger } from './logger.js';
import { rateLimited, reserveAll } from './limit-reservation.js';
import { maskPhone, normalizePhone, phonePrefix, phoneRegion, type E164 } from './phone.js';

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
  /** The account of a number, if any: for the per-purpose send rules and the audit rows. */
  readonly accountIdOf: (phone: E164) => Promise<string | undefined>;
  /** Abuse limits (src/limits); the domain only sees the counters, not where they live. */
  readonly limits: Limits;
  readonly audit: AuditLog;
  /** The SMS-pumping guard (src/domain/fraud-guard.ts): asked before a send, told of each SMS and each right code. */
  readonly guard?: DeliveryGuard | undefined;
  readonly settings: CodeSettings & {
    readonly appName: string;
    readonly defaultRegion: string;
    /** A provider call that takes longer fails as sms_send_failed. */
    readonly providerTimeoutMs: number;
    /** Regions SMS may go to, or '*'. */
    readonly allowedCountries: readonly string[] | '*';
    /** National digits that make a prefix for the per-prefix cap. */
    readonly prefixDigits: number;
    /** strict: send answers alike whether or not the number has an account. */
    readonly privacyMode: 'explicit' | 'strict';
    /** E.164 → fixed code: QA and app-store numbers that skip the provider and the limits. */
    readonly testPhoneNumbers: ReadonlyMap<string, string>;
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
  /**
   * Checks a code once, atomically; throws code_invalid / code_expired / code_attempts_exceeded,
   * or rate_limited past the per-IP check limit or the per-phone wrong-code budget.
   */
  consume(phone: E164, purpose: Purpose, code: string, client?: ClientContext, userId?: string): Promise<ConsumedCode>;
  /** A new image captcha, within the per-IP allowance; not_found when the kind has no challenge to issue. */
  issueCaptcha(client?: ClientContext): Promise<CaptchaChallenge>;
  /** Sends a message without a code (e.g. "your number was changed"). Failures are logged, not thrown. */
  sendNotice(phone: E164, purpose: Purpose, text: string): Promise<void>;
}

/**
 * What a code's hash is bound to besides the phone. A change_phone code is also bound to the
 * account that asked for it, so another signed-in user who learns it cannot attach the number.
 */
const hashScope = (purpose: Purpose, userId: string | undefined) =>
  purpose === 'change_phone' && userId ? `${purpose}\u0000${userId}` : purpose;

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

  /**
   * Every SMS counts against the sender's IP, the number (hour and day), the number's prefix and
   * the service's daily budget. Points are given back when no SMS goes out (captcha wrong, purpose
   * refused, cooldown, provider failure), so a bot cannot burn a stranger's allowance without
   * passing the captcha.
   */
  async function reserveSend(phone: E164, client: ClientContext, now: number): Promise<{ release(): Promise<void> }> {
    const { limits } = deps;
    const rules: [RateLimit, string][] = [
      [limits.smsPerIpHourly, ipLimitKey(client.ip)],
      [limits.smsPerPhoneHourly, phone],
      [limits.smsPerPhoneDaily, phone],
      [limits.smsPerPrefixHourly, phonePrefix(phone, settings.prefixDigits)],
    ];
    if (limits.smsDailyBudget) rules.push([limits.smsDailyBudget, 'all']);
    const result = await reserveAll(rules, now, log);
    if ('release' in result) return result;
    if (result.refusedBy === limits.smsDailyBudget) {
      log.error(
        { budget: result.refusedBy.points },
        'daily SMS budget exhausted: sending stopped until the next UTC day or SMS_DAILY_BUDGET is raised',
      );
      throw new AppError('service_unavailable');
    }
    log.info({ limit: result.refusedBy.name, phone: maskPhone(phone) }, 'send refused by a limit');
    throw rateLimited(result);
  }

  async function deliver(phone: E164, purpose: Purpose, code: string, notice?: string): Promise<void> {
    const ttlMinutes = Math.max(1, Math.round(settings.ttlSeconds / 60));
    const message = {
      to: phone,
      purpose,
      kind: notice === undefined ? ('code' as const) : ('notice' as const),
      code: notice === undefined ? code : '',
      ttlMinutes,
      text: notice ?? verificationText(settings.appName, purpose, code, ttlMinutes),
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
    async send({ phone: rawPhone, purpose, userId, client = UNKNOWN_CLIENT, ...captchaAnswer }) {
      // Format first: a typo in the number should not cost the person their captcha.
      const phone = normalizePhone(rawPhone, settings.defaultRegion);
      // SMS-pumping defence: nothing goes to a region the operator did not allow, and it costs no captcha.
      const region = phoneRegion(phone);
      if (settings.allowedCountries !== '*' && (!region || !settings.allowedCountries.includes(region))) {
        throw new AppError('region_not_allowed', { field: 'phone' });
      }
      const verifyCaptcha = () => deps.captcha.verify({ ...captchaAnswer, remoteIp: client.ip });

      const fixedCode = settings.testPhoneNumbers.get(phone);
      if (fixedCode !== undefined) {
        // A test number: the captcha and the purpose rules still apply, the limits, the cooldown and the provider do not.
        await verifyCaptcha();
        await enforcePurposeRules(phone, purpose, userId);
        const now = deps.now();
        const pending: PendingCode = {
          codeHash: hasher.code(hashScope(purpose, userId), phone, fixedCode),
          expiresAt: now + settings.ttlSeconds * 1000,
          resendAt: now,
          attempts: 0,
        };
        await codes.beginSend({ phone, purpose }, pending, now);
        log.info({ phone: maskPhone(phone), purpose }, 'test number: fixed code stored, no SMS sent');
        return { phone, expiresIn: settings.ttlSeconds, resendAfter: 0 };
      }

      // Fraud guard: a blocked destination costs no captcha, no limit points and no provider call.
      await deps.guard?.admit(phone);
      const reservation = await reserveSend(phone, client, deps.now());
      let code: string;
      let notice: string | undefined;
      let ownerId: string | undefined;
      let pending: PendingCode;
      try {
        // The captcha comes before anything that reveals whether the number has an account.
        await verifyCaptcha();
        ({ notice, ownerId } = await enforcePurposeRules(phone, purpose, userId));

        // With a notice, the stored code is one nobody is told: the number then behaves exactly like
        // one that got a real code (cooldown, attempts), so the API does not reveal which it was.
        code = generateCode(settings.length);
        const now = deps.now();
        pending = {
          codeHash: hasher.code(hashScope(purpose, userId), phone, code),
          expiresAt: now + settings.ttlSeconds * 1000,
          resendAt: now + settings.resendCooldownSeconds * 1000,
          attempts: 0,
        };
        // Storing before sending, with the cooldown, is what makes ten simultaneous sends one SMS.
        const begun = await codes.beginSend({ phone, purpose }, pending, now);
        if (!begun.ok) throw rateLimited(begun);
      } catch (err) {
        await reservation.release();
        throw err;
      }

      try {
        await deliver(phone, purpose, code, notice);
      } catch (err) {
        if (notice !== undefined) {
          // Strict privacy: an undelivered notice must answer exactly like a delivered code, or the
          // error itself would reveal that the number has (or lacks) an account. The stored code is
          // one nobody knows, so keeping it costs nothing.
          log.warn({ provider: deps.sms.name, phone: maskPhone(phone), purpose, reason: err instanceof Error ? err.message : 'unknown' }, 'privacy notice not delivered');
          return { phone, expiresIn: settings.ttlSeconds, resendAfter: settings.resendCooldownSeconds };
        }
        await reservation.release();
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
      await deps.guard?.sent(phone); // fraud guard: an SMS went out
      await deps.audit.record({
        type: 'sms_sent',
        phone,
        userId: userId ?? ownerId,
        client,
        detail: notice === undefined ? purpose : `${purpose}:notice`,
      });
      return { phone, expiresIn: settings.ttlSeconds, resendAfter: settings.resendCooldownSeconds };
    },

    async consume(phone, purpose, code, client = UNKNOWN_CLIENT, userId) {
      const key = { phone, purpose };
      const isTestNumber = settings.testPhoneNumbers.has(phone);
      // A wrong code is reserved from the phone's budget before the check and given back unless the
      // code was wrong, so concurrent guesses cannot overrun it, and a fresh code does not reset it.
      let failure: Extract<LimitDecision, { allowed: true }> | undefined;
      if (!isTestNumber) {
        const now = deps.now();
        const perIp = await deps.limits.checksPerIpHourly.take(ipLimitKey(client.ip), now);
        if (!perIp.allowed) throw rateLimited(perIp);
        const budget = await deps.limits.failedChecksPerPhoneHourly.take(`${purpose}:${phone}`, now);
        if (!budget.allowed) {
          log.info({ phone: maskPhone(phone), purpose }, 'check refused: phone locked for wrong codes');
          throw rateLimited(budget);
        }
        failure = budget;
      }
      let result: Awaited<ReturnType<CodeStore['check']>>;
      try {
        result = await codes.check(key, hasher.code(hashScope(purpose, userId), phone, code), deps.now(), settings.maxAttempts);
      } catch (err) {
        await failure?.release();
        throw err;
      }
      if (result.outcome !== 'wrong') await failure?.release();
      switch (result.outcome) {
        case 'valid':
          await deps.guard?.verified(phone); // fraud guard: a right code
          return { restore: () => codes.restore(key, result.consumed, deps.now()) };
        case 'wrong': {
          log.info({ phone: maskPhone(phone), purpose, attemptsLeft: result.attemptsLeft }, 'wrong code');
          const ownerId = await deps.accountIdOf(phone);
          await deps.audit.record({ type: 'code_failed', phone, userId: ownerId, client, detail: purpose });
          if (failure && failure.remaining === 0) {
            log.warn({ phone: maskPhone(phone), purpose }, 'phone locked for the rest of the hour after too many wrong codes');
            await deps.audit.record({ type: 'lockout', phone, userId: ownerId, client, detail: purpose });
          }
          throw new AppError('code_invalid', { field: 'code', attemptsLeft: result.attemptsLeft });
        }
        case 'missing':
          throw new AppError('code_invalid', { field: 'code' });
        case 'expired':
          throw new AppError('code_expired', { field: 'code' });
        case 'exhausted':
          throw new AppError('code_attempts_exceeded', { field: 'code' });
      }
    },

    async issueCaptcha(client = UNKNOWN_CLIENT) {
      if (!deps.captcha.create) throw new AppError('not_found', {}, { message: 'The image captcha is not in use.' });
      const allowance = await deps.limits.captchasPerIpHourly.take(ipLimitKey(client.ip), deps.now());
      if (!allowance.allowed) throw rateLimited(allowance);
      return deps.captcha.create();
    },

    async sendNotice(phone, purpose, text) {
      try {
        await deliver(phone, purpose, '', text);
        log.info({ provider: deps.sms.name, phone: maskPhone(phone), purpose }, 'notice sent');
      } catch (err) {
        log.warn({ provider: deps.sms.name, phone: maskPhone(phone), purpose, reason: err instanceof Error ? err.message : 'unknown' }, 'notice not sent');
      }
    },
  };
}
