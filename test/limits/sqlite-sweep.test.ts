import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/db/database.js';
import { SQLITE_SWEEP_BATCH, SQLITE_SWEEP_EVERY, sqliteLimitBackend } from '../../src/limits/backends.js';
import { fixedWindowLimit } from '../../src/limits/fixed-window.js';

// Issue 10: every 500 writes the request path ran DELETE … WHERE expire < now over the whole
// table: 110 ms at a million rows, 450 ms at four million, with the server blocked.
describe('SQLite limit counter clean-up', () => {
  it('deletes a bounded batch of expired rows through the expiry index, never the whole table at once', async () => {
    const database = openSqliteDatabase(':memory:');
    try {
      const backend = sqliteLimitBackend(database.sqlite);
      const expired = 5 * SQLITE_SWEEP_BATCH;
      const insert = database.sqlite.prepare('INSERT INTO rate_limit_counters (key, points, expire) VALUES (?, 1, ?)');
      database.sqlite.transaction(() => {
        for (let i = 0; i < expired; i++) insert.run(`old:${i}`, 1000 + i);
      })();
      const rows = () => (database.sqlite.prepare('SELECT count(*) AS n FROM rate_limit_counters').get() as { n: number }).n;
      const limit = fixedWindowLimit(backend, { name: 'sweep_test', points: 1_000_000, windowSeconds: 3600 });
      for (let i = 0; i < SQLITE_SWEEP_EVERY; i++) await limit.take('live', Date.now());
      // One sweep ran: one batch gone, the rest left for later sweeps, the live counter kept.
      expect(rows()).toBe(expired - SQLITE_SWEEP_BATCH + 1);
      for (let i = 0; i < 4 * SQLITE_SWEEP_EVERY; i++) await limit.take('live', Date.now());
      expect(rows()).toBe(1);

      const plan = database.sqlite
        .prepare('EXPLAIN QUERY PLAN SELECT rowid FROM rate_limit_counters WHERE expire < ? ORDER BY expire LIMIT 200')
        .all(Date.now()) as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING (COVERING )?INDEX rate_limit_counters_expire/);
    } finally {
      await database.close();
    }
  });
});
