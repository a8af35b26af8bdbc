import { randomUUID } from 'node:crypto';
import type { Admission as AdmissionStep, SendAdmission, SendAdmissionRequest } from './admission.js';
import type { AuditLog } from './audit.js';
import { ipLimitKey, type ClientContext } from './client.js';
import { generateCode, type Hasher } from './codes.js';
import { AppError } from './errors.js';
import { rateLimited } from './limit-reservation.js';
import type { Logger } from './logger.js';
import { maskPhone, phonePrefix, phoneRegion, type E164 } from './phone.js';
import type { Clock, CodeKey, CodeStore, PendingCode, SmsProvider, VerificationEvents } from './ports.js';
import { SmsSendError } from './ports.js';
import type { Purpose } from './purposes.js';
import type { DeliveryGuard } from './fraud-guard.js';

/**
 * The verification engine: issues, checks, cancels and approves a code for a scope (a sign-up
 * purpose, or a Verify service) and a subject (the phone), under a per-call policy. It owns the
 * protocol's invariants, whoever calls it:
 * - codes come from the CSPRNG and are stored only as keyed hashes bound to scope, phone and binding;
 * - a check is one atomic store step compared in constant time, so exactly one caller wins;
 * - a failed SMS leaves no valid code and no cooldown behind;
 * - the wrong-code budget is per scope and number and survives resends;
 * - every abuse limit applies to every send (region, IP, number, prefix, daily budget).
 *
 * The sign-up protocol (src/domain/verification.ts) and the Verify API (src/domain/verify-api.ts)
 * are its two clients; each adds only its own rules through `admit`.
 */

/** How a code behaves, chosen by the caller for each send or check. */
export interface VerificationPolicy {
  readonly codeLength: number;
  readonly ttlSeconds: number;
  readonly resendCooldownSeconds: number;
  /** Wrong tries before the code is burned. */
  readonly maxAttempts: number;
  /** SMS per verification (first send and resends); undefined means only the limits cap them. */
  readonly maxSends?: number | undefined;
}

export interface EngineSettings {
  /** A provider call that takes longer fails as sms_send_failed. */
  readonly providerTimeoutMs: number;
  /** Regions SMS may go to, or '*'. */
  readonly allowedCountries: readonly string[] | '*';
  /** National digits that make a prefix for the per-prefix cap. */
  readonly prefixDigits: number;
  /** E.164 → fixed code: QA and app-store numbers that skip the provider and the limits. */
  readonly testPhoneNumbers: ReadonlyMap<string, string>;
  /** Leading bits of an IPv6 address that per-IP limits count as one client (IPV6_LIMIT_PREFIX). */
  readonly ipv6LimitPrefix?: number | undefined;
}

export interface EngineDeps {
  readonly codes: CodeStore;
  readonly sms: SmsProvider;
  readonly hasher: Hasher;
  /**
   * The one atomic step that decides a send (cooldown, every send limit, the new code) and a
   * check (per-IP limit, wrong-code budget, the code): src/domain/admission.ts. It keeps its codes
   * where `codes` does, so a code it admits is the one `codes` restores, cancels and approves.
   */
  readonly admission: AdmissionStep;
  readonly audit: AuditLog;
  readonly events?: VerificationEvents | undefined;
  /** The SMS-pumping guard (src/domain/fraud-guard.ts): asked before a send, told of each SMS and each right code. */
  readonly guard?: DeliveryGuard | undefined;
  readonly settings: EngineSettings;
  readonly now: Clock;
  readonly log: Logger;
}

/**
 * What the client decided once the send was admitted: its human check passed and its own rules
 * hold. `notice` replaces the code SMS by a text that carries none (strict privacy mode).
 */
export interface Admission {
  readonly notice?: string | undefined;
  /** The number's account, for the audit row. */
  readonly ownerId?: string | undefined;
}

export interface IssueRequest {
  readonly scope: string;
  readonly phone: E164;
  /** Bound into the code's hash besides scope and phone (the asking user; a PSD2 amount and payee). */
  readonly binding?: string | undefined;
  readonly policy: VerificationPolicy;
  readonly client: ClientContext;
  /** Whether `client.ip` is counted against the per-IP limits (false when it is a server's, not the person's). @default true */
  readonly ipLimited?: boolean | undefined;
  /** The SMS for `code`: the provider's template purpose and the full text. */
  readonly message: (code: string, ttlMinutes: number) => { readonly purpose: Purpose; readonly text: string };
  /**
   * The client's own gate (captcha, account rules), run before the code store or any limit counter
   * is touched. It throws to refuse, and a refused send has then counted nothing.
   */
  readonly admit?: (() => Promise<Admission>) | undefined;
  /** SMS already sent for this verification, against `policy.maxSends`. */
  readonly sendsSoFar?: number | undefined;
  /** For the audit row when the client knows the user. */
  readonly userId?: string | undefined;
  /** Passed to the observers. */
  readonly verificationSid?: string | undefined;
  /** The audit row's detail; the scope by default. */
  readonly auditDetail?: string | undefined;
}

