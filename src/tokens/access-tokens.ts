import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { AccessTokens } from '../domain/access-tokens.js';
import type { SigningKeys } from './signing-keys.js';

export interface JwtAccessTokenSettings {
  /** `iss`: PUBLIC_URL. */
  readonly issuer: string;
  /** `aud`: JWT_AUDIENCE. */
  readonly audience: string;
  readonly ttlSeconds: number;
}

/** Access tokens as JWTs signed with jose, over the keys in the database. */
export function jwtAccessTokens(keys: SigningKeys, settings: JwtAccessTokenSettings, now: () => number) {
  return {
    async issue({ userId, phone, amr, sessionId }) {
      const { kid, alg, key } = await keys.signing();
      const issuedAt = Math.floor(now() / 1000);
      const token = await new SignJWT({ phone_number: phone, amr: [...amr], sid: sessionId })
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setSubject(userId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + settings.ttlSeconds)
        .setJti(randomUUID())
        .sign(key);
      return { token, expiresIn: settings.ttlSeconds };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            const found = await keys.verification(header.kid);
            // The header's alg must be the key's own: a token cannot pick how it is checked.
            if (!found || found.alg !== header.alg) throw new Error('unknown signing key');
            return found.key;
          },
          { issuer: settings.issuer, audience: settings.audience, algorithms: ['ES256', 'EdDSA'], currentDate: new Date(now()), requiredClaims: ['exp', 'sub'] },
        );
        if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return undefined;
        return { userId: payload.sub, sessionId: payload.sid };
      } catch {
        return undefined;
      }
    },
  } satisfies AccessTokens;
}
