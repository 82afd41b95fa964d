import type { Kysely } from 'kysely';
import { type Database, type FoundationTables, type JobRecordKey, newestJobRecords } from '../../store/index.js';
import type { ScoringRequest } from './request.js';

/** Where a scoring job is: queued, running, then succeeded or failed. */
export type ScoringJobState = 'queued' | 'running' | 'succeeded' | 'failed';

/** How far a job has come: rows and chunks scored of the input's. */
export interface ScoringProgress {
  rowsScored: number;
  totalRows: number;
  chunksDone: number;
  totalChunks: number;
}

/** A batch-scoring job as callers see it. */
export interface ScoringJob {
  id: string;
  workspace: string;
  state: ScoringJobState;
  /** The request as submitted (an alias stays as written; `model` below is what it resolved to). */
  request: ScoringRequest & { chunkRows: number };
  /** The registered model version the job applies. */
  model: { name: string; version: number };
  /** The dataset version it scores. */
  input: { dataset: string; version: number };
  progress: ScoringProgress;
  /** The version the scored rows were recorded as, once succeeded. */
  output?: { dataset: string; version: number };
  error?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** The table scoring jobs live in. */
export type ScoringJobTables = {
  serving_scoring_jobs: {
    id: string;
    workspace: string;
    state: string;
    request: string;
    model_name: string;
    model_version: number;
    input_dataset: string;
    input_version: number;
    /** PostgreSQL returns bigint as a string. */
    total_rows: number | string;
    total_chunks: number;
    rows_scored: number | string;
    chunks_done: number;
    output_dataset: string | null;
    output_version: number | null;
    error: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    started_at: string | null;
    finished_at: string | null;
  };
};

type Row = ScoringJobTables['serving_scoring_jobs'];

/** Changes a running job makes to its row; absent fields stay as they are. */
export type ScoringJobChanges = Partial<
  Pick<ScoringJob, 'state' | 'progress' | 'output' | 'error' | 'startedAt' | 'finishedAt'>
>;

function toJob(row: Row): ScoringJob {
  const job: ScoringJob = {
    id: row.id,
    workspace: row.workspace,
    state: row.state as ScoringJobState,
    request: JSON.parse(row.request) as ScoringJob['request'],
    model: { name: row.model_name, version: Number(row.model_version) },
    input: { dataset: row.input_dataset, version: Number(row.input_version) },
    progress: {
      rowsScored: Number(row.rows_scored),
      totalRows: Number(row.total_rows),
      chunksDone: Number(row.chunks_done),
      totalChunks: Number(row.total_chunks),
    },
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.output_dataset !== null && row.output_version !== null) {
    job.output = { dataset: row.output_dataset, version: Number(row.output_version) };
  }
  if (row.error !== null) job.error = row.error;
  if (row.started_at !== null) job.startedAt = row.started_at;
  if (row.finished_at !== null) job.finishedAt = row.finished_at;
  return job;
}

/**
 * Scoring jobs in the metadata database (SQLite or PostgreSQL, one Kysely implementation), written
 * by whichever process runs the job, so the API and `kiln predict` follow a job a worker on
 * another machine scores.
 *
 * @example
 * const jobs = new ScoringJobStore(database);
 * await jobs.insert(job);
 */
export class ScoringJobStore {
  private readonly db: Kysely<FoundationTables & ScoringJobTables>;

  constructor(database: Database) {
    this.db = database.kysely.withTables<ScoringJobTables>();
  }

  async insert(job: ScoringJob): Promise<void> {
    await this.db
      .insertInto('serving_scoring_jobs')
      .values({
        id: job.id,
        workspace: job.workspace,
        state: job.state,
        request: JSON.stringify(job.request),
        model_name: job.model.name,
        model_version: job.model.version,
        input_dataset: job.input.dataset,
        input_version: job.input.version,
        total_rows: job.progress.totalRows,
        total_chunks: job.progress.totalChunks,
        rows_scored: job.progress.rowsScored,
        chunks_done: job.progress.chunksDone,
        output_dataset: null,
        output_version: null,
        error: null,
        created_by: job.createdBy,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
        started_at: null,
        finished_at: null,
      })
      .execute();
  }

  async get(workspace: string, id: string): Promise<ScoringJob | undefined> {
    const row = await this.db
      .selectFrom('serving_scoring_jobs')
      .selectAll()
      .where('workspace', '=', workspace)
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toJob(row);
  }

  /** Newest first; `before` is the (created_at, id) of the last job of the previous page. */
  async list(workspace: string, limit: number, before?: JobRecordKey): Promise<ScoringJob[]> {
    const query = this.db.selectFrom('serving_scoring_jobs').selectAll().where('workspace', '=', workspace);
    const rows = await newestJobRecords(query, limit, before).execute();
    return rows.map(toJob);
  }

  async update(id: string, changes: ScoringJobChanges, now: string): Promise<void> {
    const set: Partial<Row> = { updated_at: now };
    if (changes.state !== undefined) set.state = changes.state;
    if (changes.progress !== undefined) {
      set.rows_scored = changes.progress.rowsScored;
      set.total_rows = changes.progress.totalRows;
      set.chunks_done = changes.progress.chunksDone;
      set.total_chunks = changes.progress.totalChunks;
    }
    if (changes.output !== undefined) {
      set.output_dataset = changes.output.dataset;
      set.output_version = changes.output.version;
    }
    if (changes.error !== undefined) set.error = changes.error;
    if (changes.startedAt !== undefined) set.started_at = changes.startedAt;
    if (changes.finishedAt !== undefined) set.finished_at = changes.finishedAt;
    await this.db.updateTable('serving_scoring_jobs').set(set).where('id', '=', id).execute();
  }
}
