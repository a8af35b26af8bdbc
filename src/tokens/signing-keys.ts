import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { SecretBox } from '../domain/secret-box.js';

export type SigningAlgorithm = 'ES256' | 'EdDSA';

/** A signing key as stored: the private half sealed under SECRET, the kid as associated data. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly publicJwk: JWK;
  readonly privateJwkSealed: string;
  readonly createdAt: number;
  /** When a newer key took over signing; null while this one signs. */
  readonly retiredAt: number | null;
}

export interface SigningKeyRepository {
  list(): Promise<StoredSigningKey[]>;
  insert(key: StoredSigningKey): Promise<void>;
  /** Marks every other key that still signs as retired at `at`. */
  retireAllBut(kid: string, at: number): Promise<void>;
  /** Deletes keys retired before `before`: no token they signed is still valid. */
  deleteRetiredBefore(before: number): Promise<number>;
}

export function kyselySigningKeyRepository(db: Kysely<DatabaseSchema>): SigningKeyRepository {
  return {
    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
      return rows.map((row) => ({
        kid: row.kid,
        alg: row.alg as SigningAlgorithm,
        publicJwk: JSON.parse(row.public_jwk) as JWK,
        privateJwkSealed: row.private_jwk_encrypted,
        createdAt: Number(row.created_at),
        retiredAt: row.retired_at === null ? null : Number(row.retired_at),
      }));
    },
    async insert(key) {
      await db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          alg: key.alg,
          public_jwk: JSON.stringify(key.publicJwk),
          private_jwk_encrypted: key.privateJwkSealed,
          created_at: key.createdAt,
          retired_at: key.retiredAt,
        })
        .execute();
    },
    async retireAllBut(kid, at) {
      await db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '!=', kid).where('retired_at', 'is', null).execute();
    },
    async deleteRetiredBefore(before) {
      const result = await db.deleteFrom('signing_keys').where('retired_at', 'is not', null).where('retired_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** Makes a key pair; the kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(alg: SigningAlgorithm, box: SecretBox, now: number): Promise<StoredSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return { kid, alg, publicJwk, privateJwkSealed: box.seal(JSON.stringify(privateJwk), kid), createdAt: now, retiredAt: null };
}

export interface SigningKeysDeps {
  readonly repo: SigningKeyRepository;
  readonly box: SecretBox;
  /** For keys this instance generates. */
  readonly algorithm: SigningAlgorithm;
  readonly accessTokenTtlSeconds: number;
  readonly now: () => number;
  /**
   * How long an instance uses what it read of the keys before reading them again, so a rotation
   * by another process (`npm run keys -- rotate`) reaches every instance within this.
   * @default 30000
   */
  readonly reloadMs?: number;
}

export interface PublicJwk extends JWK {
  readonly kty: string;
  readonly kid: string;
  readonly alg: string;
  readonly use: 'sig';
}

export interface SigningKeys {
  /** Generates the first key if the database has none that signs (first start). */
  ensure(): Promise<void>;
  /** The key new tokens are signed with: the newest that is not retired. */
  signing(): Promise<{ kid: string; alg: SigningAlgorithm; key: CryptoKey }>;
  /** The public key for a kid that is still published; undefined for an unknown or withdrawn one. */
  verification(kid: string | undefined): Promise<{ alg: SigningAlgorithm; key: CryptoKey } | undefined>;
  /** Every key a valid token may carry: the signing one, and retired ones until their last token expired. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** Adds a new signing key and retires the others (they stay published); drops keys no token needs. */
  rotate(): Promise<StoredSigningKey>;
}

/**
 * A read for an unknown kid at most this often, so made-up kids cost one query a second at most;
 * a key another instance made a moment ago (two first starts at once, a rotation) is found soon.
 */
const UNKNOWN_KID_RELOAD_MS = 1000;
/** Clock difference between instances and backends we allow for. */
const CLOCK_SKEW_MS = 60_000;

export function createSigningKeys(deps: SigningKeysDeps): SigningKeys {
  const { repo, box, now } = deps;
  const reloadMs = deps.reloadMs ?? 30_000;
  let cached: { at: number; keys: StoredSigningKey[] } | undefined;
  const imported = new Map<string, Promise<CryptoKey>>();

  // A retired key may still sign on an instance that has not reloaded yet (reloadMs), and what it
  // signed lives for the token lifetime after that.
  const publishedUntil = (key: StoredSigningKey) =>
    key.retiredAt === null ? Infinity : key.retiredAt + reloadMs + deps.accessTokenTtlSeconds * 1000 + CLOCK_SKEW_MS;

  async function load(): Promise<StoredSigningKey[]> {
    cached = { at: now(), keys: await repo.list() };
    return cached.keys;
  }
  const keys = async () => (cached && now() - cached.at < reloadMs ? cached.keys : load());
  const published = (all: StoredSigningKey[]) => all.filter((k) => publishedUntil(k) > now());

  function importKey(kid: string, jwk: JWK, alg: SigningAlgorithm, which: 'public' | 'private'): Promise<CryptoKey> {
    const id = `${which}:${kid}`;
    let key = imported.get(id);
    if (!key) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      imported.set(id, key);
    }
    return key;
  }

  async function generateAndStore(): Promise<StoredSigningKey> {
    const key = await generateSigningKey(deps.algorithm, box, now());
    await repo.insert(key);
    return key;
  }

  return {
    async ensure() {
      if (!(await load()).some((k) => k.retiredAt === null)) {
        await generateAndStore();
        await load();
      }
    },
    async signing() {
      let current = (await keys()).find((k) => k.retiredAt === null);
      if (!current) {
        await this.ensure();
        current = (await keys()).find((k) => k.retiredAt === null)!;
      }
      const jwk = JSON.parse(box.open(current.privateJwkSealed, current.kid)) as JWK;
      return { kid: current.kid, alg: current.alg, key: await importKey(current.kid, jwk, current.alg, 'private') };
    },
    async verification(kid) {
      if (!kid) return undefined;
      let key = published(await keys()).find((k) => k.kid === kid);
      if (!key && cached && now() - cached.at >= UNKNOWN_KID_RELOAD_MS) key = published(await load()).find((k) => k.kid === kid);
      return key && { alg: key.alg, key: await importKey(key.kid, key.publicJwk, key.alg, 'public') };
    },
    async jwks() {
      return { keys: published(await keys()).map((k) => ({ ...k.publicJwk, kty: k.publicJwk.kty ?? '', kid: k.kid, alg: k.alg, use: 'sig' as const })) };
    },
    async rotate() {
      const key = await generateAndStore();
      await repo.retireAllBut(key.kid, key.createdAt);
      // Safe to forget: retired so long ago that no instance signs with them and their tokens expired.
      await repo.deleteRetiredBefore(now() - reloadMs - deps.accessTokenTtlSeconds * 1000 - CLOCK_SKEW_MS - 24 * 3600 * 1000);
      await load();
      return key;
    },
  };
}
