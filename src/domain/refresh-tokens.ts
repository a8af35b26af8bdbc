import type { AuthMethod } from './access-tokens.js';

/**
 * The refresh tokens of one session. Each refresh spends the token presented and hands out the
 * next; the family lives exactly as long as its session, so whatever ends the session (logout,
 * reset, phone change, reuse) ends every refresh token of it too.
 */
export interface TokenFamily {
  /** Public: the access tokens' `sid`. */
  readonly id: string;
  readonly userId: string;
  /** Row id of the session (the keyed hash of its token). */
  readonly sessionId: string;
  readonly amr: readonly AuthMethod[];
  readonly sessionExpiresAt: number;
}

/** Persistence of refresh tokens; Kysely in src/db/refresh-token-repository.ts. Tokens are stored as keyed hashes. */
export interface RefreshTokenRepository {
  /** Starts the family of a new session with its first token, in one transaction. */
  createFamily(family: Omit<TokenFamily, 'sessionExpiresAt'>, tokenHash: string, expiresAt: number, now: number): Promise<void>;
  /** The family, while its session is live. */
  findLiveFamily(familyId: string, now: number): Promise<TokenFamily | undefined>;
  /** A token and its family, while the family's session is live (spent tokens too: that is how reuse shows). */
  findToken(tokenHash: string, now: number): Promise<{ family: TokenFamily; spentAt: number | null; expiresAt: number } | undefined>;
  /**
   * Spends `oldHash` and stores its successor, in one transaction. False if it was spent already:
   * of two refreshes with one token, exactly one gets a successor.
   */
  exchange(oldHash: string, newHash: string, familyId: string, expiresAt: number, now: number): Promise<boolean>;
  /** Ends every family of the user (their sessions stay); resolves to how many. */
  deleteFamiliesOfUser(userId: string): Promise<number>;
}
