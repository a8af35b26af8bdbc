import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CaptchaStore, CodeKey, CodeStore, PendingCode } from '../../src/stores/types.js';

export interface StoreFixture {
  codes: CodeStore;
  captchas: CaptchaStore;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const key: CodeKey = { phone: '+8613800138000', purpose: 'register' };
const pending = (hash: string, at = T0): PendingCode => ({
  codeHash: hash,
  expiresAt: at + 300_000,
  resendAt: at + 60_000,
  attempts: 0,
});

/** The behaviour every CodeStore and CaptchaStore must have, run against each implementation. */
export function describeStoreConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`${name} store conformance`, () => {
    let s: StoreFixture;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('accepts the right code once and then forgets it', async () => {
      expect(await s.codes.beginSend(key, pending('h1'), T0)).toEqual({ ok: true });
      const first = await s.codes.check(key, 'h1', T0 + 1000, 5);
      expect(first.outcome).toBe('valid');
      expect((await s.codes.check(key, 'h1', T0 + 2000, 5)).outcome).toBe('missing');
    });

    it('refuses a second send inside the cooldown and says how long to wait', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      const again = await s.codes.beginSend(key, pending('h2', T0 + 20_000), T0 + 20_000);
      expect(again).toEqual({ ok: false, retryAfterMs: 40_000 });
      expect((await s.codes.beginSend(key, pending('h3', T0 + 60_000), T0 + 60_000)).ok).toBe(true);
    });

    it('replaces the old code with a new send after the cooldown', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      await s.codes.beginSend(key, pending('h2', T0 + 61_000), T0 + 61_000);
      expect((await s.codes.check(key, 'h1', T0 + 62_000, 5)).outcome).toBe('wrong');
      expect((await s.codes.check(key, 'h2', T0 + 62_000, 5)).outcome).toBe('valid');
    });

    it('keeps codes of different purposes and phones apart', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      expect((await s.codes.check({ ...key, purpose: 'login' }, 'h1', T0, 5)).outcome).toBe('missing');
      expect((await s.codes.check({ ...key, phone: '+8613900139000' }, 'h1', T0, 5)).outcome).toBe('missing');
      expect((await s.codes.beginSend({ ...key, purpose: 'login' }, pending('h9'), T0)).ok).toBe(true);
    });

    it('counts wrong tries and burns the code at the limit, even for the right code', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      const left: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await s.codes.check(key, 'nope', T0, 5);
        if (r.outcome !== 'wrong') throw new Error(`expected wrong, got ${r.outcome}`);
        left.push(r.attemptsLeft);
      }
      expect(left).toEqual([4, 3, 2, 1, 0]);
      expect((await s.codes.check(key, 'h1', T0, 5)).outcome).toBe('exhausted');
    });

    it('reports expiry once the TTL has passed', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      expect((await s.codes.check(key, 'h1', T0 + 300_000, 5)).outcome).toBe('expired');
    });

    it('abortSend removes the code and the cooldown, but only its own code', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      await s.codes.abortSend(key, 'other');
      expect((await s.codes.beginSend(key, pending('h2'), T0 + 1)).ok).toBe(false);
      await s.codes.abortSend(key, 'h1');
      expect((await s.codes.check(key, 'h1', T0 + 2, 5)).outcome).toBe('missing');
      expect((await s.codes.beginSend(key, pending('h2'), T0 + 3)).ok).toBe(true);
    });

    it('restore puts a consumed code back, unless a newer one was sent', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      const r = await s.codes.check(key, 'h1', T0, 5);
      if (r.outcome !== 'valid') throw new Error('expected valid');
      await s.codes.restore(key, r.consumed, T0 + 10);
      expect((await s.codes.check(key, 'h1', T0 + 20, 5)).outcome).toBe('valid');

      await s.codes.beginSend(key, pending('h2', T0 + 100_000), T0 + 100_000);
      await s.codes.restore(key, r.consumed, T0 + 100_001);
      expect((await s.codes.check(key, 'h2', T0 + 100_002, 5)).outcome).toBe('valid');
    });

    it('lets exactly one of twenty concurrent right answers win', async () => {
      await s.codes.beginSend(key, pending('h1'), T0);
      const results = await Promise.all(Array.from({ length: 20 }, () => s.codes.check(key, 'h1', T0, 5)));
      expect(results.filter((r) => r.outcome === 'valid')).toHaveLength(1);
    });

    it('lets exactly one of ten concurrent sends start', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.codes.beginSend(key, pending(`h${i}`), T0)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('burns a captcha on first use and honours its expiry', async () => {
      await s.captchas.put('c1', 'answer', T0 + 300_000, T0);
      expect(await s.captchas.take('c1', T0)).toBe('answer');
      expect(await s.captchas.take('c1', T0)).toBeUndefined();
      await s.captchas.put('c2', 'answer', T0 + 300_000, T0);
      expect(await s.captchas.take('c2', T0 + 300_000)).toBeUndefined();
      expect(await s.captchas.take('unknown', T0)).toBeUndefined();
    });
  });
}
