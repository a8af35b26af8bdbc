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
import type { AccessTokens, AuthMethod } from './access-tokens.js';
import type { DomainEvent } from './events.js';
import type { RefreshTokenRepository, TokenFamily } from './refresh-tokens.js';

/** What the API shows of a user. */
export interface PublicUser {
  readonly id: string;
  readonly phone: string;
  readonly createdAt: string;
}

/** Tokens for a backend-style client: a JWT access token and the opaque refresh token that renews it. */
export interface TokenPair {
  readonly accessToken: string;
  /** Seconds the access token is valid. */
  readonly expiresIn: number;
  readonly refreshToken: string;
}

/** A new session: the tokens go to the client once and are stored only as hashes (the access token not at all). */
export interface SignedIn extends TokenPair {
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
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokenRepository;
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
   * TOTP code; tells the old number. Every other session ends: the one `keepSessionId` names (see
   * sessionIdOf) is kept.
   */
  changePhone(
    userId: string,
    input: { newPhone: string; code: string; password?: string | undefined; totp?: string | undefined },
    client?: ClientContext,
    keepSessionId?: string,
  ): Promise<PublicUser>;
  /** The user's own security events, newest first. */
  activity(userId: string): Promise<AuditEvent[]>;
  /**
   * The user behind a session token or an access token (JWT); throws unauthorized for an unknown,
   * expired or revoked one. An access token counts only while its session is live.
   */
  authenticate(token: string | undefined): Promise<PublicUser>;
  /**
   * The stored id of the live session a session token or an access token belongs to: what a
   * credential change keeps when it ends the others. Resolve it before the change, which makes the
   * session's old credential version stale.
   */
  sessionIdOf(token: string | undefined): Promise<string | undefined>;
  /** Ends the session of a session token or an access token, and its refresh tokens. */
  logout(token: string | undefined): Promise<void>;
  /** The live sessions of the token's user, the current one marked, most recently used first. */
  sessions(token: string | undefined): Promise<PublicSession[]>;
  /** Ends every session of the token's user except this one ("sign out other devices"); resolves to how many ended. */
  signOutOtherSessions(token: string | undefined, client?: ClientContext): Promise<number>;
  /**
   * Spends a refresh token for a new access token and a new refresh token. A spent one presented
   * again is reuse: the whole session ends (its family with it) and the audit log records it.
   */
  refresh(refreshToken: string, client?: ClientContext): Promise<TokenPair>;
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
  // Its own label, so a refresh token can never be presented as a session token or the reverse.
  const hashRefreshToken = (token: string) => hasher.token(`refresh:${token}`);

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
   * row before the password or code was checked), with its refresh token family and its first
   * access token; `events` are queued with the session row. If a reset, a phone change or 2FA
   * being turned on bumped the version meanwhile, nothing is stored and the sign-in fails with
   * `refusal`: a sign-in in flight cannot outlive the change. Refresh and access tokens die with
   * the session, because both are checked against it.
   */
  async function startSession(
    user: User,
    provenVersion: number,
    refusal: 'invalid_credentials' | 'ticket_invalid' | 'code_invalid',
    client: ClientContext,
    amr: readonly AuthMethod[],
    events: readonly DomainEvent[] = [],
  ): Promise<SignedIn> {
    const token = randomBytes(32).toString('base64url');
    const refreshToken = newRefreshToken();
    const now = deps.now();
    const expiresAt = now + settings.sessionTtlSeconds * 1000;
    const sessionId = hasher.token(token);
    const ip = client.ip === UNKNOWN_CLIENT.ip ? null : client.ip;
    const session = { userId: user.id, expiresAt, credentialVersion: provenVersion, userAgent: cleanUserAgent(client.userAgent), ip };
    if (!(await repo.createSession(sessionId, session, now, events))) {
      log.info({ userId: user.id }, 'sign-in refused: the credential changed while it was in flight');
      throw new AppError(refusal, refusal === 'ticket_invalid' ? { field: 'ticket' } : refusal === 'code_invalid' ? { field: 'code' } : {});
    }
    const family = { id: randomUUID(), userId: user.id, sessionId, amr };
    await deps.refreshTokens.createFamily(family, hashRefreshToken(refreshToken), expiresAt, now);
    // Expired sessions are refused anyway; clearing them now and then keeps the table from growing
    // forever. Not awaited: a failed clean-up must not fail a sign-in.
    if (++sessionsStarted % 500 === 0) {
      void repo.deleteExpiredSessions(now).catch((err: unknown) => log.warn({ err }, 'could not delete expired sessions'));
    }
    const access = await deps.accessTokens.issue({ userId: user.id, phone: user.phone, amr, sessionId: family.id });
    return { user: toPublic(user), token, expiresAt, accessToken: access.token, expiresIn: access.expiresIn, refreshToken };
  }

  const signedInEvent = (user: User, amr: readonly AuthMethod[]): DomainEvent => ({
    type: 'user.signed_in',
    at: deps.now(),
    data: { userId: user.id, phone: user.phone, amr: [...amr] },
  });

  async function signInOrChallenge(user: User, method: 'password' | 'sms', client: ClientContext): Promise<SignedIn | TwoFactorChallenge> {
    // After the password or code was right: only who proved the account learns it is disabled.
    if (user.disabledAt !== undefined) throw new AppError('account_disabled');
    const firstFactor = method === 'password' ? 'pwd' : 'sms';
    if (await twoFactor.isEnabled(user.id)) {
      const { ticket, expiresIn } = await twoFactor.issueTicket(user.id, user.credentialVersion, firstFactor);
      return { twoFactorRequired: true, ticket, expiresIn };
    }
    const refusal = method === 'password' ? 'invalid_credentials' : 'code_invalid';
    const signedIn = await startSession(user, user.credentialVersion, refusal, client, [firstFactor], [signedInEvent(user, [firstFactor])]);
    await deps.audit.record({ type: 'sign_in', userId: user.id, phone: user.phone, client, detail: method });
    return signedIn;
  }

  /** The live session an access token or a session token belongs to. */
  async function sessionOf(token: string | undefined): Promise<{ userId: string; sessionId: string; lastSeenAt: number | null } | undefined> {
    if (!token) return undefined;
    const now = deps.now();
    let sessionId: string;
    if (isAccessToken(token)) {
      const verified = await deps.accessTokens.verify(token);
      const family = verified && (await deps.refreshTokens.findLiveFamily(verified.sessionId, now));
      if (!family || family.userId !== verified.userId) return undefined;
      sessionId = family.sessionId;
    } else {
      sessionId = hasher.token(token);
    }
    // The same check for both, so every rule about live sessions (expiry, credential version) applies to both.
    const session = await repo.findSession(sessionId, now);
    return session && { userId: session.userId, sessionId, lastSeenAt: session.lastSeenAt ?? null };
  }

  /** The user and session behind a token; refreshes the session's last-seen time when it is over a minute old. */
  async function signedIn(token: string | undefined): Promise<{ user: User; tokenHash: string }> {
    const session = await sessionOf(token);
    const user = session && (await repo.findUserById(session.userId));
    // A disabled account's sessions stop working at once, whichever token they are presented with.
    if (!session || !user || user.disabledAt !== undefined) throw new AppError('unauthorized');
    const now = deps.now();
    if (now - (session.lastSeenAt ?? 0) >= SESSION_TOUCH_INTERVAL_MS) {
      // A missed update only makes "last seen" older: it must not fail the request.
      await repo.touchSession(session.sessionId, now).catch((err: unknown) => log.warn({ err }, 'could not update session last-seen time'));
    }
    return { user, tokenHash: session.sessionId };
  }
  /** Reuse of a spent refresh token: someone else holds this session's tokens, so the session ends. */
  async function revokeFamily(family: TokenFamily, client: ClientContext): Promise<void> {
    const user = await repo.findUserById(family.userId);
    await repo.deleteSession(family.sessionId, [
      { type: 'user.sessions_revoked', at: deps.now(), data: { userId: family.userId, phone: user?.phone, reason: 'refresh_token_reused', count: 1 } },
    ]);
    log.warn({ userId: family.userId }, 'refresh token reused: session revoked');
    await deps.audit.record({ type: 'refresh_token_reused', userId: family.userId, phone: user?.phone, client });
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
        await repo.createUser(user, [{ type: 'user.created', at: user.createdAt, data: { userId: user.id, phone } }]);
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'phone' });
        // Our failure: give the code back so the person can retry without a new SMS.
        await giveBack(consumed);
        throw err;
      }
      log.info({ userId: user.id, phone: maskPhone(phone) }, 'account created');
      await deps.audit.record({ type: 'sign_up', userId: user.id, phone, client });
      return startSession(user, user.credentialVersion, 'code_invalid', client, ['sms']);
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
      const { firstFactor } = await twoFactor.takeTicket(ticket);
      const user = await repo.findUserById(userId);
      if (!user) throw new AppError('ticket_invalid', { field: 'ticket' });
      if (user.disabledAt !== undefined) throw new AppError('account_disabled');
      // The session carries the version the ticket's password proved: a reset since then kills it.
      const amr: AuthMethod[] = [...(firstFactor ? [firstFactor] : []), 'otp', 'mfa'];
      const signedIn = await startSession(user, credentialVersion, 'ticket_invalid', client, amr, [signedInEvent(user, amr)]);
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
        const at = deps.now();
        const data = { userId: user.id, phone };
        await repo.updatePassword(user.id, await passwords.hash(newPassword), at, [
          { type: 'user.password_reset', at, data },
          { type: 'user.sessions_revoked', at, data: { ...data, reason: 'password_reset' } },
        ]);
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

    async changePhone(userId, { newPhone: rawNewPhone, code, password, totp }, client = UNKNOWN_CLIENT, keepSessionId) {
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
        const at = deps.now();
        version = await repo.updatePhone(userId, newPhone, at, [
          { type: 'user.phone_changed', at, data: { userId, phone: newPhone, previousPhone: user.phone } },
          { type: 'user.sessions_revoked', at, data: { userId, phone: newPhone, reason: 'phone_changed' } },
        ]);
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'newPhone' });
        await giveBack(consumed);
        throw err;
      }
      // The number is a credential (SMS sign-in, resets): whoever else was signed in is signed out,
      // and this session, which just proved itself again, moves to the new version.
      const endedSessions = keepSessionId
        ? await repo.keepOnlySession(userId, keepSessionId, version)
        : await repo.deleteSessionsOfUser(userId);
      log.info({ userId, from: maskPhone(user.phone), to: maskPhone(newPhone), endedSessions }, 'phone changed');
      // Refresh tokens and access tokens carry the old number: they end here, in every session,
      // the kept one included (its cookie stays signed in).
      await deps.refreshTokens.deleteFamiliesOfUser(userId);
      await deps.audit.record({ type: 'phone_changed', userId, phone: newPhone, client, detail: `from ${maskPhone(user.phone)}` });
      // The old number hears of it, so someone who took over the session cannot move the account quietly.
      await verification.sendNotice(user.phone as E164, 'change_phone', phoneChangedText(settings.appName, maskPhone(newPhone)), client);
      return toPublic({ ...user, phone: newPhone });
    },

    activity: (userId) => deps.audit.listForUser(userId),

    async sessionIdOf(token) {
      return (await sessionOf(token))?.sessionId;
    },

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
      const session = await sessionOf(token);
      if (!session) throw new AppError('unauthorized');
      // The refresh tokens go with the session row (foreign key, on delete cascade).
      await repo.deleteSession(session.sessionId);
    },

    async refresh(refreshToken, client = UNKNOWN_CLIENT) {
      const now = deps.now();
      const presentedHash = hashRefreshToken(refreshToken);
      const found = await deps.refreshTokens.findToken(presentedHash, now);
      if (!found || found.expiresAt <= now) throw new AppError('unauthorized');
      const { family } = found;
      // Whatever ended or invalidated the session ends its refresh tokens, checked as for any session.
      if (!(await repo.findSession(family.sessionId, now))) throw new AppError('unauthorized');
      const next = newRefreshToken();
      // Spent before, or spent a moment ago by a concurrent refresh with the same token: either way
      // two parties hold it, and the session cannot tell which is the owner.
      if (found.spentAt !== null || !(await deps.refreshTokens.exchange(presentedHash, hashRefreshToken(next), family.id, family.sessionExpiresAt, now))) {
        await revokeFamily(family, client);
        throw new AppError('unauthorized');
      }
      const user = await repo.findUserById(family.userId);
      if (!user) throw new AppError('unauthorized');
      const access = await deps.accessTokens.issue({ userId: user.id, phone: user.phone, amr: family.amr, sessionId: family.id });
      return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken: next };
    },
  };
}

/** Access tokens are JWTs (three dot-separated parts); session tokens never contain a dot. */
const isAccessToken = (token: string) => token.includes('.');

/** Opaque, 256 bits from the CSPRNG; the prefix only tells a person which kind of token it is. */
const newRefreshToken = () => `rt_${randomBytes(32).toString('base64url')}`;
