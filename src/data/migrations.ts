import type { Migration } from '../store/index.js';

/**
 * Schema of the data context. Tables are prefixed `data_` because tracking already owns `datasets`
 * (MLflow's dataset inputs of runs). A version's primary key is (dataset, version) so numbering is per
 * dataset; `digest` is indexed because "which versions hold these bytes?" is how blob reuse and
 * lineage are answered.
 */
export const DATA_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261127-01-data-datasets',
    async up(db) {
      await db.schema
        .createTable('data_datasets')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('tags', 'text', (col) => col.notNull().defaultTo('{}'))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addUniqueConstraint('data_datasets_workspace_name', ['workspace', 'name'])
        .execute();
    },
  },
  {
    id: '20261127-02-data-dataset-versions',
    async up(db) {
      await db.schema
        .createTable('data_dataset_versions')
        .addColumn('dataset_id', 'text', (col) => col.notNull().references('data_datasets.id'))
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('digest', 'text', (col) => col.notNull())
        .addColumn('blob_key', 'text', (col) => col.notNull())
        .addColumn('source_kind', 'text', (col) => col.notNull())
        .addColumn('source', 'text', (col) => col.notNull())
        .addColumn('format', 'text', (col) => col.notNull())
        .addColumn('row_count', 'bigint', (col) => col.notNull())
        .addColumn('column_count', 'integer', (col) => col.notNull())
        .addColumn('schema', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('data_dataset_versions_pk', ['dataset_id', 'version'])
        .execute();
      await db.schema
        .createIndex('data_dataset_versions_digest')
        .on('data_dataset_versions')
        .column('digest')
        .execute();
    },
  },
  {
    // Nullable: versions recorded before profiles existed have none, and getProfile says so.
    id: '20261127-03-data-version-profiles',
    async up(db) {
      await db.schema.alterTable('data_dataset_versions').addColumn('profile', 'text').execute();
    },
  },
  {
    // Lineage edges, the validation report of each version, suites and their attachment to datasets.
    id: '20261128-01-data-lineage-suites',
    async up(db) {
      await db.schema
        .createTable('data_version_inputs')
        .addColumn('dataset_id', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('input_dataset_id', 'text', (col) => col.notNull().references('data_datasets.id'))
        .addColumn('input_version', 'integer', (col) => col.notNull())
        .addColumn('role', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('data_version_inputs_pk', [
          'dataset_id',
          'version',
          'input_dataset_id',
          'input_version',
        ])
        .addForeignKeyConstraint('data_version_inputs_version', ['dataset_id', 'version'], 'data_dataset_versions', [
          'dataset_id',
          'version',
        ])
        .execute();
      await db.schema
        .createIndex('data_version_inputs_input')
        .on('data_version_inputs')
        .columns(['input_dataset_id', 'input_version'])
        .execute();
      await db.schema.alterTable('data_dataset_versions').addColumn('validation', 'text').execute();
      await db.schema.alterTable('data_datasets').addColumn('suite_name', 'text').execute();
      await db.schema.alterTable('data_datasets').addColumn('suite_version', 'integer').execute();
      await db.schema
        .createTable('data_suites')
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('description', 'text', (col) => col.notNull())
        .addColumn('definition', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('data_suites_pk', ['workspace', 'name', 'version'])
        .execute();
    },
  },
];
