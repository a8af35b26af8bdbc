import { randomBytes, randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import QRCode from 'qrcode';
import { AppError } from './errors.js';
import type { RateLimit } from './ports.js';
import type { AccountRepository } from './account-repository.js';
import type { AuditLog } from './audit.js';
import type { ClientContext } from './client.js';
import type { DomainEvent } from './events.js';
import type { Hasher } from './codes.js';
import { rateLimited } from './limit-reservation.js';
import type { Logger } from './logger.js';
import { verifyPassword } from './passwords.js';
import { maskPhone } from './phone.js';
import type { SecretBox } from './secret-box.js';
import type { TwoFactorRepository } from './two-factor-repository.js';

/** RFC 6238 defaults that every authenticator app understands: SHA-1, 6 digits, 30 s. */
const TOTP_PERIOD_SECONDS = 30;
/** One step either side tolerates a phone clock off by up to 30 s. */
const TOTP_TOLERANCE_SECONDS = 30;
export const RECOVERY_CODE_COUNT = 10;
/** A login ticket lives this long: enough to open the authenticator app, short enough to be useless when stolen later. */
export const LOGIN_TICKET_TTL_SECONDS = 300;
/** No 0/o, 1/l/i: read off paper and typed by hand. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export interface TwoFactorSetup {
  readonly otpauthUri: string;
  /** The URI as a QR code, an SVG document. */
  readonly qrSvg: string;
  /** The base32 secret, for typing in by hand. */
  readonly secret: string;
}

export interface TwoFactorDeps {
  readonly repo: TwoFactorRepository;
  readonly accounts: AccountRepository;
  readonly box: SecretBox;
  readonly hasher: Hasher;
  /** Wrong second factors (and re-entered passwords) per user per hour. */
  readonly failures: RateLimit;
  readonly audit: AuditLog;
  readonly issuer: string;
  readonly now: () => number;
  readonly log: Logger;
}

export interface TwoFactorService {
  isEnabled(userId: string): Promise<boolean>;
  /** Whether 2FA is on and how many recovery codes are unused, for the account page. */
  status(userId: string): Promise<{ enabled: boolean; recoveryCodesLeft: number }>;
  /** Needs the password again: with only a stolen session, turning 2FA on would lock the owner out. */
  setup(userId: string, password: string, client: ClientContext): Promise<TwoFactorSetup>;
  /**
   * Confirms the setup with a current code; returns the recovery codes, shown once. Turning 2FA on
   * is a credential change: every other session of the user ends (the one given as
   * `keepSessionId` is kept), and so does every sign-in still in flight with the password alone.
   */
  enable(userId: string, code: string, client: ClientContext, keepSessionId?: string): Promise<{ recoveryCodes: string[] }>;
  disable(userId: string, password: string, code: string, client: ClientContext): Promise<void>;
  /** A new set of recovery codes, shown once, after the password and a current code; every old one stops working. */
  regenerateRecoveryCodes(userId: string, password: string, code: string, client: ClientContext): Promise<{ recoveryCodes: string[] }>;
  /**
   * Checks a TOTP code or a recovery code for an enabled user, counting failures against the
   * per-user budget; each code works once. Throws two_factor_invalid or rate_limited.
   */
  verify(userId: string, code: string, client: ClientContext): Promise<void>;
  /** Checks a password re-entered for a sensitive change, under the same failure budget. */
  verifyPassword(userId: string, password: string, client: ClientContext): Promise<void>;
  /**
   * `credentialVersion`: the user's version the password was proven at; the session it leads to carries it.
   * `firstFactor`: how the first step was proven, handed back by takeTicket for the session's amr.
   */
  issueTicket(userId: string, credentialVersion: number, firstFactor?: 'pwd' | 'sms'): Promise<{ ticket: string; expiresIn: number }>;
  /** The user behind a live ticket and the version it proved, without using it up (a wrong code may be retried). */
  userOfTicket(ticket: string): Promise<{ userId: string; credentialVersion: number }>;
  /** Uses the ticket up; exactly one caller succeeds. */
  takeTicket(ticket: string): Promise<{ firstFactor: 'pwd' | 'sms' | undefined }>;
}

function newRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < 10; i++) code += RECOVERY_ALPHABET[randomInt(0, RECOVERY_ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** What a person may type for a recovery code: case, spaces and dashes do not matter. */
const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

/** TOTP (RFC 6238 with otplib) and recovery codes for sensitive operations. */
export function createTwoFactorService(deps: TwoFactorDeps): TwoFactorService {
  /** The webhook event of a 2FA change, queued with the change itself. */
  const accountEvent = async (type: 'user.two_factor_enabled' | 'user.two_factor_disabled', userId: string, at: number): Promise<DomainEvent[]> => {
    const user = await deps.accounts.findUserById(userId);
    return [{ type, at, data: { userId, phone: user?.phone } }];
  };
  const { repo, box, hasher, log } = deps;
  const epoch = () => Math.floor(deps.now() / 1000);
  const recoveryHash = (userId: string, code: string) => hasher.token(`recovery\u0000${userId}\u0000${normalizeRecoveryCode(code)}`);

  /** Reserves one failure before checking, so concurrent guesses cannot overrun the budget; given back on success. */
  async function withFailureBudget(userId: string, client: ClientContext, check: () => Promise<boolean>): Promise<void> {
    const reservation = await deps.failures.take(userId, deps.now());
    if (!reservation.allowed) throw rateLimited(reservation);
    if (await check()) {
      await reservation.release();
      return;
    }
    await deps.audit.record({ type: 'two_factor_failed', userId, client });
    if (reservation.remaining === 0) {
      log.warn({ userId }, 'second factor locked for the hour');
      await deps.audit.record({ type: 'lockout', userId, client, detail: 'second_factor' });
    }
    throw new AppError('two_factor_invalid', { field: 'code' });
  }

  /** The stored secret in the clear. A row that does not decrypt means SECRET changed: an operator's problem, said so in the log. */
  function openSecret(userId: string, sealed: string): string {
    try {
      return box.open(sealed, userId);
    } catch (err) {
      log.error({ userId, err }, 'TOTP secret does not decrypt: was SECRET changed? The user needs 2FA reset by an operator');
      throw new AppError('service_unavailable', {}, { cause: err });
    }
  }

  /** The TOTP step that `code` matches for this secret now, or undefined. */
  async function matchingStep(secret: string, code: string): Promise<number | undefined> {
    if (!/^\d{6}$/.test(code)) return undefined;
    const result = await verifyTotp({ secret, token: code, epoch: epoch(), epochTolerance: TOTP_TOLERANCE_SECONDS });
    return result.valid ? (result as { timeStep: number }).timeStep : undefined;
  }

  async function checkCode(userId: string, code: string): Promise<'totp' | 'recovery' | false> {
    const record = await repo.find(userId);
    if (!record || record.enabledAt === null) return false;
    const step = await matchingStep(openSecret(userId, record.secretEncrypted), code.trim());
    // claimStep refuses a step at or before the last one accepted: a code seen once cannot be replayed.
    if (step !== undefined) return (await repo.claimStep(userId, step)) ? 'totp' : false;
    if (normalizeRecoveryCode(code).length !== 10) return false;
    return (await repo.useRecoveryCode(userId, recoveryHash(userId, code), deps.now())) ? 'recovery' : false;
  }

  return {
    async isEnabled(userId) {
      const record = await repo.find(userId);
      return record !== undefined && record.enabledAt !== null;
    },

    async status(userId) {
      const enabled = await this.isEnabled(userId);
      return { enabled, recoveryCodesLeft: enabled ? await repo.countUnusedRecoveryCodes(userId) : 0 };
    },

    async setup(userId, password, client) {
      const user = await deps.accounts.findUserById(userId);
      if (!user) throw new AppError('unauthorized');
      await this.verifyPassword(userId, password, client);
      const secret = generateSecret();
      if (!(await repo.savePending(userId, box.seal(secret, userId), deps.now()))) throw new AppError('two_factor_already_enabled');
      // The label shows in the authenticator app; the masked number is enough to tell accounts apart.
      const label = maskPhone(user.phone);
      const otpauthUri = generateURI({ issuer: deps.issuer, label, secret, period: TOTP_PERIOD_SECONDS });
      const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { otpauthUri, qrSvg, secret };
    },

    async enable(userId, code, client, keepSessionId) {
      const record = await repo.find(userId);
      if (!record) throw new AppError('two_factor_setup_required');
      if (record.enabledAt !== null) throw new AppError('two_factor_already_enabled');
      const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      let won = false;
      await withFailureBudget(userId, client, async () => {
        const step = await matchingStep(openSecret(userId, record.secretEncrypted), code.trim());
        if (step === undefined) return false;
        const now = deps.now();
        won = await repo.enable(userId, step, recoveryCodes.map((c) => recoveryHash(userId, c)), now, await accountEvent('user.two_factor_enabled', userId, now));
        return true;
      });
      // The code was right but another request enabled it first (or reused this step): one winner only.
      if (!won) throw new AppError('two_factor_already_enabled');
      // Sessions proven with the password alone end (except this one): whoever else held the password
      // must not keep an account the owner has just locked with a second factor.
      const version = await deps.accounts.bumpCredentialVersion(userId);
      const ended = keepSessionId ? await deps.accounts.keepOnlySession(userId, keepSessionId, version) : await deps.accounts.deleteSessionsOfUser(userId);
      log.info({ userId, endedSessions: ended }, 'other sessions ended: 2FA turned on');
      await deps.audit.record({ type: 'two_factor_enabled', userId, client });
      log.info({ userId }, 'two-factor authentication enabled');
      return { recoveryCodes };
    },

    async disable(userId, password, code, client) {
      if (!(await this.isEnabled(userId))) throw new AppError('two_factor_not_enabled');
      await this.verifyPassword(userId, password, client);
      await this.verify(userId, code, client);
      if (!(await repo.disable(userId, await accountEvent('user.two_factor_disabled', userId, deps.now())))) throw new AppError('two_factor_not_enabled');
      await deps.audit.record({ type: 'two_factor_disabled', userId, client });
      log.info({ userId }, 'two-factor authentication disabled');
    },

    async regenerateRecoveryCodes(userId, password, code, client) {
      if (!(await this.isEnabled(userId))) throw new AppError('two_factor_not_enabled');
      await this.verifyPassword(userId, password, client);
      await this.verify(userId, code, client);
      const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      if (!(await repo.replaceRecoveryCodes(userId, recoveryCodes.map((c) => recoveryHash(userId, c))))) {
        throw new AppError('two_factor_not_enabled');
      }
      await deps.audit.record({ type: 'recovery_codes_regenerated', userId, client });
      log.info({ userId }, 'recovery codes regenerated');
      return { recoveryCodes };
    },

    async verify(userId, code, client) {
      const outcome: { used: 'totp' | 'recovery' | false } = { used: false };
      await withFailureBudget(userId, client, async () => {
        outcome.used = await checkCode(userId, code);
        return outcome.used !== false;
      });
      if (outcome.used === 'recovery') {
        const left = await repo.countUnusedRecoveryCodes(userId);
        await deps.audit.record({ type: 'recovery_code_used', userId, client, detail: `left=${left}` });
      }
    },

    async verifyPassword(userId, password, client) {
      const user = await deps.accounts.findUserById(userId);
      if (!user) throw new AppError('unauthorized');
      const reservation = await deps.failures.take(userId, deps.now());
      if (!reservation.allowed) throw rateLimited(reservation);
      if (await verifyPassword(user.passwordHash, password)) {
        await reservation.release();
        return;
      }
      await deps.audit.record({ type: 'sign_in_failed', userId, client, detail: 'reauthentication' });
      throw new AppError('invalid_credentials', { field: 'password' });
    },

    async issueTicket(userId, credentialVersion, firstFactor) {
      const ticket = randomBytes(32).toString('base64url');
      const now = deps.now();
      await repo.createTicket(hasher.token(`ticket:${ticket}`), userId, now + LOGIN_TICKET_TTL_SECONDS * 1000, now, credentialVersion, firstFactor);
      return { ticket, expiresIn: LOGIN_TICKET_TTL_SECONDS };
    },

    async userOfTicket(ticket) {
      const found = await repo.findTicket(hasher.token(`ticket:${ticket}`), deps.now());
      if (!found) throw new AppError('ticket_invalid', { field: 'ticket' });
      return found;
    },

    async takeTicket(ticket) {
      const taken = await repo.takeTicket(hasher.token(`ticket:${ticket}`), deps.now());
      if (!taken) throw new AppError('ticket_invalid', { field: 'ticket' });
      return { firstFactor: taken.firstFactor === 'pwd' || taken.firstFactor === 'sms' ? taken.firstFactor : undefined };
    },
  };
}
