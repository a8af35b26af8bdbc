import { createHmac, randomBytes } from 'node:crypto';
import type { ClientContext } from './client.js';
import { hashesEqual } from './codes.js';
import type { ConsumedCode, VerificationEngine, VerificationPolicy } from './engine.js';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';
import { verifyApiText, type VerifyLocale } from './messages.js';
import { maskPhone, normalizePhone, type E164 } from './phone.js';
import type { Clock } from './ports.js';

/**
 * The Verify API's protocol, the engine's second client: services (a scope each), verifications
 * (a record of sends to one number in one service), checks and status updates, for backends that
 * keep their own users. There is no captcha here: the caller's backend is the human check, and
 * its API key is what the limits trust. Field names follow Twilio Verify v2.
 */

/** A Twilio-style sid: two letters and 32 lowercase hex digits. */
export const newSid = (prefix: 'VA' | 'VE' | 'SK' | 'VL') => `${prefix}${randomBytes(16).toString('hex')}`;
export const isSid = (prefix: string, value: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`).test(value);

/**
 * The deployment's account sid: `AC` + 32 hex, fixed for a SECRET (derived from it), so every
 * instance and the CLI agree without a setting.
 */
export const accountSidFor = (secret: string) => `AC${createHmac('sha256', secret).update('verify-api account sid').digest('hex').slice(0, 32)}`;

export interface VerifyService {
  readonly sid: string;
  readonly friendlyName: string;
  readonly codeLength: number;
  readonly psd2Enabled: boolean;
  readonly doNotShareWarningEnabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SendAttempt {
  readonly time: number;
  readonly channel: 'sms';
  readonly attemptSid: string;
}

export type VerificationStatus = 'pending' | 'approved' | 'canceled';

export interface VerifyVerification {
  readonly sid: string;
  readonly serviceSid: string;
  readonly to: E164;
  readonly channel: 'sms';
  readonly status: VerificationStatus;
  readonly amount: string | null;
  readonly payee: string | null;
  /** The engine's handle of the pending code, for cancel and approve. */
  readonly codeHandle: string;
  readonly sendAttempts: readonly SendAttempt[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
}

/** Persistence of services and verifications; Kysely in src/db/verify-repository.ts. */
export interface VerifyRepository {
  insertService(service: VerifyService): Promise<void>;
  listServices(): Promise<VerifyService[]>;
  findService(sid: string): Promise<VerifyService | undefined>;
  updateService(service: VerifyService): Promise<void>;
  /** Removes the service and its verifications; false when there was none. */
  deleteService(sid: string): Promise<boolean>;
  insertVerification(verification: VerifyVerification): Promise<void>;
  findVerification(serviceSid: string, sid: string): Promise<VerifyVerification | undefined>;
  /** The newest pending verification of `to` in the service that has not expired at `now`. */
  findPendingByTo(serviceSid: string, to: E164, now: number): Promise<VerifyVerification | undefined>;
  /** Records a resend: the new code's handle, attempts and expiry. */
  recordResend(sid: string, codeHandle: string, sendAttempts: readonly SendAttempt[], expiresAt: number, now: number): Promise<void>;
  /** Moves a pending verification to `status`; false when it was no longer pending (another request won). */
  finish(sid: string, status: 'approved' | 'canceled', now: number): Promise<boolean>;
}

export interface ApiKey {
  readonly sid: string;
  readonly name: string;
  readonly secretHash: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Persistence of API keys; Kysely in src/db/api-key-repository.ts. */
export interface ApiKeyRepository {
  insert(key: ApiKey): Promise<void>;
  find(sid: string): Promise<ApiKey | undefined>;
  list(): Promise<ApiKey[]>;
  /** False when there was no such key, or it was already revoked. */
  revoke(sid: string, now: number): Promise<boolean>;
}

/** HMAC of an API key's secret under SECRET: a dump of the table cannot be tried offline. */
export const apiKeySecretHash = (secret: string, sid: string, keySecret: string) =>
  createHmac('sha256', secret).update(`api key\u0000${sid}\u0000${keySecret}`).digest('base64url');

export interface ApiKeys {
  /** Creates a key; the secret is in the answer only, never stored. */
  create(name: string): Promise<{ sid: string; secret: string; accountSid: string }>;
  list(): Promise<Omit<ApiKey, 'secretHash'>[]>;
  revoke(sid: string): Promise<boolean>;
  /** The key sid when `sid`/`secret` are a live key, else undefined. Read on every call, so a revocation holds at once everywhere. */
  authenticate(sid: string, secret: string): Promise<string | undefined>;
}

export function createApiKeys(repo: ApiKeyRepository, secret: string, now: Clock): ApiKeys {
  const accountSid = accountSidFor(secret);
  return {
    async create(name) {
      const sid = newSid('SK');
      const keySecret = randomBytes(24).toString('base64url');
      await repo.insert({ sid, name, secretHash: apiKeySecretHash(secret, sid, keySecret), createdAt: now(), revokedAt: null });
      return { sid, secret: keySecret, accountSid };
    },
    async list() {
      return (await repo.list()).map(({ secretHash: _hidden, ...rest }) => rest);
    },
    revoke: (sid) => repo.revoke(sid, now()),
    async authenticate(sid, keySecret) {
      // A malformed sid costs no database read.
      if (!isSid('SK', sid)) return undefined;
      const key = await repo.find(sid);
      if (!key || key.revokedAt !== null) return undefined;
      return hashesEqual(key.secretHash, apiKeySecretHash(secret, sid, keySecret)) ? sid : undefined;
    },
  };
}

/** Errors of the Verify API's own rules, which the Verify surface renders with Twilio's codes. */
export class VerifyApiError extends Error {
  override name = 'VerifyApiError';
  constructor(
    /** invalid_parameter: 60200 naming `parameter`; not_found: 20404. */
    readonly kind: 'invalid_parameter' | 'not_found',
    readonly parameter?: string,
  ) {
    super(kind === 'invalid_parameter' ? `Invalid parameter: ${parameter}` : 'The requested resource was not found');
  }
}

const invalid = (parameter: string) => new VerifyApiError('invalid_parameter', parameter);
const notFound = () => new VerifyApiError('not_found');

export interface ServiceInput {
  readonly friendlyName?: string | undefined;
  readonly codeLength?: number | undefined;
  readonly psd2Enabled?: boolean | undefined;
  readonly doNotShareWarningEnabled?: boolean | undefined;
}

export interface StartInput {
  readonly to: string;
  readonly channel: string;
  readonly locale?: string | undefined;
  readonly customFriendlyName?: string | undefined;
  readonly amount?: string | undefined;
  readonly payee?: string | undefined;
  /** The end user's IP: counted against the per-IP limits when given. */
  readonly deviceIp?: string | undefined;
}

export interface CheckInput {
  readonly code: string;
  readonly to?: string | undefined;
  readonly verificationSid?: string | undefined;
  readonly amount?: string | undefined;
  readonly payee?: string | undefined;
}

export interface CheckOutcome {
  readonly verification: VerifyVerification;
  readonly approved: boolean;
}

export interface VerifyApi {
  createService(input: ServiceInput): Promise<VerifyService>;
  listServices(): Promise<VerifyService[]>;
  fetchService(sid: string): Promise<VerifyService>;
  updateService(sid: string, input: ServiceInput): Promise<VerifyService>;
  deleteService(sid: string): Promise<void>;
  startVerification(serviceSid: string, input: StartInput, caller: ClientContext): Promise<VerifyVerification>;
  checkVerification(serviceSid: string, input: CheckInput, caller: ClientContext): Promise<CheckOutcome>;
  fetchVerification(serviceSid: string, sid: string): Promise<VerifyVerification>;
  updateVerification(serviceSid: string, sid: string, status: string): Promise<VerifyVerification>;
}

export interface VerifyApiDeps {
  readonly engine: VerificationEngine;
  readonly repo: VerifyRepository;
  readonly settings: {
    readonly defaultCodeLength: number;
    readonly ttlSeconds: number;
    readonly resendCooldownSeconds: number;
    readonly maxAttempts: number;
    /** SMS per verification, Twilio's 5. */
    readonly maxSends: number;
  };
  readonly now: Clock;
  readonly log: Logger;
}

const LOCALES: Record<string, VerifyLocale> = { 'zh-CN': 'zh', zh: 'zh', en: 'en' };
const FRIENDLY_NAME_MAX = 30;
const PAYMENT_FIELD_MAX = 64;

/** A printable, bounded text field: the SMS carries it, so no control characters. */
function text(value: string | undefined, parameter: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (value.trim() === '' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) throw invalid(parameter);
  return value;
}

/** Strict E.164 as Twilio wants it (a leading +), and a mobile number by the full metadata. */
function e164(value: string | undefined, parameter = 'To'): E164 {
  if (value === undefined || !/^\+[1-9][0-9]{6,14}$/.test(value)) throw invalid(parameter);
  try {
    return normalizePhone(value, 'US');
  } catch {
    throw invalid(parameter);
  }
}

/** PSD2: the code approves only this amount to this payee, so both are bound into its hash. */
const paymentBinding = (amount: string | null, payee: string | null) =>
  amount === null && payee === null ? undefined : `psd2\u0000${amount ?? ''}\u0000${payee ?? ''}`;

export function createVerifyApi(deps: VerifyApiDeps): VerifyApi {
  const { repo, engine, settings, log } = deps;

  async function service(sid: string): Promise<VerifyService> {
    if (!isSid('VA', sid)) throw notFound();
    const found = await repo.findService(sid);
    if (!found) throw notFound();
    return found;
  }

  /** A verification that can still be checked or updated: pending and not expired. */
  const live = (v: VerifyVerification | undefined): VerifyVerification => {
    if (!v || v.status !== 'pending' || v.expiresAt <= deps.now()) throw notFound();
    return v;
  };

  function serviceFields(input: ServiceInput, base?: VerifyService) {
    const friendlyName = text(input.friendlyName, 'FriendlyName', FRIENDLY_NAME_MAX) ?? base?.friendlyName;
    if (friendlyName === undefined) throw invalid('FriendlyName');
    const codeLength = input.codeLength ?? base?.codeLength ?? settings.defaultCodeLength;
    if (!Number.isInteger(codeLength) || codeLength < 4 || codeLength > 10) throw invalid('CodeLength');
    return {
      friendlyName,
      codeLength,
      psd2Enabled: input.psd2Enabled ?? base?.psd2Enabled ?? false,
      doNotShareWarningEnabled: input.doNotShareWarningEnabled ?? base?.doNotShareWarningEnabled ?? false,
    };
  }

  const policyOf = (svc: VerifyService): VerificationPolicy => ({
    codeLength: svc.codeLength,
    ttlSeconds: settings.ttlSeconds,
    resendCooldownSeconds: settings.resendCooldownSeconds,
    maxAttempts: settings.maxAttempts,
    maxSends: settings.maxSends,
  });

  return {
    async createService(input) {
      const now = deps.now();
      const created: VerifyService = { sid: newSid('VA'), ...serviceFields(input), createdAt: now, updatedAt: now };
      await repo.insertService(created);
      return created;
    },

    listServices: () => repo.listServices(),
    fetchService: (sid) => service(sid),

    async updateService(sid, input) {
      const current = await service(sid);
      const updated: VerifyService = { ...current, ...serviceFields(input, current), updatedAt: deps.now() };
      await repo.updateService(updated);
      return updated;
    },

    async deleteService(sid) {
      if (!isSid('VA', sid) || !(await repo.deleteService(sid))) throw notFound();
    },

    async startVerification(serviceSid, input, caller) {
      const svc = await service(serviceSid);
      const to = e164(input.to);
      if (input.channel !== 'sms') throw invalid('Channel');
      const locale = input.locale === undefined ? 'zh' : LOCALES[input.locale];
      if (!locale) throw invalid('Locale');
      const customName = text(input.customFriendlyName, 'CustomFriendlyName', FRIENDLY_NAME_MAX);
      const amount = text(input.amount, 'Amount', PAYMENT_FIELD_MAX) ?? null;
      const payee = text(input.payee, 'Payee', PAYMENT_FIELD_MAX) ?? null;
      if (svc.psd2Enabled && amount === null) throw invalid('Amount');
      if (svc.psd2Enabled && payee === null) throw invalid('Payee');
      if (input.deviceIp !== undefined && !/^[0-9a-fA-F:.]{2,45}$/.test(input.deviceIp)) throw invalid('DeviceIp');

      const existing = await repo.findPendingByTo(serviceSid, to, deps.now());
      const sid = existing?.sid ?? newSid('VE');
      // A resend keeps the verification's payment: a code approves only what the first send named.
      const payment = existing && svc.psd2Enabled ? { amount: existing.amount, payee: existing.payee } : svc.psd2Enabled ? { amount, payee } : { amount: null, payee: null };
      const issued = await engine.issue({
        scope: serviceSid,
        phone: to,
        binding: paymentBinding(payment.amount, payment.payee),
        policy: policyOf(svc),
        // Without DeviceIp the caller's backend is the only IP we see; counting it would throttle every user of the key.
        client: { ip: input.deviceIp ?? caller.ip, userAgent: caller.userAgent },
        ipLimited: input.deviceIp !== undefined,
        sendsSoFar: existing?.sendAttempts.length ?? 0,
        verificationSid: sid,
        auditDetail: `verify:${serviceSid}`,
        message: (code, ttlMinutes) => ({
          purpose: 'login',
          text: verifyApiText({
            serviceName: customName ?? svc.friendlyName,
            code,
            ttlMinutes,
            locale,
            doNotShareWarning: svc.doNotShareWarningEnabled,
            ...(svc.psd2Enabled ? { amount: payment.amount ?? '', payee: payment.payee ?? '' } : {}),
          }),
        }),
      });
      const now = deps.now();
      const attempt: SendAttempt = { time: now, channel: 'sms', attemptSid: newSid('VL') };
      const expiresAt = now + issued.expiresIn * 1000;
      try {
        if (existing) {
          const sendAttempts = [...existing.sendAttempts, attempt];
          await repo.recordResend(sid, issued.handle, sendAttempts, expiresAt, now);
          return { ...existing, codeHandle: issued.handle, sendAttempts, expiresAt, updatedAt: now };
        }
        const created: VerifyVerification = {
          sid,
          serviceSid,
          to,
          channel: 'sms',
          status: 'pending',
          ...payment,
          codeHandle: issued.handle,
          sendAttempts: [attempt],
          createdAt: now,
          updatedAt: now,
          expiresAt,
        };
        await repo.insertVerification(created);
        return created;
      } catch (err) {
        // The SMS went out but its record did not: withdraw the code, so nothing valid is left without a record.
        await engine.cancel(serviceSid, to, issued.handle).catch((cancelErr: unknown) => log.error({ err: cancelErr }, 'could not withdraw an unrecorded code'));
        throw err;
      }
    },

    async checkVerification(serviceSid, input, caller) {
      const svc = await service(serviceSid);
      if (!/^[0-9]{4,10}$/.test(input.code)) throw invalid('Code');
      let verification: VerifyVerification;
      if (input.verificationSid !== undefined) {
        if (!isSid('VE', input.verificationSid)) throw invalid('VerificationSid');
        verification = live(await repo.findVerification(serviceSid, input.verificationSid));
        if (input.to !== undefined && e164(input.to) !== verification.to) throw notFound();
      } else if (input.to !== undefined) {
        verification = live(await repo.findPendingByTo(serviceSid, e164(input.to), deps.now()));
      } else {
        throw invalid('To');
      }
      let binding: string | undefined;
      if (svc.psd2Enabled) {
        const amount = text(input.amount, 'Amount', PAYMENT_FIELD_MAX);
        const payee = text(input.payee, 'Payee', PAYMENT_FIELD_MAX);
        if (amount === undefined) throw invalid('Amount');
        if (payee === undefined) throw invalid('Payee');
        binding = paymentBinding(amount, payee);
      }
      let consumed: ConsumedCode;
      try {
        consumed = await engine.check({
          scope: serviceSid,
          phone: verification.to,
          binding,
          code: input.code,
          maxAttempts: settings.maxAttempts,
          client: caller,
          ipLimited: false,
          verificationSid: verification.sid,
        });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // A wrong code leaves the verification pending, as Twilio answers it (200, valid: false).
        if (err.code === 'code_invalid' && err.details.attemptsLeft !== undefined) return { verification, approved: false };
        // Consumed by a concurrent check, or withdrawn: nothing left to check.
        if (err.code === 'code_invalid' || err.code === 'code_expired') throw notFound();
        throw err;
      }
      const now = deps.now();
      let finished: boolean;
      try {
        finished = await repo.finish(verification.sid, 'approved', now);
      } catch (err) {
        // The record could not be written: put the code back so the person can check it again.
        await consumed.restore().catch((restoreErr: unknown) => log.error({ err: restoreErr }, 'could not restore a consumed code'));
        throw err;
      }
      if (!finished) throw notFound();
      log.info({ phone: maskPhone(verification.to), service: serviceSid }, 'verification approved');
      return { verification: { ...verification, status: 'approved', updatedAt: now }, approved: true };
    },

    async fetchVerification(serviceSid, sid) {
      await service(serviceSid);
      const found = isSid('VE', sid) ? await repo.findVerification(serviceSid, sid) : undefined;
      if (!found) throw notFound();
      return found;
    },

    async updateVerification(serviceSid, sid, status) {
      await service(serviceSid);
      if (status !== 'canceled' && status !== 'approved') throw invalid('Status');
      if (!isSid('VE', sid)) throw notFound();
      const verification = live(await repo.findVerification(serviceSid, sid));
      const now = deps.now();
      if (!(await repo.finish(sid, status, now))) throw notFound();
      if (status === 'approved') await engine.approve(serviceSid, verification.to, verification.codeHandle, sid);
      else await engine.cancel(serviceSid, verification.to, verification.codeHandle);
      return { ...verification, status, updatedAt: now };
    },
  };
}
