import type { Migration } from '../../store/index.js';

/**
 * Schema of batch scoring: one row per submitted job, written by whichever process scores it, so
 * the API and `kiln predict` can follow a job a worker on another machine runs. The model version
 * and the input version are resolved when the job is submitted and kept in their own columns; the
 * output version is filled in when the job succeeds.
 */
export const SCORING_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261128-04-serving-scoring-jobs',
    async up(db) {
      await db.schema
        .createTable('serving_scoring_jobs')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('request', 'text', (col) => col.notNull())
        .addColumn('model_name', 'text', (col) => col.notNull())
        .addColumn('model_version', 'integer', (col) => col.notNull())
        .addColumn('input_dataset', 'text', (col) => col.notNull())
        .addColumn('input_version', 'integer', (col) => col.notNull())
        .addColumn('total_rows', 'bigint', (col) => col.notNull())
        .addColumn('total_chunks', 'integer', (col) => col.notNull())
        .addColumn('rows_scored', 'bigint', (col) => col.notNull())
        .addColumn('chunks_done', 'integer', (col) => col.notNull())
        .addColumn('output_dataset', 'text')
        .addColumn('output_version', 'integer')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createIndex('serving_scoring_jobs_workspace_created')
        .on('serving_scoring_jobs')
        .columns(['workspace', 'created_at', 'id'])
        .execute();
    },
  },
];
