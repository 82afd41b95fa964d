import type { Migration } from '../store/index.js';

/**
 * Schema of the training context. Training jobs: one row per submitted job, written by whichever
 * process runs it, so `kiln train` and the API can follow a job a worker on another machine trains.
 * Hyper-parameter studies and their trials: A study row keeps its
 * validated spec as JSON, the counter that hands out trial numbers (`next_number`, incremented in
 * one UPDATE so two workers never claim the same number) and the monotone best so far. A trial's
 * primary key is (study, number): a trial number exists at most once whatever the queue replays.
 */
export const TRAINING_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261127-01-training-studies',
    async up(db) {
      await db.schema
        .createTable('training_studies')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('spec', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('n_trials', 'integer', (col) => col.notNull())
        .addColumn('parallelism', 'integer', (col) => col.notNull())
        .addColumn('next_number', 'integer', (col) => col.notNull())
        .addColumn('generation', 'integer', (col) => col.notNull())
        .addColumn('experiment_id', 'text', (col) => col.notNull())
        .addColumn('parent_run_id', 'text', (col) => col.notNull())
        .addColumn('deadline', 'text')
        .addColumn('best_number', 'integer')
        .addColumn('best_value', 'double precision')
        .addColumn('registered', 'text')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createIndex('training_studies_workspace_created')
        .on('training_studies')
        .columns(['workspace', 'created_at'])
        .execute();
      await db.schema.createIndex('training_studies_state').on('training_studies').column('state').execute();
    },
  },
  {
    id: '20261127-02-training-trials',
    async up(db) {
      await db.schema
        .createTable('training_trials')
        .addColumn('study_id', 'text', (col) => col.notNull().references('training_studies.id'))
        .addColumn('number', 'integer', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('params', 'text', (col) => col.notNull())
        .addColumn('value', 'double precision')
        .addColumn('intermediate', 'text', (col) => col.notNull())
        .addColumn('run_id', 'text')
        .addColumn('model_uri', 'text')
        .addColumn('job_id', 'text', (col) => col.notNull())
        .addColumn('attempts', 'integer', (col) => col.notNull())
        .addColumn('successor', 'integer')
        .addColumn('error', 'text')
        .addColumn('started_at', 'text', (col) => col.notNull())
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('training_trials_pk', ['study_id', 'number'])
        .execute();
    },
  },
  {
    id: '20261127-03-training-jobs',
    async up(db) {
      await db.schema
        .createTable('training_jobs')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('request', 'text', (col) => col.notNull())
        .addColumn('progress', 'text')
        .addColumn('run_id', 'text')
        .addColumn('model_uri', 'text')
        .addColumn('metrics', 'text')
        .addColumn('model_version', 'text')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createIndex('training_jobs_workspace_created')
        .on('training_jobs')
        .columns(['workspace', 'created_at', 'id'])
        .execute();
    },
  },
];
