import { randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { PhoneTakenError, type AccountRepository, type User } from './account-repository.js';
import type { Hasher } from './codes.js';
import type { Logger } from './logger.js';
import { hashPassword, isAcceptablePassword, verifyPassword } from './passwords.js';
import { maskPhone, normalizePhone, type E164 } from './phone.js';
import type { VerificationService } from './verification.js';

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

export interface AccountDeps {
  readonly repo: AccountRepository;
  readonly verification: VerificationService;
  readonly hasher: Hasher;
  readonly settings: { readonly sessionTtlSeconds: number; readonly defaultRegion: string };
  readonly now: () => number;
  readonly log: Logger;
}

export interface AccountService {
  register(input: { phone: string; code: string; password: string }): Promise<SignedIn>;
  loginWithPassword(input: { phone: string; password: string }): Promise<SignedIn>;
  loginWithCode(input: { phone: string; code: string }): Promise<SignedIn>;
  resetPassword(input: { phone: string; code: string; newPassword: string }): Promise<{ revokedSessions: number }>;
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
  const { repo, verification, hasher, settings, log } = deps;
  const phoneOf = (raw: string) => normalizePhone(raw, settings.defaultRegion);
  // Verifying against this when the phone is unknown makes "no such user" as slow as "wrong password".
  let decoyHash: Promise<string> | undefined;

  async function startSession(user: User): Promise<SignedIn> {
    const token = randomBytes(32).toString('base64url');
    const now = deps.now();
    const expiresAt = now + settings.sessionTtlSeconds * 1000;
    await repo.createSession(hasher.token(token), { userId: user.id, expiresAt }, now);
    return { user: toPublic(user), token, expiresAt };
  }

  function requireAcceptable(password: string, field: string): void {
    if (!isAcceptablePassword(password)) throw new AppError('weak_password', { field });
  }

  return {
    async register({ phone: rawPhone, code, password }) {
      // Checked before the code, so a typo in the password does not waste an attempt.
      requireAcceptable(password, 'password');
      const phone = phoneOf(rawPhone);
      if (await repo.findUserByPhone(phone)) throw new AppError('phone_taken', { field: 'phone' });

      const consumed = await verification.consume(phone, 'register', code);
      let user: User;
      try {
        user = { id: randomUUID(), phone, passwordHash: await hashPassword(password), createdAt: deps.now() };
        await repo.createUser(user);
      } catch (err) {
        if (err instanceof PhoneTakenError) throw new AppError('phone_taken', { field: 'phone' });
        // Our failure: give the code back so the person can retry without a new SMS.
        await consumed.restore().catch((restoreErr: unknown) => log.error({ err: restoreErr }, 'could not restore code'));
        throw err;
      }
      log.info({ userId: user.id, phone: maskPhone(phone) }, 'account created');
      return startSession(user);
    },

    async loginWithPassword({ phone: rawPhone, password }) {
      const phone = phoneOf(rawPhone);
      const user = await repo.findUserByPhone(phone);
      if (!user) {
        decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
        await verifyPassword(await decoyHash, password);
        throw new AppError('invalid_credentials');
      }
      if (!(await verifyPassword(user.passwordHash, password))) {
        log.info({ userId: user.id }, 'wrong password');
        throw new AppError('invalid_credentials');
      }
      return startSession(user);
    },

    async loginWithCode({ phone: rawPhone, code }) {
      const phone = phoneOf(rawPhone);
      await verification.consume(phone, 'login', code);
      const user = await repo.findUserByPhone(phone);
      if (!user) throw new AppError('phone_not_registered', { field: 'phone' });
      return startSession(user);
    },

    async resetPassword({ phone: rawPhone, code, newPassword }) {
      requireAcceptable(newPassword, 'newPassword');
      const phone: E164 = phoneOf(rawPhone);
      const user = await repo.findUserByPhone(phone);
      if (!user) throw new AppError('phone_not_registered', { field: 'phone' });
      const consumed = await verification.consume(phone, 'reset_password', code);
      try {
        await repo.updatePassword(user.id, await hashPassword(newPassword), deps.now());
      } catch (err) {
        await consumed.restore().catch((restoreErr: unknown) => log.error({ err: restoreErr }, 'could not restore code'));
        throw err;
      }
      // A reset is what someone does when they fear another holds the password: end every session.
      const revokedSessions = await repo.deleteSessionsOfUser(user.id);
      log.info({ userId: user.id, revokedSessions }, 'password reset');
      return { revokedSessions };
    },

    async authenticate(token) {
      if (!token) throw new AppError('unauthorized');
      const session = await repo.findSession(hasher.token(token), deps.now());
      const user = session && (await repo.findUserById(session.userId));
      if (!user) throw new AppError('unauthorized');
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
