import type { DomainEvent } from './events.js';

/** An account as the domain sees it. */
export interface User {
  readonly id: string;
  /** E.164. */
  readonly phone: string;
  readonly passwordHash: string;
  readonly createdAt: number;
  /**
   * Bumped by every credential change (password reset, phone change, 2FA turned on). A session is
   * stored with the version its sign-in proved and works only while it is still the user's.
   */
  readonly credentialVersion: number;
  /** Set while an operator has disabled the account: no sign-in, no codes. */
  readonly disabledAt?: number | undefined;
}

export interface Session {
  readonly userId: string;
  readonly expiresAt: number;
  /** The user's credentialVersion that the sign-in proved (read before the password or code was checked). */
  readonly credentialVersion: number;
  /** The device it signed in from (trimmed User-Agent) and the address; null when unknown. */
  readonly userAgent?: string | null;
  readonly ip?: string | null;
  /** The last authenticated request, at most a minute stale; null until the first one after sign-in. */
  readonly lastSeenAt?: number | null;
}

/** A live session as the account page lists it. */
export interface SessionRecord extends Session {
  readonly tokenHash: string;
  readonly createdAt: number;
}

/** Thrown by createUser when the phone already has an account (the database's unique constraint). */
export class PhoneTakenError extends Error {
  override name = 'PhoneTakenError';
}

/**
 * Persistence of accounts and sessions. Implemented with Kysely for SQLite and PostgreSQL;
 * test/accounts/account-repository.conformance.ts runs against each. A write that takes `events`
 * queues them (the webhook outbox) in the same transaction: they exist exactly when the change does.
 */
export interface AccountRepository {
  findUserByPhone(phone: string): Promise<User | undefined>;
  findUserById(id: string): Promise<User | undefined>;
  /** Inserts the user; throws PhoneTakenError if the phone is registered, even under a race. */
  createUser(user: User, events?: readonly DomainEvent[]): Promise<void>;
  /** Sets the password and bumps the credential version in one statement; resolves to the new version. */
  updatePassword(userId: string, passwordHash: string, now: number, events?: readonly DomainEvent[]): Promise<number>;
  /**
   * Moves the account to another number and bumps the credential version in one statement;
   * resolves to the new version. Throws PhoneTakenError if the number has an account, even under a race.
   */
  updatePhone(userId: string, phone: string, now: number, events?: readonly DomainEvent[]): Promise<number>;
  /** Bumps the credential version (2FA turned on); resolves to the new one. */
  bumpCredentialVersion(userId: string): Promise<number>;
  /**
   * Stores the session only if `session.credentialVersion` is still the user's, checked in the
   * same statement as the insert (on PostgreSQL under a share lock of the user's row, so a
   * concurrent credential change waits for it or it for the change). False when it was not stored.
   */
  createSession(tokenHash: string, session: Session, now: number, events?: readonly DomainEvent[]): Promise<boolean>;
  /** The live session with this token hash, or undefined if unknown, expired or of an older credential version. */
  findSession(tokenHash: string, now: number): Promise<Session | undefined>;
  /** Ends every other session of the user and moves the kept one to `credentialVersion`; resolves to how many ended. */
  keepOnlySession(userId: string, tokenHash: string, credentialVersion: number): Promise<number>;
  deleteSession(tokenHash: string, events?: readonly DomainEvent[]): Promise<void>;
  /** Sets the session's last-seen time to `now`. */
  touchSession(tokenHash: string, now: number): Promise<void>;
  /** The user's live sessions, most recently used first. */
  listSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Ends every session of the user but `keepTokenHash`; resolves to how many ended. */
  deleteOtherSessions(userId: string, keepTokenHash: string): Promise<number>;
  deleteSessionsOfUser(userId: string): Promise<number>;
  /** Disables (a time) or re-enables (null) the account. */
  setDisabled(userId: string, disabledAt: number | null, now: number): Promise<void>;
  /** Removes sessions that expired before `now`; resolves to how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}
