import type { DomainEvent } from './events.js';

/** A user's TOTP state as stored. */
export interface TwoFactorRecord {
  /** AES-256-GCM ciphertext (see secret-box.ts); the plain secret is never stored. */
  readonly secretEncrypted: string;
  /** Null while set up but not confirmed. */
  readonly enabledAt: number | null;
  /** Newest accepted TOTP time step, for replay protection. */
  readonly lastStep: number | null;
}

/**
 * Persistence of the second factor, recovery codes and login tickets. Every method that decides
 * a race is one conditional statement, so exactly one of two concurrent callers gets `true`.
 */
export interface TwoFactorRepository {
  find(userId: string): Promise<TwoFactorRecord | undefined>;
  /** Stores a new pending secret unless 2FA is already on (then false). */
  savePending(userId: string, secretEncrypted: string, now: number): Promise<boolean>;
  /** Turns a pending setup on, accepting `step`, and replaces the recovery codes. False if it was on already or the step is not newer. */
  enable(userId: string, step: number, recoveryCodeHashes: readonly string[], now: number, events?: readonly DomainEvent[]): Promise<boolean>;
  /** Accepts a TOTP step for an enabled user only if it is newer than the last one (replay guard). */
  claimStep(userId: string, step: number): Promise<boolean>;
  /** Marks an unused recovery code used; false if unknown or used. */
  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean>;
  countUnusedRecoveryCodes(userId: string): Promise<number>;
  /** Replaces every recovery code (used or not) of an enabled user with these, the old ones first; false if 2FA is not on. */
  replaceRecoveryCodes(userId: string, recoveryCodeHashes: readonly string[]): Promise<boolean>;
  /** Removes the second factor and the recovery codes; false if 2FA was not on. */
  disable(userId: string, events?: readonly DomainEvent[]): Promise<boolean>;
  /**
   * `credentialVersion`: the user's version the password was proven at (see User.credentialVersion);
   * `firstFactor`: how the first step was proven (pwd, sms), for the session's amr.
   */
  createTicket(ticketHash: string, userId: string, expiresAt: number, now: number, credentialVersion: number, firstFactor?: string): Promise<void>;
  /** The user of a live ticket and the credential version it proved, without using it up. */
  findTicket(ticketHash: string, now: number): Promise<{ userId: string; credentialVersion: number } | undefined>;
  /** Deletes a live ticket; answers for exactly one caller, undefined for the others. */
  takeTicket(ticketHash: string, now: number): Promise<{ firstFactor: string | null } | undefined>;
}
