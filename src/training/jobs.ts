import type { Kysely } from 'kysely';
import { type Database, type FoundationTables, type JobRecordKey, newestJobRecords } from '../store/index.js';
import type { TrainingRequest } from './request.js';

/** Where a training job is: queued, running, then completed or failed. */
export type TrainingJobState = 'queued' | 'running' | 'completed' | 'failed';

/** How far a running job is: the last iteration reported and its metrics. */
export interface TrainingProgress {
  step: number;
  /** Iterations planned (boosting rounds), when the learner has them. */
  total?: number;
  metrics: Record<string, number>;
}

/** A training job as callers see it. */
export interface TrainingJob {
  id: string;
  workspace: string;
  state: TrainingJobState;
  request: TrainingRequest;
  progress?: TrainingProgress;
  runId?: string;
  /** `runs:/<runId>/model` once the model package is stored. */
  modelUri?: string;
  /** Final metrics: `train_*`, `validation_*`, `eval_*`. */
  metrics?: Record<string, number>;
  modelVersion?: { name: string; version: number };
  error?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

/** The table training jobs live in. */
export type TrainingJobTables = {
  training_jobs: {
    id: string;
    workspace: string;
    state: string;
    request: string;
    progress: string | null;
    run_id: string | null;
    model_uri: string | null;
    metrics: string | null;
    model_version: string | null;
    error: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    finished_at: string | null;
  };
};

type Row = TrainingJobTables['training_jobs'];

/** Changes a running job makes to its row; absent fields stay as they are. */
export type JobChanges = Partial<
  Pick<TrainingJob, 'state' | 'progress' | 'runId' | 'modelUri' | 'metrics' | 'modelVersion' | 'error' | 'finishedAt'>
>;

function toJob(row: Row): TrainingJob {
  const job: TrainingJob = {
    id: row.id,
    workspace: row.workspace,
    state: row.state as TrainingJobState,
    request: JSON.parse(row.request) as TrainingRequest,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.progress !== null) job.progress = JSON.parse(row.progress) as TrainingProgress;
  if (row.run_id !== null) job.runId = row.run_id;
  if (row.model_uri !== null) job.modelUri = row.model_uri;
  if (row.metrics !== null) job.metrics = JSON.parse(row.metrics) as Record<string, number>;
  if (row.model_version !== null) job.modelVersion = JSON.parse(row.model_version) as TrainingJob['modelVersion'];
  if (row.error !== null) job.error = row.error;
  if (row.finished_at !== null) job.finishedAt = row.finished_at;
  return job;
}

/**
 * Training jobs in the metadata database (SQLite or PostgreSQL, one Kysely implementation).
 *
 * @example
 * const jobs = new TrainingJobStore(database);
 * await jobs.insert(job);
 */
export class TrainingJobStore {
  private readonly db: Kysely<FoundationTables & TrainingJobTables>;

  constructor(database: Database) {
    this.db = database.kysely.withTables<TrainingJobTables>();
  }

  async insert(job: TrainingJob): Promise<void> {
    await this.db
      .insertInto('training_jobs')
      .values({
        id: job.id,
        workspace: job.workspace,
        state: job.state,
        request: JSON.stringify(job.request),
        progress: null,
        run_id: null,
        model_uri: null,
        metrics: null,
        model_version: null,
        error: null,
        created_by: job.createdBy,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
        finished_at: null,
      })
      .execute();
  }

  async get(workspace: string, id: string): Promise<TrainingJob | undefined> {
    const row = await this.db
      .selectFrom('training_jobs')
      .selectAll()
      .where('workspace', '=', workspace)
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toJob(row);
  }

  /** Newest first; `before` is the (created_at, id) of the last job of the previous page. */
  async list(workspace: string, limit: number, before?: JobRecordKey): Promise<TrainingJob[]> {
    const query = this.db.selectFrom('training_jobs').selectAll().where('workspace', '=', workspace);
    const rows = await newestJobRecords(query, limit, before).execute();
    return rows.map(toJob);
  }

  async update(id: string, changes: JobChanges, now: string): Promise<void> {
    const set: Partial<Row> = { updated_at: now };
    if (changes.state !== undefined) set.state = changes.state;
    if (changes.progress !== undefined) set.progress = JSON.stringify(changes.progress);
    if (changes.runId !== undefined) set.run_id = changes.runId;
    if (changes.modelUri !== undefined) set.model_uri = changes.modelUri;
    if (changes.metrics !== undefined) set.metrics = JSON.stringify(changes.metrics);
    if (changes.modelVersion !== undefined) set.model_version = JSON.stringify(changes.modelVersion);
    if (changes.error !== undefined) set.error = changes.error;
    if (changes.finishedAt !== undefined) set.finished_at = changes.finishedAt;
    await this.db.updateTable('training_jobs').set(set).where('id', '=', id).execute();
  }
}
