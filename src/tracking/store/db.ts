import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Database, FoundationTables, SqlDialect } from '../../store/index.js';
import type { RunWriteOutcome } from '../store.js';
import type { TrackingTables } from './tables.js';

/** A Kysely handle (or transaction) that knows the tracking tables. */
export type TrackingDb = Kysely<FoundationTables & TrackingTables>;

/** What every store function needs: the database, its typed handle and its engine. */
export interface StoreHandle {
  readonly database: Database;
  readonly db: TrackingDb;
  readonly dialect: SqlDialect;
}

/** Thrown inside a transaction to roll it back and report `outcome` instead of an error. */
class Rollback {
  constructor(readonly outcome: RunWriteOutcome) {}
}

/** Rolls back the current {@link inTransaction} and makes it resolve `outcome`. */
export function rollback(outcome: RunWriteOutcome): never {
  throw new Rollback(outcome);
}

/**
 * Runs `fn` in one transaction with a typed handle. `fn` may call {@link rollback} to undo its
 * writes and resolve an outcome (a param conflict found after inserting), which is how the store
 * reports rather than throws.
 */
export async function inTransaction(
  handle: StoreHandle,
  fn: (db: TrackingDb) => Promise<RunWriteOutcome>,
): Promise<RunWriteOutcome> {
  try {
    return await handle.database.transaction((trx) => fn(trx.withTables<TrackingTables>()));
  } catch (err) {
    if (err instanceof Rollback) return err.outcome;
    throw err;
  }
}

/** Reads a boolean column that is boolean on PostgreSQL and 0/1 on SQLite. */
export function flag(value: boolean | number | null | undefined): boolean {
  return value === true || value === 1;
}

/** Reads an integer column; PostgreSQL bigints beyond 2^53 arrive as bigint. */
export function int(value: number | bigint | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Splits `items` into runs of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `column IN (values)` with the whole list bound as ONE parameter (a PostgreSQL array, a JSON
 * array on SQLite), so a 50,000-run page hydrates in one query without meeting either engine's
 * bound-parameter limit.
 *
 * @example
 * db.selectFrom('params').selectAll().where(inValues('sqlite', 'params.run_id', ids, 'text'));
 */
export function inValues(
  dialect: SqlDialect,
  column: string,
  values: readonly (string | number)[],
  type: 'text' | 'bigint',
): RawBuilder<SqlBool> {
  if (dialect === 'postgres') {
    return sql<SqlBool>`${sql.ref(column)} = any(cast(${[...values]} as ${sql.raw(type)}[]))`;
  }
  return sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`;
}
