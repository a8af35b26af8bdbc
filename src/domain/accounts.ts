import { randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { PhoneTakenError, type AccountRepository, type User } from './account-repository.js';
import type { AuditLog } from './audit.js';
import { ipLimitKey, UNKNOWN_CLIENT, type ClientContext } from './client.js';
import type { RateLimit } from '../limits/types.js';
import type { Hasher } from './codes.js';
import { rateLimited, reserveAll, type Reservation } from './limit-reservation.js';
import type { Logger } from './logger.js';
import { hashPassword, isAcceptablePassword, verifyPassword } from './passwords.js';
import { maskPhone, normalizePhone, type E164 } from './phone.js';
import { phoneChangedText } from '../sms/notice-templates.js';
import type { AuditEvent } from './audit.js';
import type { TwoFactorService } from './two-factor.js';
import type { ConsumedCode, VerificationService } from './verification.js';

/** What the API shows of a user. */
export interface PublicUser {
  readonly id: string;
  readonly phone: string;
  readonly createdAt: string;
}

/** A new session: the token goes to the client once and is stored only as a hash. */
export interface SignedIn {
  readonly user: PublicUser;
  readonly token: string;
  readonly expiresAt: number;
}

/** Sign-in is not finished: the account has 2FA on, and the ticket goes to POST /api/login/2fa with a code. */
export interface TwoFactorChallenge {
  readonly twoFactorRequired: true;
  readonly ticket: string;
  /** Seconds the ticket stays valid. */
  readonly expiresIn: number;
}

export interface AccountDeps {
  readonly repo: AccountRepository;
  readonly verification: VerificationService;
  readonly twoFactor: TwoFactorService;
  readonly audit: AuditLog;
  readonly hasher: Hasher;
  /** Budgets of wrong passwords at sign-in, per client IP and per number. */
  readonly passwordGuessLimits: { readonly perIp: RateLimit; readonly perPhone: RateLimit };
  readonly settings: {
    readonly sessionTtlSeconds: number;
    readonly defaultRegion: string;
    readonly appName: string;
    /** strict: no step before a valid code reveals whether a number has an account. */
    readonly privacyMode: 'explicit' | 'strict';
  };
  readonly now: () => number;
  readonly log: Logger;
}

export interface AccountService {
  register(input: { phone: string; code: string; password: string }, client?: ClientContext): Promise<SignedIn>;
  /** With 2FA on, answers a TwoFactorChallenge instead of a session. */
  loginWithPassword(input: { phone: string; password: string }, client?: ClientContext): Promise<SignedIn | TwoFactorChallenge>;
  loginWithCode(input: { phone: string; code: string }, client?: ClientContext): Promise<SignedIn | TwoFactorChallenge>;
  /** The second step of a sign-in with 2FA: a live ticket and a TOTP or recovery code. */
  completeTwoFactorLogin(input: { ticket: string; code: string }, client?: ClientContext): Promise<SignedIn>;
  /** With 2FA on, `totp` (a TOTP or recovery code) is required as well as the SMS code. */
  resetPassword(
    input: { phone: string; code: string; newPassword: string; totp?: string | undefined },
    client?: ClientContext,
  ): Promise<{ revokedSessions: number }>;
  /** Moves the account to `newPhone` (with a change_phone code sent there) after the password or a TOTP code; tells the old number. */
  changePhone(
    userId: string,
    input: { newPhone: string; code: string; password?: string | undefined; totp?: string | undefined },
    client?: ClientContext,
  ): Promise<PublicUser>;
  /** The user's own security events, newest first. */
  activity(userId: string): Promise<AuditEvent[]>;
  /** The user behind a session token; throws unauthorized for an unknown, expired or revoked one. */
  authenticate(token: string | undefined): Promise<PublicUser>;
  logout(token: string | undefined): Promise<void>;
}

const toPublic = (user: User): PublicUser => ({
  id: user.id,
  phone: user.phone,
  createdAt: new Date(user.createdAt).toISOString(),
});

/**
 * Accounts and sessions: the last step of the protocol. Every operation that a code authorizes
 * checks the code exactly once and only then changes anything.
 */
export function createAccountService(deps: AccountDeps): AccountService {
  const { repo, verification, twoFactor, hasher, settings, log } = deps;
  const phoneOf = (raw: string) => normalizePhone(raw, settings.defaultRegion);
  // Verifying against this when the phone is unknown makes "no such user" as slow as "wrong password".
  let decoyHash: Promise<string> | undefined;
  let sessionsStarted = 0;

  /** Puts a consumed code back after a failure of ours, so the person can retry without a new SMS. */
  const giveBack = (consumed: ConsumedCode) =>
    consumed.restore().catch((err: unknown) => log.error({ err }, 'could not restore code'));

  async function reservePasswordGuess(phone: E164, client: ClientContext): Promise<Reservation> {
    const { perIp, perPhone } = deps.passwordGuessLimits;
    const result = await reserveAll([[perIp, ipLimitKey(client.ip)], [perPhone, phone]], deps.now(), log);
    if ('release' in result) return result;
    throw rateLimited(result);
  }

  async function startSession(user: User): Promise<SignedIn> {
    const token = randomBytes(32).toString('base64url');
    const now = deps.now();
    const expiresAt = now + settings.sessionTtlSeconds * 1000;
    await repo.createSession(hasher.token(token), { userId: user.id, expiresAt }, now);
    // Expired sessions are refused anyway; clearing them now and then keeps the table from growing
    // forever. Not awaited: a failed clean-up must not fail a sign-in.
    if (++sessionsStarted % 500 === 0) {
      void repo.deleteExpiredSessions(now).catch((err: unknown) => log.warn({ err }, 'could not delete expired sessions'));
    }
    return { user: toPublic(user), token, expiresAt };
  }

  async function signInOrChallenge(user: User, method: 'password' | 'sms', client: ClientContext): Promise<SignedIn | TwoFactorChallenge> {
    // After the password or code was right: only who proved the account learns it is disabled.
    if (user.disabledAt !== undefined) throw new AppError('account_disabled');
    if (await twoFactor.isEnabled(user.id)) {
      const { ticket, expiresIn } = await twoFactor.issueTicket(user.id);
      return { twoFactorRequired: true, ticket, expiresIn };
    }
    await deps.audit.record({ type: 'sign_in', userId: user.id, phone: user.phone, client, detail: method });
    return startSession(user);
  }

  function requireAcceptable(password: string, field: string): void {
    if (!isAcceptablePassword(password)) throw new AppError('weak_password', { field });
  }

  return {
    async register({ phone: rawPhone, code, password }, client = UNKNOWN_CLIENT) {
      // Checked before the code, so a typo in the password does not waste an attempt.
      requireAcceptable(password, 'password');
      const phone = phoneOf(rawPhone);
      // In strict privacy mode only the code's owner may learn the number is taken (from createUser below).
      if (settings.privacyMode === 'explicit' && (await repo.findUserByPhone(phone))) throw new AppError('phone_taken', { field: 'phone' });

      const consumed = await verification.consume(phone, 'register', code, client);
      let user: User;
      try {
        user = { id: randomUUID(), phone, passwordHash: await hashPassword(password), createdAt: deps.now() };
        await repo.createUser(user);
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'phone' });
        // Our failure: give the code back so the person can retry without a new SMS.
        await giveBack(consumed);
        throw err;
      }
      log.info({ userId: user.id, phone: maskPhone(phone) }, 'account created');
      await deps.audit.record({ type: 'sign_up', userId: user.id, phone, client });
      return startSession(user);
    },

    async loginWithPassword({ phone: rawPhone, password }, client = UNKNOWN_CLIENT) {
      const phone = phoneOf(rawPhone);
      // A guess is reserved from both budgets before argon2 runs and given back when it was right,
      // so concurrent guesses cannot overrun them. Unknown numbers count too: the answer must not
      // differ between "no such account" and "wrong password".
      const reserved = await reservePasswordGuess(phone, client);
      const user = await repo.findUserByPhone(phone);
      if (!user) {
        decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
        await verifyPassword(await decoyHash, password);
        throw new AppError('invalid_credentials');
      }
      if (!(await verifyPassword(user.passwordHash, password))) {
        log.info({ userId: user.id }, 'wrong password');
        await deps.audit.record({ type: 'sign_in_failed', userId: user.id, phone, client, detail: 'password' });
        throw new AppError('invalid_credentials');
      }
      await reserved.release();
      return signInOrChallenge(user, 'password', client);
    },

    async loginWithCode({ phone: rawPhone, code }, client = UNKNOWN_CLIENT) {
      const phone = phoneOf(rawPhone);
      await verification.consume(phone, 'login', code, client);
      const user = await repo.findUserByPhone(phone);
      if (!user) throw new AppError('phone_not_registered', { field: 'phone' });
      return signInOrChallenge(user, 'sms', client);
    },

    async completeTwoFactorLogin({ ticket, code }, client = UNKNOWN_CLIENT) {
      const userId = await twoFactor.userOfTicket(ticket);
      // A wrong code leaves the ticket alive (the failure budget bounds guessing); a right one uses it up, once.
      await twoFactor.verify(userId, code, client);
      await twoFactor.takeTicket(ticket);
      const user = await repo.findUserById(userId);
      if (!user) throw new AppError('ticket_invalid', { field: 'ticket' });
      if (user.disabledAt !== undefined) throw new AppError('account_disabled');
      await deps.audit.record({ type: 'sign_in', userId, phone: user.phone, client, detail: 'second_factor' });
      return startSession(user);
    },

    async resetPassword({ phone: rawPhone, code, newPassword, totp }, client = UNKNOWN_CLIENT) {
      requireAcceptable(newPassword, 'newPassword');
      const phone: E164 = phoneOf(rawPhone);
      // In strict privacy mode the code comes first: an unknown number has only a decoy code nobody knows.
      let user = settings.privacyMode === 'explicit' ? await repo.findUserByPhone(phone) : undefined;
      if (settings.privacyMode === 'explicit' && !user) throw new AppError('phone_not_registered', { field: 'phone' });
      const consumed = await verification.consume(phone, 'reset_password', code, client);
      user ??= await repo.findUserByPhone(phone);
      if (!user) throw new AppError('code_invalid', { field: 'code' });
      if (await twoFactor.isEnabled(user.id)) {
        // The SMS code alone is what a SIM-swapper has; with 2FA on, the second factor is needed too.
        // The SMS code goes back if the second factor is missing or wrong, so a typo does not cost another SMS.
        if (!totp) {
          await giveBack(consumed);
          throw new AppError('two_factor_required', { field: 'totp' });
        }
        try {
          await twoFactor.verify(user.id, totp, client);
        } catch (err) {
          await giveBack(consumed);
          throw err;
        }
      }
      try {
        await repo.updatePassword(user.id, await hashPassword(newPassword), deps.now());
      } catch (err) {
        await giveBack(consumed);
        throw err;
      }
      // A reset is what someone does when they fear another holds the password: end every session.
      const revokedSessions = await repo.deleteSessionsOfUser(user.id);
      log.info({ userId: user.id, revokedSessions }, 'password reset');
      await deps.audit.record({ type: 'password_reset', userId: user.id, phone, client });
      return { revokedSessions };
    },

    async changePhone(userId, { newPhone: rawNewPhone, code, password, totp }, client = UNKNOWN_CLIENT) {
      const newPhone = normalizePhone(rawNewPhone, settings.defaultRegion);
      const user = await repo.findUserById(userId);
      if (!user) throw new AppError('unauthorized');
      if (newPhone === user.phone) throw new AppError('phone_taken', { field: 'newPhone' });
      // A stolen session alone must not move the account: the person proves it again first.
      if (password !== undefined) await twoFactor.verifyPassword(userId, password, client);
      else if (totp !== undefined && (await twoFactor.isEnabled(userId))) await twoFactor.verify(userId, totp, client);
      else throw new AppError('invalid_request', { field: 'password' }, { message: 'Send the password (or, with 2FA on, totp).' });

      const consumed = await verification.consume(newPhone, 'change_phone', code, client, userId);
      try {
        await repo.updatePhone(userId, newPhone, deps.now());
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'newPhone' });
        await giveBack(consumed);
        throw err;
      }
      log.info({ userId, from: maskPhone(user.phone), to: maskPhone(newPhone) }, 'phone changed');
      await deps.audit.record({ type: 'phone_changed', userId, phone: newPhone, client, detail: `from ${maskPhone(user.phone)}` });
      // The old number hears of it, so someone who took over the session cannot move the account quietly.
      await verification.sendNotice(user.phone as E164, 'change_phone', phoneChangedText(settings.appName, maskPhone(newPhone)));
      return toPublic({ ...user, phone: newPhone });
    },

    activity: (userId) => deps.audit.listForUser(userId),

    async authenticate(token) {
      if (!token) throw new AppError('unauthorized');
      const session = await repo.findSession(hasher.token(token), deps.now());
      const user = session && (await repo.findUserById(session.userId));
      if (!user || user.disabledAt !== undefined) throw new AppError('unauthorized');
      return toPublic(user);
    },

    async logout(token) {
      if (!token) throw new AppError('unauthorized');
      const tokenHash = hasher.token(token);
      if (!(await repo.findSession(tokenHash, deps.now()))) throw new AppError('unauthorized');
      await repo.deleteSession(tokenHash);
    },
  };
}
