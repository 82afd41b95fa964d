import { KilnError, type Logger, maskSecret, silentLogger } from '../../core/index.js';
import type { Database } from './database.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';

/** Tuning for {@link openDatabase}; both fields are optional. */
export interface OpenDatabaseOptions {
  /** Most PostgreSQL connections this process holds (`KILN_DATABASE_POOL_SIZE`); SQLite uses one. */
  poolSize?: number;
  /** Receives open/close events and failures of idle pooled connections. */
  logger?: Logger;
  /**
   * Turn a query on the outer handle inside a `transaction()` callback — a hang on SQLite — into
   * an immediate error. Costs CPU on every request; `KILN_CHECK_TRANSACTIONS`, on in tests.
   * @default false
   */
  checkTransactions?: boolean;
}

const DEFAULT_POOL_SIZE = 10;

/**
 * Opens the metadata database named by `url` and checks that it answers, so a wrong URL fails at
 * start-up rather than on the first request. Accepted forms: `sqlite:///abs/path.db`,
 * `sqlite://:memory:`, `postgres://user:pass@host:5432/db` (or `postgresql://`), the latter with an
 * optional `?schema=name`.
 *
 * Throws `INVALID_CONFIGURATION` for a URL or path that cannot work and `TEMPORARILY_UNAVAILABLE`
 * when the server does not answer; messages name the URL with its password masked.
 *
 * @example
 * const config = loadConfig();
 * const database = await openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize, logger });
 * await migrate(database, STORE_MIGRATIONS, logger);
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const logger = options.logger ?? silentLogger();
  const check = options.checkTransactions ?? false;
  if (url.startsWith('sqlite:')) return openSqlite(url, logger, check);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options.poolSize ?? DEFAULT_POOL_SIZE, logger, check);
  const displayUrl = maskSecret(url);
  throw new KilnError(
    'INVALID_CONFIGURATION',
    `Database URL '${displayUrl}' is not supported: use sqlite:<path> or postgres://user:pass@host:5432/db`,
    { url: displayUrl },
  );
}
