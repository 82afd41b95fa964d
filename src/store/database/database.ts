import type { Kysely, Transaction } from 'kysely';

/** The SQL engine behind a {@link Database}; code that must differ per engine switches on it. */
export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Tables the foundation owns. Each context declares its own table types and widens the handle
 * with `database.kysely.withTables<TrackingTables>()`, so no file lists every table.
 */
export interface FoundationTables {
  kiln_migrations: { id: string; applied_at: string };
}

/**
 * The metadata database: a Kysely handle over SQLite (better-sqlite3, WAL) or PostgreSQL (pg),
 * chosen by URL. Timestamps are stored as ISO-8601 UTC text in both dialects so that ordering and
 * comparison behave the same everywhere.
 *
 * @example
 * const database = await openDatabase('sqlite:///tmp/kiln.db');
 * await migrate(database, FOUNDATION_MIGRATIONS, logger);
 * await database.transaction(async (trx) => { … });
 */
export interface Database {
  readonly dialect: SqlDialect;
  /** The URL it was opened with, password masked; for logs and `kiln config`. */
  readonly displayUrl: string;
  readonly kysely: Kysely<FoundationTables>;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. On SQLite
   * the transaction takes the write lock up front (BEGIN IMMEDIATE) so concurrent writers queue
   * on the busy timeout instead of failing with SQLITE_BUSY halfway through.
   */
  transaction<T>(fn: (trx: Transaction<FoundationTables>) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; throws TEMPORARILY_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One schema change. Migrations are applied in `id` order, each in its own transaction, and
 * recorded in `kiln_migrations`; ids are `YYYYMMDD-NN-<context>-<what>` so contexts can contribute
 * migrations without a central list colliding.
 */
export interface Migration {
  readonly id: string;
  up(db: Kysely<unknown>, dialect: SqlDialect): Promise<void>;
}

/** What {@link migrate} did; it never throws for a failed migration, it reports it. */
export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
  error?: { id: string; message: string };
}
