import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { ConversionWindows, FraudBlock, FraudGuardStore, GuardEvent } from '../domain/fraud-guard.js';
import { DependencyUnavailableError } from '../errors.js';

/** Bucket width of the guard's counters. The hour window is the current bucket and the 11 before it. */
export const GUARD_BUCKET_MS = 5 * 60_000;
const HOUR_BUCKETS = 12;
const DAY_BUCKETS = 288;
const DAY_MS = 24 * 3_600_000;

const emptyWindows = (): ConversionWindows => ({ hour: { sent: 0, verified: 0 }, day: { sent: 0, verified: 0 } });
const bySendsThenScope = (a: { scope: string; windows: ConversionWindows }, b: { scope: string; windows: ConversionWindows }) =>
  b.windows.day.sent - a.windows.day.sent || a.scope.localeCompare(b.scope);

/** This process only: for tests and a single instance with RATE_LIMIT_STORE=memory. */
export function memoryFraudGuardStore(): FraudGuardStore {
  const counts = new Map<string, Map<number, { sent: number; verified: number }>>();
  const blocks = new Map<string, FraudBlock>();

  function windowsOf(scope: string, now: number): ConversionWindows {
    const current = Math.floor(now / GUARD_BUCKET_MS);
    const result = { hour: { sent: 0, verified: 0 }, day: { sent: 0, verified: 0 } };
    for (const [bucket, c] of counts.get(scope) ?? []) {
      if (bucket <= current - DAY_BUCKETS) {
        counts.get(scope)!.delete(bucket);
        continue;
      }
      result.day.sent += c.sent;
      result.day.verified += c.verified;
      if (bucket > current - HOUR_BUCKETS) {
        result.hour.sent += c.sent;
        result.hour.verified += c.verified;
      }
    }
    return result;
  }

  return {
    async record(scopes, event, now) {
      const bucket = Math.floor(now / GUARD_BUCKET_MS);
      return scopes.map((scope) => {
        let buckets = counts.get(scope);
        if (!buckets) counts.set(scope, (buckets = new Map()));
        const c = buckets.get(bucket) ?? { sent: 0, verified: 0 };
        c[event] += 1;
        buckets.set(bucket, c);
        return windowsOf(scope, now);
      });
    },
    async scopes(kind, now, limit) {
      return [...counts.keys()]
        .filter((scope) => scope.startsWith(`${kind}:`))
        .map((scope) => ({ scope, windows: windowsOf(scope, now) }))
        .filter((row) => row.windows.day.sent + row.windows.day.verified > 0)
        .sort(bySendsThenScope)
        .slice(0, limit);
    },
    async block(block) {
      blocks.set(block.scope, block);
      counts.delete(block.scope);
    },
    async unblock(scope) {
      counts.delete(scope);
      return blocks.delete(scope);
    },
    async blocks(now) {
      return [...blocks.values()].filter((b) => b.until > now);
    },
  } satisfies FraudGuardStore;
}

/** A database error becomes 503, like the other stores. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new DependencyUnavailableError('fraud guard store (database)', { cause: err });
  }
}

/**
 * The guard's counters in the database (SQLite or PostgreSQL), when Redis is not configured: one
 * row per scope and five-minute bucket. A send costs one upsert per scope and one indexed range
 * read for both scopes; buckets older than a day are deleted by the retention sweep (`sweep`).
 */
export function sqlFraudGuardStore(db: Kysely<DatabaseSchema>): FraudGuardStore & { sweep(now: number): Promise<number> } {
  async function windowsOf(scopes: readonly string[], now: number, kind?: string, limit?: number) {
    const current = Math.floor(now / GUARD_BUCKET_MS);
    const hourStart = current - HOUR_BUCKETS;
    let query = db
      .selectFrom('fraud_guard_counts')
      .select([
        'scope',
        sql<number>`sum(case when bucket > ${hourStart} then sent else 0 end)`.as('hs'),
        sql<number>`sum(case when bucket > ${hourStart} then verified else 0 end)`.as('hv'),
        sql<number>`sum(sent)`.as('ds'),
        sql<number>`sum(verified)`.as('dv'),
      ])
      .where('bucket', '>', current - DAY_BUCKETS)
      .groupBy('scope');
    query = kind ? query.where('scope', 'like', `${kind}:%`).orderBy(sql`sum(sent)`, 'desc').orderBy('scope').limit(limit ?? 50) : query.where('scope', 'in', scopes);
    const rows = await query.execute();
    return rows.map((r) => ({
      scope: r.scope,
      windows: {
        hour: { sent: Number(r.hs), verified: Number(r.hv) },
        day: { sent: Number(r.ds), verified: Number(r.dv) },
      },
    }));
  }

  return {
    record: (scopes, event: GuardEvent, now) =>
      guarded(async () => {
        const bucket = Math.floor(now / GUARD_BUCKET_MS);
        for (const scope of scopes) {
          await db
            .insertInto('fraud_guard_counts')
            .values({ scope, bucket, sent: event === 'sent' ? 1 : 0, verified: event === 'verified' ? 1 : 0 })
            .onConflict((oc) =>
              oc.columns(['scope', 'bucket']).doUpdateSet(
                event === 'sent' ? { sent: sql`fraud_guard_counts.sent + 1` } : { verified: sql`fraud_guard_counts.verified + 1` },
              ),
            )
            .execute();
        }
        const found = new Map((await windowsOf(scopes, now)).map((r) => [r.scope, r.windows]));
        return scopes.map((scope) => found.get(scope) ?? emptyWindows());
      }),
    scopes: (kind, now, limit) => guarded(() => windowsOf([], now, kind, limit)),
    block: (block) =>
      guarded(async () => {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('fraud_guard_counts').where('scope', '=', block.scope).execute();
          const row = {
            blocked_at: block.blockedAt,
            until: block.until,
            enforced: block.enforced ? 1 : 0,
            window: block.window,
            sent: block.sent,
            verified: block.verified,
          };
          await trx
            .insertInto('fraud_guard_blocks')
            .values({ scope: block.scope, ...row })
            .onConflict((oc) => oc.column('scope').doUpdateSet(row))
            .execute();
        });
      }),
    unblock: (scope) =>
      guarded(async () =>
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('fraud_guard_counts').where('scope', '=', scope).execute();
          const result = await trx.deleteFrom('fraud_guard_blocks').where('scope', '=', scope).executeTakeFirst();
          return Number(result.numDeletedRows) > 0;
        }),
      ),
    blocks: (now) =>
      guarded(async () => {
        const rows = await db.selectFrom('fraud_guard_blocks').selectAll().where('until', '>', now).execute();
        return rows.map(
          (r): FraudBlock => ({
            scope: r.scope,
            blockedAt: Number(r.blocked_at),
            until: Number(r.until),
            enforced: Number(r.enforced) === 1,
            window: r.window === 'day' ? 'day' : 'hour',
            sent: Number(r.sent),
            verified: Number(r.verified),
          }),
        );
      }),
    async sweep(now) {
      const counts = await db
        .deleteFrom('fraud_guard_counts')
        .where('bucket', '<=', Math.floor((now - DAY_MS) / GUARD_BUCKET_MS))
        .executeTakeFirst();
      const blocks = await db.deleteFrom('fraud_guard_blocks').where('until', '<=', now).executeTakeFirst();
      return Number(counts.numDeletedRows) + Number(blocks.numDeletedRows);
    },
  };
}
