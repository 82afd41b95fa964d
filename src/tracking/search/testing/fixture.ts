import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { SqlDialect } from '../../../store/index.js';
import type { SearchDescriptor } from '../compile.js';

/** The PostgreSQL server the search execution tests use; override with `KILN_TEST_POSTGRES_URL`. */
const POSTGRES_URL = process.env.KILN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A small tracking schema: just what the search compiler touches. */
export interface SearchTables {
  runs: {
    run_id: string;
    run_name: string | null;
    status: string;
    user_id: string;
    artifact_uri: string;
    experiment_id: string;
    start_time: number | null;
    end_time: string | null;
  };
  latest_metrics: { run_id: string; key: string; value: number; is_nan: boolean | number };
  params: { run_id: string; key: string; value: string };
  tags: { run_id: string; key: string; value: string };
  datasets: { dataset_id: string; name: string; digest: string };
  run_inputs: { run_id: string; dataset_id: string; context: string };
  model_versions: { name: string; version: number; source: string; run_id: string; creation_timestamp: number };
  model_version_tags: { name: string; version: number; key: string; value: string };
}

/** A database holding {@link SearchTables} on one engine, removed by `cleanup`. */
export interface SearchFixture {
  readonly dialect: SqlDialect;
  readonly db: Kysely<SearchTables>;
  cleanup(): Promise<void>;
}

/** How the fixture's runs map onto the compiler: start_time as epoch ms, end_time as ISO text. */
export const RUNS_DESCRIPTOR: SearchDescriptor = {
  owner: ['runs.run_id'],
  attributes: {
    run_id: { column: 'runs.run_id', type: 'text' },
    run_name: { column: 'runs.run_name', type: 'text' },
    status: { column: 'runs.status', type: 'text' },
    user_id: { column: 'runs.user_id', type: 'text' },
    artifact_uri: { column: 'runs.artifact_uri', type: 'text' },
    experiment_id: { column: 'runs.experiment_id', type: 'text' },
    start_time: { column: 'runs.start_time', type: 'number' },
    end_time: { column: 'runs.end_time', type: 'iso-timestamp' },
  },
  keyed: {
    metric: { table: 'latest_metrics', owner: ['run_id'], key: 'key', value: 'value', nan: 'is_nan' },
    param: { table: 'params', owner: ['run_id'], key: 'key', value: 'value' },
    tag: { table: 'tags', owner: ['run_id'], key: 'key', value: 'value' },
  },
  dataset: {
    table: 'run_inputs',
    owner: ['run_id'],
    join: { table: 'datasets', on: ['dataset_id', 'dataset_id'] },
    fields: {
      name: { column: 'name', joined: true },
      digest: { column: 'digest', joined: true },
      context: { column: 'context' },
    },
  },
};

/** Model versions, owned by the composite key (name, version). */
export const MODEL_VERSIONS_DESCRIPTOR: SearchDescriptor = {
  owner: ['model_versions.name', 'model_versions.version'],
  attributes: {
    name: { column: 'model_versions.name', type: 'text' },
    version: { column: 'model_versions.version', type: 'number' },
    source: { column: 'model_versions.source', type: 'text' },
    run_id: { column: 'model_versions.run_id', type: 'text' },
    creation_timestamp: { column: 'model_versions.creation_timestamp', type: 'number' },
  },
  keyed: { tag: { table: 'model_version_tags', owner: ['name', 'version'], key: 'key', value: 'value' } },
};

async function createSchema(db: Kysely<SearchTables>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('run_name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('artifact_uri', 'text', (c) => c.notNull())
    .addColumn('experiment_id', 'text', (c) => c.notNull())
    .addColumn('start_time', 'bigint')
    .addColumn('end_time', 'text')
    .execute();
  await db.schema
    .createTable('latest_metrics')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('is_nan', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
    .execute();
  for (const table of ['params', 'tags'] as const) {
    await db.schema
      .createTable(table)
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
      .execute();
  }
  await db.schema
    .createTable('datasets')
    .addColumn('dataset_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('run_inputs')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id'))
    .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.dataset_id'))
    .addColumn('context', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('model_versions')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('creation_timestamp', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_versions_pk', ['name', 'version'])
    .execute();
  await db.schema
    .createTable('model_version_tags')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_version_tags_pk', ['name', 'version', 'key'])
    .execute();
}

/**
 * Opens an empty database with the search tables: a SQLite file in a temp directory, or a fresh
 * schema on the test PostgreSQL (search_path pinned to it on every pooled connection).
 */
export async function openSearchFixture(dialect: SqlDialect): Promise<SearchFixture> {
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-search-'));
    const db = new Kysely<SearchTables>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(join(dir, 's.db')) }),
    });
    await createSchema(db);
    return {
      dialect,
      db,
      async cleanup() {
        await db.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `kiln_search_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  await admin.query(`create schema ${schema}`);
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, options: `-c search_path=${schema}` });
  const db = new Kysely<SearchTables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await createSchema(db);
  } catch (err) {
    await db.destroy();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
    throw err;
  }
  return {
    dialect,
    db,
    async cleanup() {
      await db.destroy();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

/** Whether a table exists in the fixture, to prove an injection attempt dropped nothing. */
export async function tableExists(fixture: SearchFixture, table: string): Promise<boolean> {
  const query =
    fixture.dialect === 'sqlite'
      ? sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${table}`
      : sql<{
          n: number;
        }>`select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name = ${table}`;
  const result = await query.execute(fixture.db);
  return Number(result.rows[0]?.n) === 1;
}