export interface Issued {
  readonly phone: E164;
  /** Seconds the code stays valid. */
  readonly expiresIn: number;
  /** Seconds until another code may be requested. */
  readonly resendAfter: number;
  /** Names the pending code for cancel and approve; opaque to the client (it is the keyed hash). */
  readonly handle: string;
}

export interface CheckRequest {
  readonly scope: string;
  readonly phone: E164;
  readonly binding?: string | undefined;
  readonly code: string;
  readonly maxAttempts: number;
  readonly client: ClientContext;
  /** As for IssueRequest. @default true */
  readonly ipLimited?: boolean | undefined;
  /** The number's account, looked up only when a wrong code is audited. */
  readonly ownerOf?: (() => Promise<string | undefined>) | undefined;
  readonly verificationSid?: string | undefined;
}

/** A code that was checked and consumed; `restore` puts it back if what it authorized then failed on our side. */
export interface ConsumedCode {
  restore(): Promise<void>;
}

export interface VerificationEngine {
  /** Sends a code, or throws region_not_allowed, rate_limited, service_unavailable, invalid_phone or sms_send_failed. */
  issue(request: IssueRequest): Promise<Issued>;
  /**
   * Checks a code once, atomically; throws code_invalid / code_expired / code_attempts_exceeded,
   * or rate_limited past the per-IP check limit or the number's wrong-code budget.
   */
  check(request: CheckRequest): Promise<ConsumedCode>;
  /** Removes the pending code `handle` names (if it is still the pending one): it can no longer be checked. */
  cancel(scope: string, phone: E164, handle: string): Promise<void>;
  /** Marks a verification approved without a code (the operator's decision): the code is removed and observers told. */
  approve(scope: string, phone: E164, handle: string, verificationSid?: string): Promise<void>;
  /**
   * Sends a message without a code (e.g. "your number was changed"). It counts against the same
   * limits and budget as any SMS; a refusal or failure is logged, not thrown.
   */
  sendNotice(phone: E164, purpose: Purpose, text: string, client: ClientContext): Promise<void>;
}

const SMS_FAILURE_TO_ERROR = {
  invalid_number: 'invalid_phone',
  rate_limited: 'rate_limited',
  rejected: 'sms_send_failed',
  unavailable: 'sms_send_failed',
} as const;

/** What a code's hash is bound to besides the phone. */
const hashScope = (scope: string, binding: string | undefined) => (binding ? `${scope}\u0000${binding}` : scope);

