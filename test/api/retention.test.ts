import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createRetentionSweep, RETENTION_BATCH } from '../../src/db/retention.js';
import { backendAvailable, postgresTestSchema, silentLog } from '../helpers/backends.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

async function seed(database: Database, ages: { auditAgesMs: number[]; smsAgesMs: number[] }) {
  const audit = ages.auditAgesMs.map((age, i) => ({ id: `a${i}`, at: NOW - age, type: 'sign_in' }));
  for (let i = 0; i < audit.length; i += 200) await database.db.insertInto('audit_events').values(audit.slice(i, i + 200)).execute();
  const sms = ages.smsAgesMs.map((age, i) => ({
    id: `s${i}`,
    message_id: 'm',
    provider: 'console',
    phone: '+8613800138000',
    purpose: 'login',
    status: 'sent',
    created_at: NOW - age,
    updated_at: NOW - age,
  }));
  if (sms.length > 0) await database.db.insertInto('sms_messages').values(sms).execute();
}

const remaining = async (database: Database) => ({
  audit: (await database.db.selectFrom('audit_events').select('at').orderBy('at').execute()).map((r) => (NOW - Number(r.at)) / DAY),
  sms: (await database.db.selectFrom('sms_messages').select('created_at').orderBy('created_at').execute()).map((r) => (NOW - Number(r.created_at)) / DAY),
});

function retentionSuite(name: string, open: () => Promise<Database>) {
  describe(`retention sweep: ${name}`, () => {
    it('deletes exactly the rows older than AUDIT_RETENTION_DAYS and SMS_LOG_RETENTION_DAYS', async () => {
      const database = await open();
      try {
        await seed(database, {
          auditAgesMs: [179 * DAY, 180 * DAY, 180 * DAY + 1, 400 * DAY],
          smsAgesMs: [1 * DAY, 90 * DAY, 90 * DAY + 1, 91 * DAY],
        });
        const sweep = createRetentionSweep({ database, settings: { auditDays: 180, smsLogDays: 90 }, now: () => NOW, log: silentLog });
        expect(await sweep.runOnce()).toEqual({ auditEvents: 2, smsMessages: 2, other: 0 });
        // Exactly at the window's edge is kept; a millisecond older is gone.
        expect(await remaining(database)).toEqual({ audit: [180, 179], sms: [90, 1] });
        expect(await sweep.runOnce()).toEqual({ auditEvents: 0, smsMessages: 0, other: 0 });
      } finally {
        await database.close();
      }
    });

    it('works through a large backlog in batches', async () => {
      const database = await open();
      try {
        const old = Array.from({ length: RETENTION_BATCH * 2 + 17 }, (_, i) => 200 * DAY + i);
        await seed(database, { auditAgesMs: [...old, 10 * DAY], smsAgesMs: [] });
        const sweep = createRetentionSweep({ database, settings: { auditDays: 180, smsLogDays: 90 }, now: () => NOW, log: silentLog });
        expect((await sweep.runOnce())?.auditEvents).toBe(old.length);
        expect((await remaining(database)).audit).toEqual([10]);
      } finally {
        await database.close();
      }
    });
  });
}

retentionSuite('sqlite', async () => {
  const database = openSqliteDatabase(':memory:');
  await migrateToLatest(database.db);
  return database;
});

const schema = postgresTestSchema();
if (backendAvailable('TEST_DATABASE_URL')) {
  retentionSuite('postgres', async () => {
    const database = await schema.open();
    await sql`truncate audit_events, sms_messages`.execute(database.db);
    return database;
  });

  describe('retention sweep: postgres, two instances', () => {
    it('two instances sweeping at once delete every old row once, and each pass holds the advisory lock', async () => {
      const [a, b] = [await schema.open(), await schema.open()];
      try {
        await sql`truncate audit_events, sms_messages`.execute(a.db);
        await seed(a, { auditAgesMs: Array.from({ length: 50 }, (_, i) => 200 * DAY + i), smsAgesMs: [] });
        const sweepOf = (database: Database) =>
          createRetentionSweep({ database, settings: { auditDays: 180, smsLogDays: 90 }, now: () => NOW, log: silentLog });
        const results = await Promise.all([sweepOf(a).runOnce(), sweepOf(b).runOnce()]);
        const ran = results.filter((r) => r !== undefined);
        expect(ran.reduce((sum, r) => sum + r!.auditEvents, 0)).toBe(50);
        expect((await remaining(a)).audit).toEqual([]);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
