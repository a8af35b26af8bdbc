import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/db/database.js';
import { batchedAuditLogRepository, kyselyAuditLogRepository } from '../../src/db/audit-log.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { rowBatcher } from '../../src/db/row-batcher.js';
import { createAuditLog } from '../../src/domain/audit.js';
import type { Logger } from '../../src/domain/logger.js';

function recordingLog(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info() {}, warn() {}, error: (_o: object, msg: string) => void errors.push(msg) } as Logger & { errors: string[] };
}

describe('rows written in batches', () => {
  it('writes the rows of many requests in a few statements, and everything on close', async () => {
    const statements: number[][] = [];
    const batcher = rowBatcher<number>({ name: 'rows', writeAll: async (rows) => void statements.push(rows), log: recordingLog(), batchSize: 100 });
    for (let i = 0; i < 250; i++) batcher.add(i);
    await batcher.close();
    expect(statements.flat()).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(statements.length).toBeLessThanOrEqual(3);
  });

  it('keeps the rows through a failed write and writes them with the next flush', async () => {
    let down = true;
    const written: number[] = [];
    const log = recordingLog();
    const batcher = rowBatcher<number>({
      name: 'rows',
      writeAll: async (rows) => {
        if (down) throw new Error('database unavailable');
        written.push(...rows);
      },
      log,
    });
    batcher.add(1);
    batcher.add(2);
    await batcher.flush();
    expect(written).toEqual([]);
    expect(log.errors).toEqual(['could not write rows; retrying with the next flush']);
    down = false;
    batcher.add(3);
    await batcher.close();
    expect(written).toEqual([1, 2, 3]);
  });

  it('drops rows beyond its bound instead of growing without limit, and says so', async () => {
    const log = recordingLog();
    const written: number[] = [];
    const batcher = rowBatcher<number>({ name: 'rows', writeAll: async (rows) => void written.push(...rows), log, maxQueued: 5, batchSize: 100 });
    for (let i = 0; i < 8; i++) batcher.add(i);
    await batcher.close();
    expect(written).toEqual([0, 1, 2, 3, 4]);
    expect(log.errors).toEqual(['rows queue full: rows dropped']);
  });

  it('lets a user read the audit event of the request that just happened', async () => {
    const database = openSqliteDatabase(':memory:');
    await migrateToLatest(database.db);
    const rows = batchedAuditLogRepository(kyselyAuditLogRepository(database.db), recordingLog());
    const audit = createAuditLog(rows, () => Date.UTC(2026, 0, 1), recordingLog());
    await audit.record({ type: 'sign_in', userId: 'u1', phone: '+8613800138000', client: { ip: '192.0.2.1' } });
    expect(await audit.listForUser('u1')).toEqual([expect.objectContaining({ type: 'sign_in', phoneMasked: '+86138****8000' })]);
    await rows.close();
    await database.close();
  });
});
