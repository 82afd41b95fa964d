import { PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KilnError, type Logger, maskSecret } from '../../core/index.js';
import type { Database } from './database.js';
import { causeText, errorCode } from './failure.js';
import { createDatabase } from './handle.js';
import { isUniqueViolation } from './sql.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const CONNECT_TIMEOUT_MS = 10_000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * int8 arrives from `count(*)`, `sum()` and bigint columns; pg hands it over as a string by
 * default, while SQLite gives a number. A number keeps the engines alike; past 2^53 a bigint keeps
 * every digit instead of rounding silently.
 */
function parseInt8(value: string): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value);
}

/** numeric comes from `avg()` and decimal columns; SQLite answers those with a double. */
function parseNumeric(value: string): number {
  return Number(value);
}

/** Type parsers for this pool only, so other pg users in the process keep pg's defaults. */
const poolTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === undefined || format === 'text') {
      if (oid === INT8_OID) return parseInt8;
      if (oid === NUMERIC_OID) return parseNumeric;
    }
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

interface PostgresTarget {
  connectionString: string;
  schema: string | undefined;
  startupOptions: string | undefined;
}

/** Splits Kiln's `schema` parameter off the URL; pg would not understand it. */
function parsePostgresUrl(url: string, displayUrl: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KilnError('INVALID_CONFIGURATION', `Database URL '${displayUrl}' is not a valid URL`, {
      url: displayUrl,
    });
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new KilnError(
      'INVALID_CONFIGURATION',
      `Database URL '${displayUrl}': schema '${schema}' must be lower-case letters, digits and '_', ` +
        'starting with a letter or _, at most 63 characters',
      { url: displayUrl, schema },
    );
  }
  const extraOptions = parsed.searchParams.get('options') ?? undefined;
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('options');
  const startup = [extraOptions, schema === undefined ? undefined : `-c search_path=${schema}`]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  return { connectionString: parsed.toString(), schema, startupOptions: startup === '' ? undefined : startup };
}

/**
 * Opens a PostgreSQL pool. With `?schema=name` on the URL the schema is created when missing and
 * every pooled connection starts with `search_path` set to it, so several Kiln installs (or
 * parallel test runs) can share one database without seeing each other's tables.
 *
 * @example
 * const database = await openPostgres('postgres://kiln:secret@db:5432/kiln?schema=team_a', 10, logger);
 */
export async function openPostgres(
  url: string,
  poolSize: number,
  logger: Logger,
  checkTransactions = false,
): Promise<Database> {
  const displayUrl = maskSecret(url);
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new KilnError('INVALID_CONFIGURATION', `Database pool size must be a positive integer, got ${poolSize}`, {
      poolSize,
    });
  }
  const target = parsePostgresUrl(url, displayUrl);
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: poolSize,
    application_name: 'kiln',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: poolTypes,
    ...(target.startupOptions === undefined ? {} : { options: target.startupOptions }),
  });
  // An idle pooled connection that breaks (server restart) is reported here; unhandled, the
  // event would crash the process. The pool replaces the connection on next use.
  pool.on('error', (err) => logger.warn({ err, url: displayUrl }, 'idle database connection failed'));

  const database = createDatabase({
    dialect: 'postgres',
    displayUrl,
    kyselyDialect: new PostgresDialect({ pool }),
    checkTransactions,
  });
  try {
    if (target.schema !== undefined) await createSchema(database, target.schema);
    await sql`select 1`.execute(database.kysely);
  } catch (err) {
    await database.close().catch(() => undefined);
    throw new KilnError(
      'TEMPORARILY_UNAVAILABLE',
      `Cannot connect to PostgreSQL at ${displayUrl}: ${causeText(err)}`,
      { url: displayUrl, cause: errorCode(err) },
      { cause: err },
    );
  }
  logger.debug({ url: displayUrl }, 'database opened');
  return database;
}

async function createSchema(database: Database, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(database.kysely);
  } catch (err) {
    // Two processes creating the same schema at once: one of them loses on the catalog's unique
    // index even with IF NOT EXISTS; the schema exists either way.
    if (!isUniqueViolation(err) && errorCode(err) !== '42P06') throw err;
  }
}
