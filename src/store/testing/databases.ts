import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { maskSecret } from '../../core/index.js';
import type { Database, SqlDialect } from '../database/database.js';
import { causeText } from '../database/failure.js';
import { type OpenDatabaseOptions, openDatabase } from '../database/open.js';

/** The PostgreSQL server integration tests use; override with `KILN_TEST_POSTGRES_URL`. */
export const TEST_POSTGRES_URL = process.env.KILN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One fresh, empty database: its own SQLite file in a temp dir, or its own PostgreSQL schema. */
export interface TestDatabase {
  readonly name: SqlDialect;
  /** URL of this database, for child processes that open it themselves. */
  readonly url: string;
  /** A new handle on this database; every handle is closed by {@link TestDatabase.cleanup}. */
  open(options?: OpenDatabaseOptions): Promise<Database>;
  /** Closes the handles and deletes the file or drops the schema. */
  cleanup(): Promise<void>;
}

/** An engine a conformance suite runs on. */
export interface DatabaseTarget {
  readonly name: SqlDialect;
  /** Why the suite is skipped here (PostgreSQL unreachable on a developer machine), or false. */
  readonly skip: string | false;
  /** A fresh database on this engine. */
  create(): Promise<TestDatabase>;
}

function tracked(name: SqlDialect, url: string, remove: () => Promise<void>): TestDatabase {
  const handles: Database[] = [];
  return {
    name,
    url,
    async open(options) {
      const database = await openDatabase(url, { checkTransactions: true, ...options });
      handles.push(database);
      return database;
    },
    async cleanup() {
      await Promise.all(handles.splice(0).map((database) => database.close()));
      await remove();
    },
  };
}

async function createSqlite(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-db-'));
  return tracked('sqlite', `sqlite://${join(dir, 'kiln.db')}`, () => rm(dir, { recursive: true, force: true }));
}

async function createPostgres(): Promise<TestDatabase> {
  const schema = `kiln_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return tracked('postgres', url.toString(), async () => {
    const admin = await openDatabase(TEST_POSTGRES_URL, { poolSize: 1 });
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.kysely);
    } finally {
      await admin.close();
    }
  });
}

let reachability: Promise<string | false> | undefined;

/** Resolves to false when the test PostgreSQL answers, else to the reason it does not. */
function postgresUnavailable(): Promise<string | false> {
  reachability ??= (async () => {
    try {
      const database = await openDatabase(TEST_POSTGRES_URL, { poolSize: 1 });
      await database.close();
      return false;
    } catch (err) {
      return `PostgreSQL at ${maskSecret(TEST_POSTGRES_URL)} is unreachable (${causeText(err)}); set KILN_TEST_POSTGRES_URL or start it`;
    }
  })();
  return reachability;
}

/**
 * The engines every database-backed conformance suite runs on: SQLite always, PostgreSQL when it
 * answers. When it does not, PostgreSQL is skipped with the reason on a developer machine, but with
 * `CI` set this rejects, so a CI run cannot pass without having tested PostgreSQL.
 *
 * @example
 * for (const target of await testDatabases()) {
 *   describe(`queue on ${target.name}`, { skip: target.skip }, () => {
 *     let db: TestDatabase;
 *     before(async () => { db = await target.create(); });
 *     after(() => db.cleanup());
 *     it('enqueues', async () => { const database = await db.open(); … });
 *   });
 * }
 */
export async function testDatabases(): Promise<DatabaseTarget[]> {
  const unavailable = await postgresUnavailable();
  if (unavailable !== false && process.env.CI) throw new Error(`${unavailable}; CI is set, so this is a failure`);
  return [
    { name: 'sqlite', skip: false, create: createSqlite },
    { name: 'postgres', skip: unavailable, create: createPostgres },
  ];
}
