/** An account as the domain sees it. */
export interface User {
  readonly id: string;
  /** E.164. */
  readonly phone: string;
  readonly passwordHash: string;
  readonly createdAt: number;
  /** Set while an operator has disabled the account: no sign-in, no codes. */
  readonly disabledAt?: number | undefined;
}

export interface Session {
  readonly userId: string;
  readonly expiresAt: number;
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
  deleteSessionsOfUser(userId: string): Promise<number>;
  /** Disables (a time) or re-enables (null) the account. */
  setDisabled(userId: string, disabledAt: number | null, now: number): Promise<void>;
  /** Removes sessions that expired before `now`; resolves to how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}
