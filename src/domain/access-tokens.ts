/** RFC 8176 authentication method references this service uses. */
export type AuthMethod = 'pwd' | 'sms' | 'otp' | 'mfa';

/** What an access token says about its session. */
export interface AccessTokenSubject {
  readonly userId: string;
  /** E.164, the `phone_number` claim. */
  readonly phone: string;
  /** How the session was proven, the `amr` claim. */
  readonly amr: readonly AuthMethod[];
  /** The `sid` claim: the session's public id, so this service can refuse tokens of an ended session. */
  readonly sessionId: string;
}

/**
 * Signed, short-lived access tokens (JWT) that a backend checks offline against the JWKS.
 * Implemented with jose over keys in the database (src/tokens/).
 */
export interface AccessTokens {
  issue(subject: AccessTokenSubject): Promise<{ token: string; expiresIn: number }>;
  /** The user and session of a valid token (signature, issuer, audience, expiry); undefined for any other. */
  verify(token: string): Promise<{ userId: string; sessionId: string } | undefined>;
}
