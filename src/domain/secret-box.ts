import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets the service must read back. A TOTP secret cannot be stored as a hash like
 * codes and tokens, because checking a TOTP code needs the secret itself; so it is encrypted with
 * AES-256-GCM under a key derived from SECRET (HKDF-SHA256, its own `info` so this key is never
 * the HMAC key). GCM authenticates as well as hides: a tampered row fails to decrypt instead of
 * yielding a different secret. The associated data binds each ciphertext to its row (the user id),
 * so copying one user's ciphertext onto another account does not work.
 */
export interface SecretBox {
  seal(plaintext: string, associatedData: string): string;
  /** Throws if the ciphertext was altered, moved to another row, or sealed under another SECRET. */
  open(sealed: string, associatedData: string): string;
}

const VERSION = 'v1';

export function createSecretBox(secret: string, purpose = 'sms-verify totp secret'): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `${purpose} ${VERSION}`, 32));
  return {
    seal(plaintext, aad) {
      // 96-bit random nonce: GCM's standard size; random is safe far beyond the number of secrets we will ever seal.
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, aad) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || !body || !tag) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
