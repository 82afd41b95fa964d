import type { Migration } from '../database/database.js';

/**
 * One job of the durable local queue. Timestamps are ISO-8601 UTC text, JSON columns are text.
 * `state` is `waiting` (including not-yet-due jobs, reported as `delayed`), `active`, `completed`
 * or `failed`; an `active` row belongs to `locked_by` until `lease_until`.
 */
export type JobsTable = {
  queue: string;
  id: string;
  name: string;
  data: string;
  state: 'waiting' | 'active' | 'completed' | 'failed';
  attempts_made: number;
  max_attempts: number;
  backoff_ms: number;
  run_at: string;
  progress: string;
  result: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  locked_by: string | null;
  lease_until: string | null;
};

/** The queue's tables, for `database.kysely.withTables<QueueTables>()`. */
export type QueueTables = {
  kiln_jobs: JobsTable;
};

/**
 * Tables of the durable local queue, applied with the rest of STORE_MIGRATIONS. Job ids are unique
 * per queue, as in BullMQ. The claim index serves the worker's query for due jobs
 * (`queue = ? and state = 'waiting' and run_at <= now`) and for expired leases.
 *
 * @example
 * await migrate(database, STORE_MIGRATIONS, logger);
 */
export const QUEUE_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261127-01-store-jobs',
    async up(db) {
      await db.schema
        .createTable('kiln_jobs')
        .addColumn('queue', 'text', (column) => column.notNull())
        .addColumn('id', 'text', (column) => column.notNull())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('data', 'text', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('attempts_made', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (column) => column.notNull())
        .addColumn('backoff_ms', 'integer', (column) => column.notNull())
        .addColumn('run_at', 'text', (column) => column.notNull())
        .addColumn('progress', 'text', (column) => column.notNull().defaultTo('0'))
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('locked_by', 'text')
        .addColumn('lease_until', 'text')
        .addPrimaryKeyConstraint('kiln_jobs_pkey', ['queue', 'id'])
        .execute();
      await db.schema.createIndex('kiln_jobs_claim').on('kiln_jobs').columns(['queue', 'state', 'run_at']).execute();
    },
  },
];
