import { randomBytes, randomUUID } from 'node:crypto';
import { AppError } from './errors.js';
import { PhoneTakenError, type AccountRepository, type User } from './account-repository.js';
import { cleanUserAgent, type AuditLog } from './audit.js';
import { ipLimitKey, UNKNOWN_CLIENT, type ClientContext } from './client.js';
import type { RateLimit } from './ports.js';
import type { Hasher } from './codes.js';
import { rateLimited, reserveAll, type Reservation } from './limit-reservation.js';
import type { Logger } from './logger.js';
import { hashPassword, isAcceptablePassword, verifyPassword } from './passwords.js';

/** argon2 as the account service uses it; a seam so a test can count the work a sign-in does. */
export interface PasswordHashing {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
}
import { maskPhone, normalizePhone, type E164 } from './phone.js';
import { phoneChangedText } from './messages.js';
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

/** A signed-in session as its owner sees it: never the token or its hash. */
export interface PublicSession {
  /** The session that made this request. */
  readonly current: boolean;
  readonly createdAt: string;
  /** At most a minute stale. */
  readonly lastSeenAt: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/**
 * How stale a session's last-seen time may get. One write per session per minute at most keeps
 * authenticated reads from turning into writes on every request.
 */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

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
    /** Leading bits of an IPv6 address that per-IP limits count as one client (IPV6_LIMIT_PREFIX). */
    readonly ipv6LimitPrefix?: number | undefined;
  };
  /** @default argon2id from ./passwords.ts */
  readonly passwords?: PasswordHashing;
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
  /**
   * Moves the account to `newPhone` (with a change_phone code sent there) after the password or a
   * TOTP code; tells the old number. Every other session ends: the one of `sessionToken` is kept.
   */
  changePhone(
    userId: string,
    input: { newPhone: string; code: string; password?: string | undefined; totp?: string | undefined },
    client?: ClientContext,
    sessionToken?: string,
  ): Promise<PublicUser>;
  /** The user's own security events, newest first. */
  activity(userId: string): Promise<AuditEvent[]>;
  /** The user behind a session token; throws unauthorized for an unknown, expired or revoked one. */
  authenticate(token: string | undefined): Promise<PublicUser>;
  logout(token: string | undefined): Promise<void>;
  /** The live sessions of the token's user, the current one marked, most recently used first. */
  sessions(token: string | undefined): Promise<PublicSession[]>;
  /** Ends every session of the token's user except this one ("sign out other devices"); resolves to how many ended. */
  signOutOtherSessions(token: string | undefined, client?: ClientContext): Promise<number>;
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
  const passwords: PasswordHashing = deps.passwords ?? { hash: hashPassword, verify: verifyPassword };
  // Verifying against this when the phone is unknown makes "no such user" as slow as "wrong password".
  // Hashed once, at start, so not even the first unknown number takes a different path.
  const decoyHash = passwords.hash(randomBytes(16).toString('hex'));
  decoyHash.catch((err: unknown) => log.error({ err }, 'could not prepare the decoy password hash'));
  let sessionsStarted = 0;

  /** Puts a consumed code back after a failure of ours, so the person can retry without a new SMS. */
  const giveBack = (consumed: ConsumedCode) =>
    consumed.restore().catch((err: unknown) => log.error({ err }, 'could not restore code'));

  async function reservePasswordGuess(phone: E164, client: ClientContext): Promise<Reservation> {
    const { perIp, perPhone } = deps.passwordGuessLimits;
    const result = await reserveAll([[perIp, ipLimitKey(client.ip, settings.ipv6LimitPrefix)], [perPhone, phone]], deps.now(), log);
    if ('release' in result) return result;
    throw rateLimited(result);
  }

  /**
   * Stores a new session bound to the credential version the caller proved (read from the user
   * row before the password or code was checked). If a reset, a phone change or 2FA being turned
   * on bumped the version meanwhile, nothing is stored and the sign-in fails with `refusal`: a
   * sign-in in flight cannot outlive the change (issue 10). Anything tied to a session (a refresh
   * token, say) dies with it, because the session no longer authenticates.
   */
  async function startSession(
    user: User,
    provenVersion: number,
    refusal: 'invalid_credentials' | 'ticket_invalid' | 'code_invalid',
    client: ClientContext,
  ): Promise<SignedIn> {
    const token = randomBytes(32).toString('base64url');
    const now = deps.now();
    const expiresAt = now + settings.sessionTtlSeconds * 1000;
    const ip = client.ip === UNKNOWN_CLIENT.ip ? null : client.ip;
    const session = { userId: user.id, expiresAt, credentialVersion: provenVersion, userAgent: cleanUserAgent(client.userAgent), ip };
    if (!(await repo.createSession(hasher.token(token), session, now))) {
      log.info({ userId: user.id }, 'sign-in refused: the credential changed while it was in flight');
      throw new AppError(refusal, refusal === 'ticket_invalid' ? { field: 'ticket' } : refusal === 'code_invalid' ? { field: 'code' } : {});
    }
    // Expired sessions are refused anyway; clearing them now and then keeps the table from growing
    // forever. Not awaited: a failed clean-up must not fail a sign-in.
    if (++sessionsStarted % 500 === 0) {
      void repo.deleteExpiredSessions(now).catch((err: unknown) => log.warn({ err }, 'could not delete expired sessions'));
    }
    return { user: toPublic(user), token, expiresAt };
  }

  async function signInOrChallenge(user: User, method: 'password' | 'sms', client: ClientContext): Promise<SignedIn | TwoFactorChallenge> {
    if (await twoFactor.isEnabled(user.id)) {
      const { ticket, expiresIn } = await twoFactor.issueTicket(user.id, user.credentialVersion);
      return { twoFactorRequired: true, ticket, expiresIn };
    }
    const signedIn = await startSession(user, user.credentialVersion, method === 'password' ? 'invalid_credentials' : 'code_invalid', client);
    await deps.audit.record({ type: 'sign_in', userId: user.id, phone: user.phone, client, detail: method });
    return signedIn;
  }

  /** The user and session behind a token; refreshes the session's last-seen time when it is over a minute old. */
  async function signedIn(token: string | undefined): Promise<{ user: User; tokenHash: string }> {
    if (!token) throw new AppError('unauthorized');
    const tokenHash = hasher.token(token);
    const now = deps.now();
    const session = await repo.findSession(tokenHash, now);
    const user = session && (await repo.findUserById(session.userId));
    if (!user) throw new AppError('unauthorized');
    if (now - (session.lastSeenAt ?? 0) >= SESSION_TOUCH_INTERVAL_MS) {
      // A missed update only makes "last seen" older: it must not fail the request.
      await repo.touchSession(tokenHash, now).catch((err: unknown) => log.warn({ err }, 'could not update session last-seen time'));
    }
    return { user, tokenHash };
  }

  function requireAcceptable(password: string, field: string): void {
    if (!isAcceptablePassword(password)) throw new AppError('weak_password', { field });
  }

  return {
    async register({ phone: rawPhone, code, password }, client = UNKNOWN_CLIENT) {
      // Checked before the code, so a typo in the password does not waste an attempt.
      requireAcceptable(password, 'password');
      const phone = phoneOf(rawPhone);
      // The code first, whatever the privacy mode: answering phone_taken before it made this an
      // account oracle without a captcha or a limit (issue 10). A taken number had no register
      // code sent, so it answers code_invalid like any number without one; consume counts the
      // probe against the per-IP check limit.
      const consumed = await verification.consume(phone, 'register', code, client);
      let user: User;
      try {
        user = { id: randomUUID(), phone, passwordHash: await passwords.hash(password), createdAt: deps.now(), credentialVersion: 0 };
        await repo.createUser(user);
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'phone' });
        // Our failure: give the code back so the person can retry without a new SMS.
        await giveBack(consumed);
        throw err;
      }
      log.info({ userId: user.id, phone: maskPhone(phone) }, 'account created');
      await deps.audit.record({ type: 'sign_up', userId: user.id, phone, client });
      return startSession(user, user.credentialVersion, 'code_invalid', client);
    },

    async loginWithPassword({ phone: rawPhone, password }, client = UNKNOWN_CLIENT) {
      const phone = phoneOf(rawPhone);
      // A guess is reserved from both budgets before argon2 runs and given back when it was right,
      // so concurrent guesses cannot overrun them. Unknown numbers count too: the answer must not
      // differ between "no such account" and "wrong password".
      const reserved = await reservePasswordGuess(phone, client);
      const user = await repo.findUserByPhone(phone);
      // Both paths do the same work (one argon2 verify, one audit row), so the time of a wrong
      // password does not tell a registered number from an unknown one (issue 10).
      const matched = await passwords.verify(user ? user.passwordHash : await decoyHash, password);
      if (!user || !matched) {
        log.info({ userId: user?.id }, 'wrong password');
        await deps.audit.record({ type: 'sign_in_failed', userId: user?.id, phone, client, detail: 'password' });
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
      const { userId, credentialVersion } = await twoFactor.userOfTicket(ticket);
      // A wrong code leaves the ticket alive (the failure budget bounds guessing); a right one uses it up, once.
      await twoFactor.verify(userId, code, client);
      await twoFactor.takeTicket(ticket);
      const user = await repo.findUserById(userId);
      if (!user) throw new AppError('ticket_invalid', { field: 'ticket' });
      // The session carries the version the ticket's password proved: a reset since then kills it.
      const signedIn = await startSession(user, credentialVersion, 'ticket_invalid', client);
      await deps.audit.record({ type: 'sign_in', userId, phone: user.phone, client, detail: 'second_factor' });
      return signedIn;
    },

    async resetPassword({ phone: rawPhone, code, newPassword, totp }, client = UNKNOWN_CLIENT) {
      requireAcceptable(newPassword, 'newPassword');
      const phone: E164 = phoneOf(rawPhone);
      // The code first, in every privacy mode (issue 10): an unknown number has no reset code (or,
      // in strict mode, a decoy nobody knows), so it answers code_invalid like a wrong code.
      const consumed = await verification.consume(phone, 'reset_password', code, client);
      const user = await repo.findUserByPhone(phone);
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
        // Bumps the credential version in the same statement: from here on no session or ticket
        // proven with the old password works, including sign-ins still in flight.
        await repo.updatePassword(user.id, await passwords.hash(newPassword), deps.now());
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

    async changePhone(userId, { newPhone: rawNewPhone, code, password, totp }, client = UNKNOWN_CLIENT, sessionToken) {
      const newPhone = normalizePhone(rawNewPhone, settings.defaultRegion);
      const user = await repo.findUserById(userId);
      if (!user) throw new AppError('unauthorized');
      if (newPhone === user.phone) throw new AppError('phone_taken', { field: 'newPhone' });
      // A stolen session alone must not move the account: the person proves it again first.
      if (password !== undefined) await twoFactor.verifyPassword(userId, password, client);
      else if (totp !== undefined && (await twoFactor.isEnabled(userId))) await twoFactor.verify(userId, totp, client);
      else throw new AppError('invalid_request', { field: 'password' }, { message: 'Send the password (or, with 2FA on, totp).' });

      const consumed = await verification.consume(newPhone, 'change_phone', code, client, userId);
      let version: number;
      try {
        version = await repo.updatePhone(userId, newPhone, deps.now());
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'newPhone' });
        await giveBack(consumed);
        throw err;
      }
      // The number is a credential (SMS sign-in, resets): whoever else was signed in is signed out,
      // and this session, which just proved itself again, moves to the new version.
      const endedSessions = sessionToken
        ? await repo.keepOnlySession(userId, hasher.token(sessionToken), version)
        : await repo.deleteSessionsOfUser(userId);
      log.info({ userId, from: maskPhone(user.phone), to: maskPhone(newPhone), endedSessions }, 'phone changed');
      await deps.audit.record({ type: 'phone_changed', userId, phone: newPhone, client, detail: `from ${maskPhone(user.phone)}` });
      // The old number hears of it, so someone who took over the session cannot move the account quietly.
      await verification.sendNotice(user.phone as E164, 'change_phone', phoneChangedText(settings.appName, maskPhone(newPhone)), client);
      return toPublic({ ...user, phone: newPhone });
    },

    activity: (userId) => deps.audit.listForUser(userId),

    async authenticate(token) {
      return toPublic((await signedIn(token)).user);
    },

    async sessions(token) {
      const { user, tokenHash } = await signedIn(token);
      const now = deps.now();
      return (await repo.listSessions(user.id, now)).map((s) => ({
        current: s.tokenHash === tokenHash,
        createdAt: new Date(s.createdAt).toISOString(),
        lastSeenAt: new Date(s.lastSeenAt ?? s.createdAt).toISOString(),
        ip: s.ip ?? null,
        userAgent: s.userAgent ?? null,
      }));
    },

    async signOutOtherSessions(token, client = UNKNOWN_CLIENT) {
      const { user, tokenHash } = await signedIn(token);
      const ended = await repo.deleteOtherSessions(user.id, tokenHash);
      log.info({ userId: user.id, ended }, 'other sessions signed out');
      await deps.audit.record({ type: 'sessions_revoked', userId: user.id, client, detail: `ended=${ended}` });
      return ended;
    },

    async logout(token) {
      if (!token) throw new AppError('unauthorized');
      const tokenHash = hasher.token(token);
      if (!(await repo.findSession(tokenHash, deps.now()))) throw new AppError('unauthorized');
      await repo.deleteSession(tokenHash);
    },
  };
}
