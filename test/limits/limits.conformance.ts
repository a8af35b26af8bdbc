import { describe, expect, it } from 'vitest';
import { fixedWindowLimit } from '../../src/limits/fixed-window.js';
import type { LimitBackend } from '../../src/limits/index.js';

const HOUR_MS = 3_600_000;
/** A clock hour boundary, so window arithmetic in the tests is plain. */
const T0 = Date.UTC(2026, 0, 1, 10);

/**
 * What every limit backend must do. Run against memory, SQLite and (when TEST_REDIS_URL is set)
 * Redis, so a new backend gets the same tests for free.
 */
export function limitBackendConformance(name: string, makeBackend: () => Promise<{ backend: LimitBackend; close(): Promise<void> }>) {
  describe(`limit backend: ${name}`, () => {
    const withRule = async (points: number, fn: (rule: ReturnType<typeof fixedWindowLimit>) => Promise<void>, aligned = true) => {
      const { backend, close } = await makeBackend();
      try {
        // A unique name per test keeps runs on a shared Redis apart.
        const rule = fixedWindowLimit(backend, { name: `t_${Math.random().toString(36).slice(2)}`, points, windowSeconds: 3600, aligned });
        await fn(rule);
      } finally {
        await close();
      }
    };

    it('allows `points` uses per key and window, then refuses with the time to the window end', async () => {
      await withRule(3, async (rule) => {
        const remaining: number[] = [];
        for (let i = 0; i < 3; i++) {
          const d = await rule.take('k', T0 + 1000);
          expect(d.allowed).toBe(true);
          if (d.allowed) remaining.push(d.remaining);
        }
        expect(remaining).toEqual([2, 1, 0]);
        const refused = await rule.take('k', T0 + 60_000);
        expect(refused).toEqual({ allowed: false, retryAfterMs: HOUR_MS - 60_000 });
        // Another key has its own count.
        expect((await rule.take('other', T0 + 60_000)).allowed).toBe(true);
      });
    });

    it('starts the next window at zero, by the caller clock', async () => {
      await withRule(1, async (rule) => {
        expect((await rule.take('k', T0)).allowed).toBe(true);
        expect((await rule.take('k', T0 + HOUR_MS - 1)).allowed).toBe(false);
        expect((await rule.take('k', T0 + HOUR_MS)).allowed).toBe(true);
      });
    });

    it('gives a point back with release', async () => {
      await withRule(1, async (rule) => {
        const d = await rule.take('k', T0);
        expect(d.allowed).toBe(true);
        if (d.allowed) await d.release();
        expect((await rule.take('k', T0)).allowed).toBe(true);
        expect((await rule.take('k', T0)).allowed).toBe(false);
      });
    });

    it('does not count refusals: a point given back after them frees a slot at once', async () => {
      await withRule(2, async (rule) => {
        const first = await rule.take('k', T0);
        expect((await rule.take('k', T0)).allowed).toBe(true);
        // Refused takes while the first is in flight (a bot hammering while a captcha is checked).
        for (let i = 0; i < 5; i++) expect((await rule.take('k', T0)).allowed).toBe(false);
        if (first.allowed) await first.release();
        expect((await rule.take('k', T0)).allowed).toBe(true);
      });
    });

    it('lets exactly `points` of many simultaneous takes through', async () => {
      await withRule(5, async (rule) => {
        const results = await Promise.all(Array.from({ length: 40 }, () => rule.take('hot', T0)));
        expect(results.filter((r) => r.allowed)).toHaveLength(5);
      });
    });

    it('remembers a single-use key (unaligned window) until it expires', async () => {
      await withRule(
        1,
        async (rule) => {
          const results = await Promise.all(Array.from({ length: 10 }, () => rule.take('token', T0)));
          expect(results.filter((r) => r.allowed)).toHaveLength(1);
          // The fake clock does not matter here: the window starts at first use, in the store's own time.
          expect((await rule.take('token', T0 + 10 * HOUR_MS)).allowed).toBe(false);
        },
        false,
      );
    });
  });
}
