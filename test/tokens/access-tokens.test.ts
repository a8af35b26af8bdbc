import { createRemoteJWKSet, decodeProtectedHeader, errors, generateKeyPair, jwtVerify, SignJWT, decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/domain/secret-box.js';
import { createSigningKeys, kyselySigningKeyRepository } from '../../src/tokens/signing-keys.js';
import { backendAvailable, postgresTestSchema } from '../helpers/backends.js';
import { createTestApp, fakeClock, PASSWORD, PHONE, post, registerUser, sendCode, TEST_SECRET, type TestApp } from '../helpers/app.js';
import { listen, totpNow } from '../security/helpers.js';

const ISSUER = 'https://auth.example.test';
const NEW_PHONE = '+8613900139000';

/** Signs up PHONE and returns the whole answer's body. */
async function signUp(t: TestApp, phone = PHONE) {
  const code = await sendCode(t, phone, 'register');
  const res = await post(t.app, '/api/register', { phone, code, password: PASSWORD });
  expect(res.status).toBe(201);
  return res.body as { user: { id: string }; token: string; accessToken: string; tokenType: string; expiresIn: number; refreshToken: string };
}

const me = (t: TestApp, credential: string) => t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${credential}` } });
const refresh = (t: TestApp, refreshToken: string) => post(t.app, '/api/token/refresh', { refreshToken });

describe('a backend verifies access tokens with the JWKS alone', () => {
  let t: TestApp;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let base: string;
  beforeAll(async () => {
    // Real time: the backend's jose checks exp against its own clock.
    t = await createTestApp({ clock: fakeClock(Date.now()), env: { PUBLIC_URL: ISSUER, JWT_AUDIENCE: 'my-product' } });
    base = (await listen(t)).base;
    jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs up with a Bearer access token that verifies against /.well-known/jwks.json, with the claims as named', async () => {
    const body = await signUp(t);
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshToken: expect.stringMatching(/^rt_[A-Za-z0-9_-]{43}$/) });
    const { payload, protectedHeader } = await jwtVerify(body.accessToken, jwks, { issuer: ISSUER, audience: 'my-product' });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: expect.any(String), typ: 'JWT' });
    expect(payload).toMatchObject({ iss: ISSUER, aud: 'my-product', sub: body.user.id, phone_number: PHONE, amr: ['sms'], jti: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);

    const res = await fetch(`${base}/.well-known/jwks.json`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: protectedHeader.kid, alg: 'ES256', use: 'sig' })]);
    // Only the public half is published.
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('rejects a token signed by another key under the same kid, an expired one, and one for another audience', async () => {
    const { accessToken } = await signUp(t, '+8613800138001');
    const claims = decodeJwt(accessToken);
    const { kid } = decodeProtectedHeader(accessToken);
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: kid! }).sign(other.privateKey);
    await expect(jwtVerify(forged, jwks, { issuer: ISSUER, audience: 'my-product' })).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    await expect(jwtVerify(accessToken, jwks, { issuer: ISSUER, audience: 'another-product' })).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    await expect(jwtVerify(accessToken, jwks, { issuer: ISSUER, audience: 'my-product', currentDate: new Date(Date.now() + 901_000) })).rejects.toBeInstanceOf(
      errors.JWTExpired,
    );
    // This service refuses the forged one too, and the real one once it has expired.
    expect((await me(t, forged)).statusCode).toBe(401);
    expect((await me(t, accessToken)).statusCode).toBe(200);
    t.clock.advance(901_000);
    expect((await me(t, accessToken)).statusCode).toBe(401);
    t.clock.advance(-901_000);
  });

  it('answers 401, never 500, for malformed and unsigned tokens', async () => {
    const { accessToken } = await signUp(t, '+8613800138002');
    const [header, payload] = accessToken.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const hs256 = await new SignJWT(decodeJwt(accessToken)).setProtectedHeader({ alg: 'HS256', kid: decodeProtectedHeader(accessToken).kid! }).sign(new Uint8Array(32));
    for (const bad of ['a.b.c', `${header}.${payload}`, `${header}.${payload}.AAAA`, unsigned, hs256, `${'x'.repeat(2000)}.${'y'.repeat(2000)}.z`]) {
      const res = await me(t, bad);
      expect(res.statusCode, bad.slice(0, 40)).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });
});

describe('what the database holds', () => {
  it('no refresh token, no access token, and the private signing key only sealed under SECRET', async () => {
    const t = await createTestApp({ clock: fakeClock(Date.now()) });
    try {
      const body = await signUp(t);
      const next = (await refresh(t, body.refreshToken)).body;
      const [row] = await (await openSameDatabase(t)).selectFrom('signing_keys').selectAll().execute();
      const privateJwk = JSON.parse(createSecretBox(TEST_SECRET, 'sms-verify signing key').open(row!.private_jwk_encrypted, row!.kid)) as { d: string };
      // Sealed under another SECRET, the same ciphertext does not open.
      expect(() => createSecretBox('another-secret-another-secret-0123456789', 'sms-verify signing key').open(row!.private_jwk_encrypted, row!.kid)).toThrow();
      const { readFileSync, existsSync } = await import('node:fs');
      const dump = ['test.db', 'test.db-wal']
        .filter((f) => existsSync(`${t.dir}/${f}`))
        .map((f) => readFileSync(`${t.dir}/${f}`).toString('latin1'))
        .join('');
      expect(dump).toContain(PHONE);
      for (const secret of [body.refreshToken, next.refreshToken, body.accessToken, next.accessToken, privateJwk.d]) expect(dump).not.toContain(secret);
    } finally {
      await t.close();
    }
  });
});

describe('EdDSA', () => {
  it('signs with Ed25519 keys when JWT_ALGORITHM=EdDSA', async () => {
    const t = await createTestApp({ clock: fakeClock(Date.now()), env: { JWT_ALGORITHM: 'EdDSA' } });
    try {
      const { accessToken } = await signUp(t);
      const keys = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys;
      expect(keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' })]);
      const { protectedHeader } = await jwtVerify(accessToken, async () => (await import('jose')).importJWK(keys[0], 'EdDSA'), { audience: 'sms-verify' });
      expect(protectedHeader.alg).toBe('EdDSA');
    } finally {
      await t.close();
    }
  });
});

/** The rules that involve storage, on SQLite and on PostgreSQL. */
function sessionTokenSuite(name: string, env: () => Record<string, string>) {
  describe(`refresh tokens and key rotation (${name})`, () => {
    let t: TestApp;
    afterEach(async () => {
      await t.close();
    });
    const start = async () => {
      t = await createTestApp({ clock: fakeClock(Date.now()), env: env() });
    };

    it('rotates the refresh token on every use, with Cache-Control: no-store, and /api/me takes the access token', async () => {
      await start();
      const first = await signUp(t);
      expect((await me(t, first.accessToken)).json().user.id).toBe(first.user.id);
      const res = await refresh(t, first.refreshToken);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      expect(res.body.refreshToken).not.toBe(first.refreshToken);
      expect(decodeJwt(res.body.accessToken)).toMatchObject({ sub: first.user.id, amr: ['sms'], phone_number: PHONE });
      expect((await me(t, res.body.accessToken)).statusCode).toBe(200);
      // The pages' cookie session is the same session and still works.
      expect((await t.app.inject({ method: 'GET', url: '/api/me', cookies: { sms_verify_session: first.token } })).statusCode).toBe(200);
      expect((await refresh(t, 'rt_not-a-token')).body.error.code).toBe('unauthorized');
    });

    it('treats a spent refresh token presented again as reuse: the session ends, and the audit log says so', async () => {
      await start();
      const first = await signUp(t);
      const second = (await refresh(t, first.refreshToken)).body;
      const reuse = await refresh(t, first.refreshToken);
      expect(reuse.status).toBe(401);
      expect(reuse.body.error.code).toBe('unauthorized');
      // The whole family is gone: the successor, the access tokens and the cookie session.
      expect((await refresh(t, second.refreshToken)).status).toBe(401);
      expect((await me(t, second.accessToken)).statusCode).toBe(401);
      expect((await me(t, first.token)).statusCode).toBe(401);
      const other = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body;
      const activity = await t.app.inject({ method: 'GET', url: '/api/account/activity', headers: { authorization: `Bearer ${other.accessToken}` } });
      expect(activity.json().events.map((e: { type: string }) => e.type)).toContain('refresh_token_reused');
    });

    it('of concurrent refreshes with one token, exactly one gets a new pair', async () => {
      await start();
      const { base } = await listen(t);
      const first = await signUp(t);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${base}/api/token/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: first.refreshToken }) }),
        ),
      );
      expect(answers.map((a) => a.status).filter((s) => s === 200)).toHaveLength(1);
      expect(answers.every((a) => a.status === 200 || a.status === 401)).toBe(true);
    });

    it('ends refresh tokens and access tokens with logout, password reset and phone change', async () => {
      await start();
      const signedUp = await signUp(t);
      // Logout with the access token ends its session.
      const loggedIn = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body;
      const out = await t.app.inject({ method: 'POST', url: '/api/logout', headers: { authorization: `Bearer ${loggedIn.accessToken}` } });
      expect(out.statusCode).toBe(204);
      expect((await refresh(t, loggedIn.refreshToken)).status).toBe(401);
      expect((await me(t, loggedIn.token)).statusCode).toBe(401);

      const code = await sendCode(t, PHONE, 'reset_password');
      expect((await post(t.app, '/api/password/reset', { phone: PHONE, code, newPassword: 'another password' })).status).toBe(200);
      expect((await refresh(t, signedUp.refreshToken)).status).toBe(401);
      expect((await me(t, signedUp.accessToken)).statusCode).toBe(401);

      const session = (await post(t.app, '/api/login/password', { phone: PHONE, password: 'another password' })).body;
      const auth = { authorization: `Bearer ${session.accessToken}` };
      const changeCode = await sendCode(t, NEW_PHONE, 'change_phone', auth);
      const changed = await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code: changeCode, password: 'another password' }, auth);
      expect(changed.status).toBe(200);
      // Tokens that carry the old number end; the session that made the change keeps its cookie.
      expect((await refresh(t, session.refreshToken)).status).toBe(401);
      expect((await me(t, session.accessToken)).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/me', cookies: { sms_verify_session: session.token } })).statusCode).toBe(200);
      const again = (await post(t.app, '/api/login/password', { phone: NEW_PHONE, password: 'another password' })).body;
      expect(decodeJwt(again.accessToken).phone_number).toBe(NEW_PHONE);
    });

    it('says how a sign-in with 2FA was proven: amr pwd, otp, mfa', async () => {
      await start();
      const token = await registerUser(t);
      const auth = { authorization: `Bearer ${token}` };
      const { secret } = (await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body;
      await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth);
      t.clock.advance(30_000);
      const { ticket } = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body;
      const done = await post(t.app, '/api/login/2fa', { ticket, code: await totpNow(secret, t.clock) });
      expect(done.status).toBe(200);
      expect(decodeJwt(done.body.accessToken).amr).toEqual(['pwd', 'otp', 'mfa']);
      expect(decodeJwt((await refresh(t, done.body.refreshToken)).body.accessToken).amr).toEqual(['pwd', 'otp', 'mfa']);
    });

    it('key rotation: new tokens get the new kid within 30 s, old tokens stay valid until they expire, then the old key leaves the JWKS', async () => {
      await start();
      const before = await signUp(t);
      const oldKid = decodeProtectedHeader(before.accessToken).kid;
      // `npm run keys -- rotate` is another process on the same database: its own view of the keys.
      const cli = createSigningKeys({
        repo: kyselySigningKeyRepository(await openSameDatabase(t)),
        box: createSecretBox(TEST_SECRET, 'sms-verify signing key'),
        algorithm: 'ES256',
        accessTokenTtlSeconds: 900,
        now: t.clock.now,
      });
      const rotated = await cli.rotate();
      t.clock.advance(31_000);
      const after = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body;
      expect(decodeProtectedHeader(after.accessToken).kid).toBe(rotated.kid);
      const jwks = async () => (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys.map((k: { kid: string }) => k.kid);
      expect((await jwks()).sort()).toEqual([oldKid, rotated.kid].sort());
      // The old token still verifies against the published keys (a backend's view), and here.
      const local = (await import('jose')).createLocalJWKSet({ keys: (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys });
      await jwtVerify(before.accessToken, local, { audience: 'sms-verify', currentDate: new Date(t.clock.now()) });
      expect((await me(t, before.accessToken)).statusCode).toBe(200);
      // Once every token the old key signed has expired, it is withdrawn.
      t.clock.advance(900_000 + 60_000 + 30_000);
      expect(await jwks()).toEqual([rotated.kid]);
    });
  });
}

/** A second connection to the test app's database, as another process would open it. */
async function openSameDatabase(t: TestApp) {
  const { openDatabase } = await import('../../src/db/database.js');
  const { silentLog } = await import('../helpers/backends.js');
  const database = openDatabase(t.config, silentLog);
  opened.push(database);
  return database.db;
}
const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of opened) await d.close();
});

sessionTokenSuite('SQLite', () => ({}));
if (backendAvailable('TEST_DATABASE_URL')) {
  const schema = postgresTestSchema();
  // Limit counters in memory: the shared schema keeps them across tests, and these tests send many codes on real time.
  sessionTokenSuite('PostgreSQL', () => ({ DATABASE_URL: schema.url, RATE_LIMIT_STORE: 'memory' }));
  afterEach(async () => {
    await schema.truncate();
  });
}
