import type { CompiledQuery, Kysely } from 'kysely';
import type { DomainEvent } from '../domain/events.js';
import type { Database } from './database.js';
import type { DatabaseSchema } from './schema.js';

/**
 * Runs statements as one transaction and resolves to how many rows each changed. With
 * `guarded`, a first statement that changes no row rolls everything back (resolves to undefined):
 * "enable 2FA only if it is still off, and only then queue its event".
 */
export type AtomicWrite = (statements: readonly CompiledQuery[], options?: { guarded?: boolean }) => Promise<number[] | undefined>;

class GuardFailed extends Error {}

/**
 * On SQLite the statements run in one synchronous `BEGIN IMMEDIATE` transaction on the raw
 * handle: the connection is shared with the state stores, and a Kysely transaction held across
 * an await would let their statements land inside it (src/db/database.ts). On PostgreSQL a
 * Kysely transaction on one pooled connection does the same.
 */
export function atomicWriter(database: Database): AtomicWrite {
  if (database.kind === 'sqlite') {
    const { sqlite } = database;
    return async (statements, options = {}) => {
      const run = sqlite.transaction(() =>
        statements.map((statement, i) => {
          const changes = sqlite.prepare(statement.sql).run(...statement.parameters).changes;
          if (i === 0 && options.guarded && changes === 0) throw new GuardFailed();
          return changes;
        }),
      );
      try {
        return run.immediate();
      } catch (err) {
        if (err instanceof GuardFailed) return undefined;
        throw err;
      }
    };
  }
  return kyselyAtomicWriter(database.db);
}

/** The same over a Kysely transaction: right for PostgreSQL, and for a SQLite that nothing else shares (tests). */
export function kyselyAtomicWriter(db: Kysely<DatabaseSchema>): AtomicWrite {
  return async (statements, options = {}) => {
    try {
      return await db.transaction().execute(async (tx) => {
        const changes: number[] = [];
        for (const [i, statement] of statements.entries()) {
          const result = await tx.executeQuery(statement);
          const changed = Number(result.numAffectedRows ?? 0n);
          if (i === 0 && options.guarded && changed === 0) throw new GuardFailed();
          changes.push(changed);
        }
        return changes;
      });
    } catch (err) {
      if (err instanceof GuardFailed) return undefined;
      throw err;
    }
  };
}

/** How a repository queues the events of a change in the change's own transaction. */
export interface EventWrites {
  readonly write: AtomicWrite;
  /** The statements that queue an event (src/webhooks/outbox.ts). */
  readonly statementsFor: (event: DomainEvent) => CompiledQuery[];
}

/** No outbox: events are dropped (repository tests that do not look at them). */
export const withoutEvents = (db: Kysely<DatabaseSchema>): EventWrites => ({ write: kyselyAtomicWriter(db), statementsFor: () => [] });
