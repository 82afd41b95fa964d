import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import { DEFAULT_WORKSPACE } from '../core/index.js';
import type { Migration, SqlDialect } from '../store/index.js';
import type { TrackingTables } from './store/tables.js';

/** Experiment `0`, MLflow's `Default`, where runs go when the caller names no experiment. */
export const DEFAULT_EXPERIMENT_ID = '0';
/** The name of experiment `0` and of the per-workspace default experiments. */
export const DEFAULT_EXPERIMENT_NAME = 'Default';

/** SQLite stores these tables clustered on their primary key, which is also their read order. */
function clustered<T extends string, C extends string>(builder: CreateTableBuilder<T, C>, dialect: SqlDialect) {
  return dialect === 'sqlite' ? builder.modifyEnd(sql`without rowid`) : builder;
}

async function createExperiments(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('experiments')
    .addColumn('experiment_id', dialect === 'sqlite' ? 'integer' : 'bigint', (col) =>
      dialect === 'sqlite' ? col.primaryKey().autoIncrement() : col.primaryKey().generatedByDefaultAsIdentity(),
    )
    .addColumn('workspace', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('artifact_location', 'text')
    .addColumn('lifecycle_stage', 'text', (col) => col.notNull())
    .addColumn('creation_time', 'bigint', (col) => col.notNull())
    .addColumn('last_update_time', 'bigint', (col) => col.notNull())
    .addUniqueConstraint('experiments_workspace_name', ['workspace', 'name'])
    .addCheckConstraint('experiments_lifecycle', sql`lifecycle_stage in ('active', 'deleted')`)
    .execute();
  await db.schema
    .createIndex('experiments_workspace_lifecycle')
    .on('experiments')
    .columns(['workspace', 'lifecycle_stage'])
    .execute();
  await db.schema
    .createTable('experiment_tags')
    .addColumn('experiment_id', 'bigint', (col) => col.notNull().references('experiments.experiment_id'))
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('value', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
    .execute();
  const now = Date.now();
  await db
    .withTables<TrackingTables>()
    .insertInto('experiments')
    .values({
      experiment_id: Number(DEFAULT_EXPERIMENT_ID),
      workspace: DEFAULT_WORKSPACE,
      name: DEFAULT_EXPERIMENT_NAME,
      artifact_location: null,
      lifecycle_stage: 'active',
      creation_time: now,
      last_update_time: now,
    })
    .execute();
}

async function createRuns(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('run_id', 'text', (col) => col.primaryKey())
    .addColumn('workspace', 'text', (col) => col.notNull())
    .addColumn('experiment_id', 'bigint', (col) => col.notNull().references('experiments.experiment_id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('start_time', 'bigint', (col) => col.notNull())
    .addColumn('end_time', 'bigint')
    .addColumn('lifecycle_stage', 'text', (col) => col.notNull())
    .addColumn('deleted_time', 'bigint')
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('source_type', 'text', (col) => col.notNull())
    .addColumn('source_name', 'text', (col) => col.notNull())
    .addColumn('artifact_uri', 'text', (col) => col.notNull())
    .addColumn('parent_run_id', 'text')
    .addCheckConstraint('runs_lifecycle', sql`lifecycle_stage in ('active', 'deleted')`)
    .addCheckConstraint('runs_status', sql`status in ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')`)
    .execute();
  await db.schema
    .createIndex('runs_search')
    .on('runs')
    .columns(['workspace', 'experiment_id', 'lifecycle_stage', 'start_time'])
    .execute();
  await db.schema.createIndex('runs_parent').on('runs').column('parent_run_id').execute();
  for (const table of ['params', 'run_tags']) {
    await db.schema
      .createTable(table)
      .addColumn('run_id', 'text', (col) => col.notNull().references('runs.run_id'))
      .addColumn('key', 'text', (col) => col.notNull())
      .addColumn('value', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
      .execute();
    await db.schema.createIndex(`${table}_key_value`).on(table).columns(['key', 'value']).execute();
  }
}

async function createMetrics(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  // Every point, one row each; an identical point logged twice (a retried request) is kept once,
  // as MLflow's primary key does. No foreign key: this is the ingest hot path, and the service
  // checks the run inside the same transaction.
  await clustered(
    db.schema
      .createTable('metrics')
      .addColumn('run_id', 'text', (col) => col.notNull())
      .addColumn('key', 'text', (col) => col.notNull())
      .addColumn('step', 'bigint', (col) => col.notNull())
      .addColumn('timestamp', 'bigint', (col) => col.notNull())
      .addColumn('value', 'double precision', (col) => col.notNull())
      .addColumn('is_nan', 'boolean', (col) => col.notNull())
      .addPrimaryKeyConstraint('metrics_pk', ['run_id', 'key', 'step', 'timestamp', 'value', 'is_nan']),
    dialect,
  ).execute();
  await db.schema
    .createTable('latest_metrics')
    .addColumn('run_id', 'text', (col) => col.notNull().references('runs.run_id'))
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('step', 'bigint', (col) => col.notNull())
    .addColumn('timestamp', 'bigint', (col) => col.notNull())
    .addColumn('value', 'double precision', (col) => col.notNull())
    .addColumn('is_nan', 'boolean', (col) => col.notNull())
    .addColumn('rollup_from', 'bigint')
    .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
    .execute();
  await db.schema.createIndex('latest_metrics_key_value').on('latest_metrics').columns(['key', 'value']).execute();
  let rollups = db.schema
    .createTable('metric_rollups')
    .addColumn('run_id', 'text', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('level', 'integer', (col) => col.notNull())
    .addColumn('block', 'bigint', (col) => col.notNull());
  for (const point of ['first', 'last', 'min', 'max']) {
    const required = point === 'first' || point === 'last';
    rollups = rollups
      .addColumn(`${point}_step`, 'bigint', (col) => (required ? col.notNull() : col))
      .addColumn(`${point}_timestamp`, 'bigint', (col) => (required ? col.notNull() : col))
      .addColumn(`${point}_value`, 'double precision', (col) => (required ? col.notNull() : col));
    if (required) rollups = rollups.addColumn(`${point}_nan`, 'integer', (col) => col.notNull());
  }
  await clustered(
    rollups.addPrimaryKeyConstraint('metric_rollups_pk', ['run_id', 'key', 'level', 'block']),
    dialect,
  ).execute();
}

async function createDatasets(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('datasets')
    .addColumn('dataset_id', 'text', (col) => col.primaryKey())
    .addColumn('experiment_id', 'bigint', (col) => col.notNull().references('experiments.experiment_id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('digest', 'text', (col) => col.notNull())
    .addColumn('source_type', 'text', (col) => col.notNull())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('schema', 'text')
    .addColumn('profile', 'text')
    .addColumn('creation_time', 'bigint', (col) => col.notNull())
    .addUniqueConstraint('datasets_experiment_name_digest', ['experiment_id', 'name', 'digest'])
    .execute();
  await db.schema
    .createTable('run_inputs')
    .addColumn('run_id', 'text', (col) => col.notNull().references('runs.run_id'))
    .addColumn('dataset_id', 'text', (col) => col.notNull().references('datasets.dataset_id'))
    .addColumn('context', 'text')
    .addPrimaryKeyConstraint('run_inputs_pk', ['run_id', 'dataset_id'])
    .execute();
  await db.schema.createIndex('run_inputs_dataset').on('run_inputs').column('dataset_id').execute();
  await db.schema
    .createTable('run_input_tags')
    .addColumn('run_id', 'text', (col) => col.notNull())
    .addColumn('dataset_id', 'text', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('value', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('run_input_tags_pk', ['run_id', 'dataset_id', 'key'])
    .addForeignKeyConstraint('run_input_tags_input', ['run_id', 'dataset_id'], 'run_inputs', ['run_id', 'dataset_id'])
    .execute();
}

/**
 * Search drives from the keyed tables (see `applySearch`): `metrics.m1 > 0.9` ordered by
 * `metrics.m1 DESC` walks `latest_metrics (key, value)` in order and stops after the page. These
 * indexes replace the `(key, value)` ones with covering ones, so that walk — and a selective
 * `params.p1 = 'x'` — reads the owner (and NaN flag) from the index without a visit to each row.
 */
async function coverSearchIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('latest_metrics_key_value').execute();
  await db.schema
    .createIndex('latest_metrics_search')
    .on('latest_metrics')
    .columns(['key', 'value', 'is_nan', 'run_id'])
    .execute();
  for (const table of ['params', 'run_tags']) {
    await db.schema.dropIndex(`${table}_key_value`).execute();
    await db.schema.createIndex(`${table}_search`).on(table).columns(['key', 'value', 'run_id']).execute();
  }
}

/**
 * Schema of the tracking context (tables typed in {@link TrackingTables}), the same on SQLite and
 * PostgreSQL except for how experiment ids are generated (AUTOINCREMENT / identity) and that
 * SQLite clusters `metrics` and `metric_rollups` on their primary keys. Experiment ids are
 * integers unique across workspaces; experiment `0` (`Default`) is seeded in workspace `default`.
 *
 * @example
 * await migrate(database, [...STORE_MIGRATIONS, ...TRACKING_MIGRATIONS], logger);
 */
export const TRACKING_MIGRATIONS: readonly Migration[] = [
  { id: '20261127-01-tracking-experiments', up: createExperiments },
  { id: '20261127-02-tracking-runs', up: (db) => createRuns(db) },
  { id: '20261127-03-tracking-metrics', up: createMetrics },
  { id: '20261127-04-tracking-datasets', up: (db) => createDatasets(db) },
  { id: '20261127-05-tracking-search-indexes', up: (db) => coverSearchIndexes(db) },
  // Lineage asks "which runs read these bytes?" across experiments: by digest alone.
  {
    id: '20261128-01-tracking-datasets-digest',
    up: (db) => db.schema.createIndex('datasets_digest').on('datasets').column('digest').execute(),
  },
];
