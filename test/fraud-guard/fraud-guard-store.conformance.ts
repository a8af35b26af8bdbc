import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FraudBlock, FraudGuardStore } from '../../src/domain/fraud-guard.js';

export interface StoreUnderTest {
  store: FraudGuardStore;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const block = (scope: string, until: number): FraudBlock => ({
  scope,
  blockedAt: T0,
  until,
  enforced: true,
  window: 'hour',
  sent: 20,
  verified: 0,
});

/** The same suite for every FraudGuardStore (memory, SQLite, PostgreSQL, Redis). */
export function fraudGuardStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`fraud guard store: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: FraudGuardStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => subject.close());

    it('counts sends and verifications per scope and answers the windows with the new event', async () => {
      const scopes = ['prefix:+86 1391234', 'country:CN'];
      await store.record(scopes, 'sent', T0);
      await store.record(scopes, 'sent', T0 + MINUTE);
      const afterVerify = await store.record(scopes, 'verified', T0 + 2 * MINUTE);
      expect(afterVerify).toEqual([
        { hour: { sent: 2, verified: 1 }, day: { sent: 2, verified: 1 } },
        { hour: { sent: 2, verified: 1 }, day: { sent: 2, verified: 1 } },
      ]);
      const other = await store.record(['prefix:+86 1380000'], 'sent', T0 + 3 * MINUTE);
      expect(other).toEqual([{ hour: { sent: 1, verified: 0 }, day: { sent: 1, verified: 0 } }]);
    });

    it('an event leaves the hour window after an hour and the day window after a day', async () => {
      const scope = ['prefix:+86 1391234'];
      await store.record(scope, 'sent', T0);
      const later = await store.record(scope, 'sent', T0 + HOUR + 5 * MINUTE);
      expect(later[0]).toEqual({ hour: { sent: 1, verified: 0 }, day: { sent: 2, verified: 0 } });
      const nextDay = await store.record(scope, 'sent', T0 + 25 * HOUR + 10 * MINUTE);
      expect(nextDay[0]).toEqual({ hour: { sent: 1, verified: 0 }, day: { sent: 1, verified: 0 } });
    });

    it('concurrent records lose no count', async () => {
      const scope = ['prefix:+86 1391234'];
      await Promise.all(Array.from({ length: 25 }, () => store.record(scope, 'sent', T0)));
      const [windows] = await store.record(scope, 'verified', T0);
      expect(windows!.hour).toEqual({ sent: 25, verified: 1 });
    });

    it('lists the scopes of one kind seen in the last day, busiest first', async () => {
      for (let i = 0; i < 3; i++) await store.record(['prefix:+86 1391234', 'country:CN'], 'sent', T0 + i);
      await store.record(['prefix:+86 1380000', 'country:CN'], 'sent', T0);
      await store.record(['prefix:+852 5123', 'country:HK'], 'verified', T0);
      const prefixes = await store.scopes('prefix', T0 + MINUTE, 10);
      expect(prefixes.map((p) => p.scope)).toEqual(['prefix:+86 1391234', 'prefix:+86 1380000', 'prefix:+852 5123']);
      expect(prefixes[0]!.windows.day).toEqual({ sent: 3, verified: 0 });
      expect((await store.scopes('country', T0 + MINUTE, 1)).map((c) => c.scope)).toEqual(['country:CN']);
      expect(await store.scopes('prefix', T0 + 25 * HOUR, 10)).toEqual([]);
    });

    it('a block is listed until it ends, and starts the counts afresh', async () => {
      const scope = 'prefix:+86 1391234';
      await store.record([scope], 'sent', T0);
      await store.block(block(scope, T0 + 12 * HOUR));
      expect((await store.blocks(T0 + HOUR)).map((b) => b.scope)).toEqual([scope]);
      expect((await store.blocks(T0 + HOUR))[0]).toEqual(block(scope, T0 + 12 * HOUR));
      expect(await store.blocks(T0 + 12 * HOUR)).toEqual([]);
      const [windows] = await store.record([scope], 'sent', T0 + MINUTE);
      expect(windows!.hour.sent).toBe(1);
    });

    it('unblock removes the block and its counts, and says whether there was one', async () => {
      const scope = 'country:CN';
      await store.block(block(scope, T0 + 12 * HOUR));
      await store.record([scope], 'sent', T0);
      expect(await store.unblock(scope)).toBe(true);
      expect(await store.unblock(scope)).toBe(false);
      expect(await store.blocks(T0)).toEqual([]);
      const [windows] = await store.record([scope], 'verified', T0);
      expect(windows).toEqual({ hour: { sent: 0, verified: 1 }, day: { sent: 0, verified: 1 } });
    });
  });
}
