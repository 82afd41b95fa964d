import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteDialect } from 'kysely';
import { type ErrorCode, KilnError, type Logger } from '../../core/index.js';
import type { Database } from './database.js';
import { causeText, errorCode } from './failure.js';
import { createDatabase } from './handle.js';

/**
 * How long a statement waits for another process's write lock before failing with SQLITE_BUSY.
 * better-sqlite3 waits synchronously, so this also bounds how long the event loop can stall.
 */
const BUSY_TIMEOUT_MS = 10_000;

/** The file path of a `sqlite:` URL: `sqlite:///abs/kiln.db`, `sqlite:./kiln.db` or `sqlite://:memory:`. */
export function sqlitePath(url: string): string {
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (path === '') {
    throw new KilnError(
      'INVALID_CONFIGURATION',
      `Database URL '${url}' names no file, e.g. 'sqlite:///var/kiln/kiln.db'`,
      {
        url,
      },
    );
  }
  return path === ':memory:' ? path : resolve(path);
}

function codeForSqliteFailure(err: unknown): ErrorCode {
  const code = errorCode(err) ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'TEMPORARILY_UNAVAILABLE';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'DATA_LOSS';
  return 'INVALID_CONFIGURATION';
}

/**
 * Opens the file and sets the pragmas every connection needs.
 *
 * `synchronous=FULL` rather than WAL's usual NORMAL: with NORMAL a commit is durable against a
 * process crash but the last transactions can vanish on power loss, because the WAL is only synced
 * at checkpoints. Kiln acknowledges a write (a logged metric, a registered model version) only
 * after commit, so the WAL is synced on every commit.
 */
function openFile(path: string): BetterSqlite3.Database {
  const sqlite = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    const journal = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (path !== ':memory:' && journal !== 'wal') {
      throw new KilnError(
        'INVALID_CONFIGURATION',
        `SQLite could not switch ${path} to WAL mode (journal_mode is '${String(journal)}'); ` +
          'the file system may lack shared-memory support, as network file systems often do',
        { path },
      );
    }
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    return sqlite;
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

/**
 * Opens a SQLite database with better-sqlite3. Transactions begin with BEGIN IMMEDIATE, so a
 * transaction takes the write lock before its first statement: two processes writing at once
 * queue on the busy timeout instead of one failing when it upgrades a read lock. Within one process
 * Kysely's single-connection mutex runs transactions one after another.
 *
 * @example
 * const database = await openSqlite('sqlite:///var/kiln/kiln.db', logger);
 */
export async function openSqlite(url: string, logger: Logger, checkTransactions = false): Promise<Database> {
  const path = sqlitePath(url);
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new KilnError(
        'INVALID_CONFIGURATION',
        `Cannot create the directory for database ${url}: ${causeText(err)}`,
        { url, path },
        { cause: err },
      );
    }
  }
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = openFile(path);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new KilnError(
      codeForSqliteFailure(err),
      `Cannot open database ${url}: ${causeText(err)}`,
      { url, path, cause: errorCode(err) },
      { cause: err },
    );
  }
  logger.debug({ url }, 'database opened');

  return createDatabase({
    dialect: 'sqlite',
    displayUrl: url,
    checkTransactions,
    kyselyDialect: new SqliteDialect({ database: sqlite }),
    statements: {
      async begin(connection) {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      },
      // SQLite rolls a transaction back by itself after some errors (SQLITE_FULL, SQLITE_IOERR);
      // a second ROLLBACK would then fail and hide the error that caused it.
      async rollback(connection) {
        if (sqlite.inTransaction) await connection.executeQuery(CompiledQuery.raw('rollback'));
      },
    },
    translateError(err) {
      if (!(errorCode(err) ?? '').startsWith('SQLITE_BUSY')) return err;
      return new KilnError(
        'TEMPORARILY_UNAVAILABLE',
        `Database ${url} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s; try again`,
        { url },
        { cause: err },
      );
    },
  });
}
