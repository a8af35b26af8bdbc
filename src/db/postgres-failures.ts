import type { DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import pg from 'pg';
import { DependencyUnavailableError } from '../errors.js';

/**
 * SQLSTATE classes that say "the server cannot serve you now", not "your statement is wrong":
 * 08 connection exception, 53 insufficient resources (too many connections, disk full),
 * 57 operator intervention (statement_timeout's 57014, shutdown's 57P01), 58 system error.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58']);

/**
 * Classifies a failure the way the error handler needs it. A DatabaseError is the server's answer
 * to a statement: a constraint violation (23505, which the account repository turns into
 * phone_taken) or a bug stays as it is, unless its class says the server is unavailable. Any
 * other error from pg means no answer came at all (connection refused or lost, pool or query
 * timeout) and becomes DependencyUnavailableError, so the client gets 503, not 500.
 */
export function classifyPostgresFailure(err: unknown): unknown {
  if (err instanceof pg.DatabaseError) {
    return UNAVAILABLE_CLASSES.has(String(err.code).slice(0, 2)) ? new DependencyUnavailableError('postgres', { cause: err }) : err;
  }
  return new DependencyUnavailableError('postgres', { cause: err });
}

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw classifyPostgresFailure(err);
  }
}

/**
 * Wraps a driver so that every error leaving it is classified. Kysely hands our wrapped
 * connection back to the driver for transactions and release; the map turns it into the
 * driver's own again.
 */
class FailureClassifyingDriver implements Driver {
  readonly #inner: Driver;
  readonly #own = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  #unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.#own.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return guarded(() => this.#inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const own = await guarded(() => this.#inner.acquireConnection());
    const wrapped: DatabaseConnection = {
      executeQuery: <R>(query: Parameters<DatabaseConnection['executeQuery']>[0]): Promise<QueryResult<R>> =>
        guarded(() => own.executeQuery<R>(query)),
      streamQuery: (query, chunkSize) => own.streamQuery(query, chunkSize),
    };
    this.#own.set(wrapped, own);
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guarded(() => this.#inner.beginTransaction(this.#unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return guarded(() => this.#inner.commitTransaction(this.#unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return guarded(() => this.#inner.rollbackTransaction(this.#unwrap(connection)));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** PostgresDialect whose driver reports an unreachable server as DependencyUnavailableError. */
export function failureClassifyingDialect(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new FailureClassifyingDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
