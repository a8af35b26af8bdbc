import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PhoneTakenError, type AccountRepository, type User } from '../../src/domain/account-repository.js';

export interface RepositoryFixture {
  repo: AccountRepository;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const userFor = (phone: string, at = T0): User => ({ id: randomUUID(), phone, passwordHash: `hash-of-${phone}`, createdAt: at, credentialVersion: 0 });

/** The behaviour every AccountRepository must have, run against SQLite and PostgreSQL. */
export function describeAccountRepositoryConformance(name: string, open: () => Promise<RepositoryFixture>): void {
  describe(`${name} account repository conformance`, () => {
    let f: RepositoryFixture;
    beforeEach(async () => {
      f = await open();
    });
    afterEach(async () => {
      await f.close();
    });

    it('finds a created user by phone and by id, with times as numbers', async () => {
      const user = userFor('+8613800138000');
      await f.repo.createUser(user);
      expect(await f.repo.findUserByPhone(user.phone)).toEqual(user);
      expect(await f.repo.findUserById(user.id)).toEqual(user);
      expect(typeof (await f.repo.findUserById(user.id))?.createdAt).toBe('number');
      expect(await f.repo.findUserByPhone('+8613900139000')).toBeUndefined();
      expect(await f.repo.findUserById(randomUUID())).toBeUndefined();
    });

    it('refuses a second account for one phone with PhoneTakenError', async () => {
      await f.repo.createUser(userFor('+8613800138000'));
      await expect(f.repo.createUser(userFor('+8613800138000'))).rejects.toBeInstanceOf(PhoneTakenError);
    });

    it('lets exactly one of ten concurrent createUser calls for one phone win; the others get PhoneTakenError', async () => {
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => f.repo.createUser(userFor('+8613800138000'))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PhoneTakenError);
    });

    it('updates a password', async () => {
      const user = userFor('+8613800138000');
      await f.repo.createUser(user);
      await f.repo.updatePassword(user.id, 'new-hash', T0 + 1);
      expect((await f.repo.findUserById(user.id))?.passwordHash).toBe('new-hash');
    });

    it('keeps sessions until they expire or are deleted', async () => {
      const user = userFor('+8613800138000');
      await f.repo.createUser(user);
      await f.repo.createSession('token-hash-1', { userId: user.id, expiresAt: T0 + 1000, credentialVersion: 0 }, T0);
      await f.repo.createSession('token-hash-2', { userId: user.id, expiresAt: T0 + 1000, credentialVersion: 0 }, T0);
      expect(await f.repo.findSession('token-hash-1', T0 + 999)).toEqual({ userId: user.id, expiresAt: T0 + 1000, credentialVersion: 0, lastSeenAt: T0 });
      expect(await f.repo.findSession('token-hash-1', T0 + 1000)).toBeUndefined();
      await f.repo.deleteSession('token-hash-1');
      expect(await f.repo.findSession('token-hash-1', T0)).toBeUndefined();
      expect(await f.repo.deleteSessionsOfUser(user.id)).toBe(1);
      expect(await f.repo.findSession('token-hash-2', T0)).toBeUndefined();
      expect(await f.repo.deleteSessionsOfUser(user.id)).toBe(0);
    });

    it('deletes only the sessions that have expired', async () => {
      const user = userFor('+8613800138001');
      await f.repo.createUser(user);
      await f.repo.createSession('old', { userId: user.id, expiresAt: T0 + 1000, credentialVersion: 0 }, T0);
      await f.repo.createSession('live', { userId: user.id, expiresAt: T0 + 5000, credentialVersion: 0 }, T0);
      expect(await f.repo.deleteExpiredSessions(T0 + 1000)).toBe(1);
      expect(await f.repo.findSession('live', T0 + 1000)).toEqual({ userId: user.id, expiresAt: T0 + 5000, credentialVersion: 0, lastSeenAt: T0 });
      expect(await f.repo.deleteExpiredSessions(T0 + 1000)).toBe(0);
    });

    // Issue 10: a sign-in in flight during a reset stored its session after the reset's clean-up.
    it('stores a session only for the current credential version, and a credential change ends the older ones', async () => {
      const user = userFor('+8613800138002');
      await f.repo.createUser(user);
      const live = (version: number) => ({ userId: user.id, expiresAt: T0 + 5000, credentialVersion: version });
      expect(await f.repo.createSession('before', live(0), T0)).toBe(true);
      expect(await f.repo.updatePassword(user.id, 'new-hash', T0 + 1)).toBe(1);
      // The old session no longer authenticates, even before anything deleted it.
      expect(await f.repo.findSession('before', T0 + 2)).toBeUndefined();
      // A sign-in that read version 0 before the reset cannot store its session afterwards.
      expect(await f.repo.createSession('in-flight', live(0), T0 + 2)).toBe(false);
      expect(await f.repo.findSession('in-flight', T0 + 2)).toBeUndefined();
      expect(await f.repo.createSession('after', live(1), T0 + 2)).toBe(true);
      expect(await f.repo.findSession('after', T0 + 3)).toMatchObject(live(1));
      expect(await f.repo.updatePhone(user.id, '+8613900139002', T0 + 4)).toBe(2);
      expect(await f.repo.bumpCredentialVersion(user.id)).toBe(3);
      expect((await f.repo.findUserById(user.id))?.credentialVersion).toBe(3);
    });

    it('keepOnlySession keeps one session alive across a credential change and ends the others', async () => {
      const user = userFor('+8613800138003');
      await f.repo.createUser(user);
      const live = (version: number) => ({ userId: user.id, expiresAt: T0 + 5000, credentialVersion: version });
      await f.repo.createSession('mine', live(0), T0);
      await f.repo.createSession('theirs', live(0), T0);
      const version = await f.repo.bumpCredentialVersion(user.id);
      expect(await f.repo.keepOnlySession(user.id, 'mine', version)).toBe(1);
      expect(await f.repo.findSession('mine', T0 + 1)).toMatchObject(live(version));
      expect(await f.repo.findSession('theirs', T0 + 1)).toBeUndefined();
    });

    it('lists live sessions with device, IP and last use, most recent first, and ends all but one', async () => {
      const user = userFor('+8613800138002');
      const other = userFor('+8613800138003');
      await f.repo.createUser(user);
      await f.repo.createUser(other);
      await f.repo.createSession('phone', { userId: user.id, expiresAt: T0 + 60_000, credentialVersion: 0, userAgent: 'Android', ip: '198.51.100.7' }, T0);
      await f.repo.createSession('laptop', { userId: user.id, expiresAt: T0 + 60_000, credentialVersion: 0, userAgent: 'Mac', ip: '203.0.113.9' }, T0 + 10);
      await f.repo.createSession('expired', { userId: user.id, expiresAt: T0 + 20, credentialVersion: 0 }, T0);
      await f.repo.createSession('theirs', { userId: other.id, expiresAt: T0 + 60_000, credentialVersion: 0 }, T0);
      await f.repo.touchSession('phone', T0 + 500);

      const listed = await f.repo.listSessions(user.id, T0 + 1000);
      expect(listed).toEqual([
        { tokenHash: 'phone', userId: user.id, createdAt: T0, expiresAt: T0 + 60_000, credentialVersion: 0, userAgent: 'Android', ip: '198.51.100.7', lastSeenAt: T0 + 500 },
        { tokenHash: 'laptop', userId: user.id, createdAt: T0 + 10, expiresAt: T0 + 60_000, credentialVersion: 0, userAgent: 'Mac', ip: '203.0.113.9', lastSeenAt: T0 + 10 },
      ]);
      expect(await f.repo.findSession('phone', T0 + 1000)).toMatchObject({ lastSeenAt: T0 + 500 });

      expect(await f.repo.deleteOtherSessions(user.id, 'laptop')).toBe(2);
      expect((await f.repo.listSessions(user.id, T0 + 1000)).map((s) => s.tokenHash)).toEqual(['laptop']);
      expect(await f.repo.findSession('theirs', T0 + 1000)).toBeDefined();
    });
  });
}
