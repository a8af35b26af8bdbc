/** An account as the domain sees it. */
export interface User {
  readonly id: string;
  /** E.164. */
  readonly phone: string;
  readonly passwordHash: string;
  readonly createdAt: number;
}

export interface Session {
  readonly userId: string;
  readonly expiresAt: number;
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
 * test/accounts/account-repository.conformance.ts runs against each.
 */
export interface AccountRepository {
  findUserByPhone(phone: string): Promise<User | undefined>;
  findUserById(id: string): Promise<User | undefined>;
  /** Inserts the user; throws PhoneTakenError if the phone is registered, even under a race. */
  createUser(user: User): Promise<void>;
  updatePassword(userId: string, passwordHash: string, now: number): Promise<void>;
  /** Moves the account to another number; throws PhoneTakenError if it has an account, even under a race. */
  updatePhone(userId: string, phone: string, now: number): Promise<void>;
  createSession(tokenHash: string, session: Session, now: number): Promise<void>;
  /** The live session with this token hash, or undefined if unknown or expired. */
  findSession(tokenHash: string, now: number): Promise<Session | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Sets the session's last-seen time to `now`. */
  touchSession(tokenHash: string, now: number): Promise<void>;
  /** The user's live sessions, most recently used first. */
  listSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Ends every session of the user but `keepTokenHash`; resolves to how many ended. */
  deleteOtherSessions(userId: string, keepTokenHash: string): Promise<number>;
  deleteSessionsOfUser(userId: string): Promise<number>;
  /** Removes sessions that expired before `now`; resolves to how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}