export function createVerificationEngine(deps: EngineDeps): VerificationEngine {
  const { codes, hasher, settings, log } = deps;

  async function notify<K extends keyof VerificationEvents>(kind: K, event: Parameters<NonNullable<VerificationEvents[K]>>[0]) {
    const observer = deps.events?.[kind] as ((e: typeof event) => Promise<void> | void) | undefined;
    if (!observer) return;
    try {
      await observer.call(deps.events, event);
    } catch (err) {
      log.error({ err, event: kind }, 'a verification observer failed');
    }
  }

  function checkRegion(phone: E164): void {
    // SMS-pumping defence: nothing goes to a region the operator did not allow, and it costs nothing else.
    const region = phoneRegion(phone);
    if (settings.allowedCountries !== '*' && (!region || !settings.allowedCountries.includes(region))) {
      throw new AppError('region_not_allowed', { field: 'phone' });
    }
  }

  /**
   * Every SMS counts against the sender's IP, the number (hour and day), the number's prefix and
   * the service's daily budget, in the same atomic step as the cooldown and the new code. The step
   * decides before it counts, so a refused send never holds a point of anyone's allowance, not
   * even while it is in flight; an admitted one whose SMS fails is undone (`admission.abortSend`).
   */
  function sendRequest(phone: E164, scope: string, client: ClientContext, ipLimited: boolean, pending: PendingCode | undefined, now: number): SendAdmissionRequest {
    return {
      phone,
      purpose: scope,
      ipKey: ipLimited ? ipLimitKey(client.ip, settings.ipv6LimitPrefix) : undefined,
      prefix: phonePrefix(phone, settings.prefixDigits),
      pending,
      now,
    };
  }

  /** A refusal of the admission step as the error the client answers, logged as before. */
  function sendRefused(refusal: Extract<SendAdmission, { admitted: false }>, phone: E164): AppError {
    if (refusal.refusedBy === 'cooldown') return rateLimited(refusal, 'cooldown');
    if (refusal.refusedBy === 'sms_budget_d') {
      log.error(
        { limit: refusal.refusedBy },
        'daily SMS budget exhausted: sending stopped until the next UTC day or SMS_DAILY_BUDGET is raised',
      );
      return new AppError('service_unavailable', {}, { reason: 'daily_budget' });
    }
    log.info({ limit: refusal.refusedBy, phone: maskPhone(phone) }, 'send refused by a limit');
    return rateLimited(refusal);
  }

  async function deliver(phone: E164, message: { purpose: Purpose; text: string }, code: string, ttlMinutes: number): Promise<void> {
    const sms = {
      to: phone,
      purpose: message.purpose,
      kind: code === '' ? ('notice' as const) : ('code' as const),
      code,
      ttlMinutes,
      text: message.text,
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
      await Promise.race([deps.sms.send(sms, controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  const pendingCode = (hash: string, policy: VerificationPolicy, now: number, cooldown: boolean): PendingCode => ({
    codeHash: hash,
    expiresAt: now + policy.ttlSeconds * 1000,
    resendAt: cooldown ? now + policy.resendCooldownSeconds * 1000 : now,
    attempts: 0,
  });

  return {
    async issue(request) {
      const { scope, phone, binding, policy, client } = request;
      const key: CodeKey = { phone, purpose: scope };
      checkRegion(phone);
      const admit = request.admit ?? (async () => ({}));

      const fixedCode = settings.testPhoneNumbers.get(phone);
      if (fixedCode !== undefined) {
        // A test number: the client's gate still applies, the limits, the cooldown and the provider do not.
        await admit();
        const pending = pendingCode(hasher.code(hashScope(scope, binding), phone, fixedCode), policy, deps.now(), false);
        await codes.beginSend(key, pending, deps.now());
        log.info({ phone: maskPhone(phone), scope }, 'test number: fixed code stored, no SMS sent');
        return { phone, expiresIn: policy.ttlSeconds, resendAfter: 0, handle: pending.codeHash };
      }

      // A blocked destination costs no captcha, no limit point and no provider call.
      await deps.guard?.admit(phone);

      if (policy.maxSends !== undefined && (request.sendsSoFar ?? 0) >= policy.maxSends) {
        log.info({ phone: maskPhone(phone), scope }, 'send refused: sends per verification used up');
        throw new AppError('rate_limited', { retryAfter: policy.ttlSeconds }, { reason: 'max_sends' });
      }

      // Order matters: the client's gate refuses without counting, so it goes first; then one
      // atomic step decides the cooldown and every limit and, only if all allow it, counts them
      // and stores the code. Storing before sending, with the cooldown, is what makes ten
      // simultaneous sends one SMS.
      const admission: Admission = await admit();
      // With a notice, the stored code is one nobody is told: the number then behaves exactly like
      // one that got a real code (cooldown, attempts), so the API does not reveal which it was.
      const code = generateCode(policy.codeLength);
      const now = deps.now();
      const pending = pendingCode(hasher.code(hashScope(scope, binding), phone, code), policy, now, true);
      const send = sendRequest(phone, scope, client, request.ipLimited ?? true, pending, now);
      const admitted = await deps.admission.admitSend(send);
      if (!admitted.admitted) throw sendRefused(admitted, phone);

      const { notice } = admission;
      const ttlMinutes = Math.max(1, Math.round(policy.ttlSeconds / 60));
      const issued: Issued = { phone, expiresIn: policy.ttlSeconds, resendAfter: policy.resendCooldownSeconds, handle: pending.codeHash };
      const message = request.message(code, ttlMinutes);
      try {
        await deliver(phone, notice === undefined ? message : { purpose: message.purpose, text: notice }, notice === undefined ? code : '', ttlMinutes);
      } catch (err) {
        if (notice !== undefined) {
          // Strict privacy: an undelivered notice must answer exactly like a delivered code, or the
          // error itself would reveal that the number has (or lacks) an account. The stored code is
          // one nobody knows, so keeping it costs nothing.
          log.warn({ provider: deps.sms.name, phone: maskPhone(phone), scope, reason: err instanceof Error ? err.message : 'unknown' }, 'privacy notice not delivered');
          return issued;
        }
        // No SMS: its points go back, and no valid code and no cooldown may remain.
        await deps.admission.abortSend(send);
        const failure =
          err instanceof SmsSendError ? err : new SmsSendError('unavailable', 'provider threw an unexpected error', { cause: err });
        log.warn(
          {
            provider: deps.sms.name,
            phone: maskPhone(phone),
            scope,
            kind: failure.kind,
            providerCode: failure.providerCode,
            requestId: failure.requestId,
            reason: failure.message,
          },
          'sms send failed',
        );
        throw new AppError(SMS_FAILURE_TO_ERROR[failure.kind], failure.kind === 'invalid_number' ? { field: 'phone' } : {});
      }
      log.info({ provider: deps.sms.name, phone: maskPhone(phone), scope }, 'sms sent');
      // A privacy notice counts too: to the guard, SMS that nobody verifies look the same.
      await deps.guard?.sent(phone);
      const detail = request.auditDetail ?? scope;
      await deps.audit.record({
        type: 'sms_sent',
        phone,
        userId: request.userId ?? admission.ownerId,
        client,
        detail: notice === undefined ? detail : `${detail}:notice`,
      });
      if (notice === undefined) await notify('codeSent', { scope, phone, at: deps.now(), verificationSid: request.verificationSid });
      return issued;
    },

    async check({ scope, phone, binding, code, maxAttempts, client, ipLimited = true, ownerOf, verificationSid }) {
      const key: CodeKey = { phone, purpose: scope };
      const candidateHash = hasher.code(hashScope(scope, binding), phone, code);
      // A test number skips the limits, as its send did. Any other check is one atomic step: the
      // per-IP check limit, the number's wrong-code budget (per scope, so a fresh code does not
      // reset it, and concurrent guesses cannot overrun it) and the code itself.
      const result = settings.testPhoneNumbers.has(phone)
        ? await codes.check(key, candidateHash, deps.now(), maxAttempts)
        : await deps.admission.check({
            phone,
            purpose: scope,
            ipKey: ipLimited ? ipLimitKey(client.ip, settings.ipv6LimitPrefix) : undefined,
            candidateHash,
            now: deps.now(),
            maxAttempts,
          });
      switch (result.outcome) {
        case 'refused':
          if (result.refusedBy === 'checks_ip_h') throw rateLimited(result);
          log.info({ phone: maskPhone(phone), scope }, 'check refused: phone locked for wrong codes');
          throw rateLimited(result, 'wrong_code_lockout');
        case 'valid': {
          await deps.guard?.verified(phone);
          await notify('codeApproved', { scope, phone, at: deps.now(), verificationSid });
          return { restore: () => codes.restore(key, result.consumed, deps.now()) };
        }
        case 'wrong': {
          log.info({ phone: maskPhone(phone), scope, attemptsLeft: result.attemptsLeft }, 'wrong code');
          const ownerId = await ownerOf?.();
          await deps.audit.record({ type: 'code_failed', phone, userId: ownerId, client, detail: scope });
          if ('failuresLeft' in result && result.failuresLeft === 0) {
            log.warn({ phone: maskPhone(phone), scope }, 'phone locked for the rest of the hour after too many wrong codes');
            await deps.audit.record({ type: 'lockout', phone, userId: ownerId, client, detail: scope });
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

    async cancel(scope, phone, handle) {
      await codes.abortSend({ phone, purpose: scope }, handle);
    },

    async approve(scope, phone, handle, verificationSid) {
      await codes.abortSend({ phone, purpose: scope }, handle);
      await notify('codeApproved', { scope, phone, at: deps.now(), verificationSid });
    },

    async sendNotice(phone, purpose, text, client) {
      // A notice is an SMS like any other: it counts against the number's caps and the daily
      // budget, through the same admission step without a code (so it asks no cooldown either).
      const send = sendRequest(phone, purpose, client, true, undefined, deps.now());
      try {
        const admitted = await deps.admission.admitSend(send);
        if (!admitted.admitted) throw sendRefused(admitted, phone);
      } catch (err) {
        log.warn({ phone: maskPhone(phone), purpose, reason: err instanceof AppError ? err.code : 'limit store failed' }, 'notice not sent: refused by a limit');
        return;
      }
      try {
        await deliver(phone, { purpose, text }, '', 1);
        log.info({ provider: deps.sms.name, phone: maskPhone(phone), purpose }, 'notice sent');
      } catch (err) {
        await deps.admission.abortSend(send).catch(() => {});
        log.warn({ provider: deps.sms.name, phone: maskPhone(phone), purpose, reason: err instanceof Error ? err.message : 'unknown' }, 'notice not sent');
      }
    },
  };
}
