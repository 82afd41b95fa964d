import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  Kysely,
  type QueryCompiler,
  sql,
  type Transaction,
  type TransactionSettings,
} from 'kysely';
import { KilnError } from '../../core/index.js';
import type { Database, FoundationTables, SqlDialect } from './database.js';
import { causeText } from './failure.js';

interface TransactionScope {
  open: boolean;
}

/**
 * Knows whether the current async call chain is inside the callback of an open
 * `Database.transaction`. A query on the outer handle (or a nested `transaction()`) awaited there
 * would wait for a connection the transaction itself holds: forever on SQLite, which has one
 * connection, and on PostgreSQL once the pool is exhausted. The guard turns that hang into an error
 * that names the mistake.
 */
interface TransactionGuard {
  run<T>(scope: TransactionScope, fn: () => Promise<T>): Promise<T>;
  assertOutsideTransaction(): void;
}

/**
 * The guard used when checking is off. AsyncLocalStorage switches on promise hooks for the whole
 * process in Node 20, which costs every request about 15 % of a health check's CPU; production
 * runs without it and tests (`KILN_CHECK_TRANSACTIONS=true`) with it.
 */
const UNCHECKED: TransactionGuard = {
  run: (_scope, fn) => fn(),
  assertOutsideTransaction() {},
};

class ScopeTrackingGuard implements TransactionGuard {
  readonly #scopes = new AsyncLocalStorage<TransactionScope>();

  run<T>(scope: TransactionScope, fn: () => Promise<T>): Promise<T> {
    return this.#scopes.run(scope, fn);
  }

  assertOutsideTransaction(): void {
    if (this.#scopes.getStore()?.open) {
      throw new KilnError(
        'INTERNAL_ERROR',
        'A query on the database handle (or a nested transaction) was started inside transaction(): ' +
          'use the transaction handle passed to the callback, or start the work after the transaction returns',
      );
    }
  }
}

/** Engine-specific replacements for how a transaction begins and rolls back. */
export interface TransactionStatements {
  begin?(connection: DatabaseConnection, settings: TransactionSettings): Promise<void>;
  rollback?(connection: DatabaseConnection): Promise<void>;
}

class GuardedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly guard: TransactionGuard,
    private readonly statements: TransactionStatements,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    this.guard.assertOutsideTransaction();
    return this.inner.acquireConnection();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.statements.begin?.(connection, settings) ?? this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.statements.rollback?.(connection) ?? this.inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.inner.savepoint) throw new KilnError('NOT_IMPLEMENTED', 'This database driver has no savepoints');
    await this.inner.savepoint(connection, name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.rollbackToSavepoint) {
      throw new KilnError('NOT_IMPLEMENTED', 'This database driver has no savepoints');
    }
    await this.inner.rollbackToSavepoint(connection, name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.releaseSavepoint) throw new KilnError('NOT_IMPLEMENTED', 'This database driver has no savepoints');
    await this.inner.releaseSavepoint(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

class GuardedDialect implements Dialect {
  constructor(
    private readonly inner: Dialect,
    private readonly guard: TransactionGuard,
    private readonly statements: TransactionStatements,
  ) {}

  createDriver(): Driver {
    return new GuardedDriver(this.inner.createDriver(), this.guard, this.statements);
  }

  createQueryCompiler(): QueryCompiler {
    return this.inner.createQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return this.inner.createAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return this.inner.createIntrospector(db);
  }
}

/** What an engine module supplies to build a {@link Database}. */
export interface DatabaseParts {
  dialect: SqlDialect;
  displayUrl: string;
  kyselyDialect: Dialect;
  statements?: TransactionStatements;
  /** Turns an engine error thrown inside a transaction into a KilnError, or returns it unchanged. */
  translateError?(err: unknown): unknown;
  /** Detect queries on the outer handle inside a transaction callback (see {@link UNCHECKED}). */
  checkTransactions?: boolean;
}

/**
 * Builds the {@link Database} both engines share: a Kysely handle whose driver refuses re-entrant
 * use from inside a transaction, a guarded `transaction()`, `ping()` and an idempotent `close()`.
 */
export function createDatabase(parts: DatabaseParts): Database {
  const guard = parts.checkTransactions ? new ScopeTrackingGuard() : UNCHECKED;
  const kysely = new Kysely<FoundationTables>({
    dialect: new GuardedDialect(parts.kyselyDialect, guard, parts.statements ?? {}),
  });
  const translate = parts.translateError ?? ((err: unknown) => err);
  let closing: Promise<void> | undefined;

  return {
    dialect: parts.dialect,
    displayUrl: parts.displayUrl,
    kysely,

    async transaction<T>(fn: (trx: Transaction<FoundationTables>) => Promise<T>): Promise<T> {
      const scope: TransactionScope = { open: false };
      try {
        guard.assertOutsideTransaction();
        return await guard.run(scope, () =>
          kysely.transaction().execute(async (trx) => {
            scope.open = true;
            try {
              return await fn(trx);
            } finally {
              scope.open = false;
            }
          }),
        );
      } catch (err) {
        throw translate(err);
      }
    },

    async ping(): Promise<void> {
      try {
        await sql`select 1`.execute(kysely);
      } catch (err) {
        if (err instanceof KilnError) throw err;
        throw new KilnError(
          'TEMPORARILY_UNAVAILABLE',
          `Database ${parts.displayUrl} did not answer: ${causeText(err)}`,
          { url: parts.displayUrl },
          { cause: err },
        );
      }
    },

    close(): Promise<void> {
      closing ??= kysely.destroy();
      return closing;
    },
  };
}
