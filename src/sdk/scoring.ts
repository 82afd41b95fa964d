import { KilnError } from '../core/index.js';
import type { KilnClient } from './client.js';
import { type JobWaitOptions, waitForJob } from './job-wait.js';

/** What `POST /api/v1/scoring-jobs` takes. */
export interface ScoringJobRequest {
  /** `models:/name/3`, or `models:/name@alias` (resolved to its version when submitted). */
  model: string;
  /** The dataset version to score: `name@version`, or `name` for the latest. */
  data: string;
  /** Dataset the scored rows become the next version of; created when missing. */
  out: string;
  /** Rows scored per chunk (1 to 1,000,000); the server's default is 50,000. */
  chunk_rows?: number;
}

/** A batch-scoring job as the server reports it. */
export interface ScoringJob {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  request: Required<ScoringJobRequest>;
  /** The registered model version applied (an alias as resolved when submitted). */
  model: { name: string; version: number };
  /** The dataset version scored. */
  input: { dataset: string; version: number };
  progress: { rows_scored: number; total_rows: number; chunks_done: number; total_chunks: number };
  /** The version the scored rows were recorded as, once succeeded. */
  output?: { dataset: string; version: number };
  error?: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  started_at?: string;
  finished_at?: string;
}

/** What a succeeded job produced. */
export interface ScoringOutcome {
  jobId: string;
  model: { name: string; version: number };
  output: { dataset: string; version: number };
  rows: number;
}

/** Options of {@link ScoringApi.wait}. */
export type ScoringWaitOptions = JobWaitOptions<ScoringJob>;

const FINISHED = new Set(['succeeded', 'failed']);

/**
 * `kiln.scoring`: batch-scoring jobs over `/api/v1/scoring-jobs`. A job applies a registered model
 * version to a dataset version on the server's queue, chunk by chunk, and records the rows with
 * `prediction` (and `probability_<class>` columns for classifiers) as a new dataset version.
 *
 * @example
 * const outcome = await kiln.scoring.score({ model: 'models:/flights@champion', data: 'flights@4', out: 'scored' });
 * console.log(`${outcome.rows} rows → ${outcome.output.dataset}@${outcome.output.version}`);
 */
export class ScoringApi {
  constructor(private readonly client: KilnClient) {}

  /** Submits a job; the server checks the model, the data and its columns first (a 4xx names the field). */
  async submit(request: ScoringJobRequest): Promise<ScoringJob> {
    return (await this.client.request<{ job: ScoringJob }>('POST', '/api/v1/scoring-jobs', { body: request })).job;
  }

  async get(id: string): Promise<ScoringJob> {
    const path = `/api/v1/scoring-jobs/${encodeURIComponent(id)}`;
    return (await this.client.request<{ job: ScoringJob }>('GET', path)).job;
  }

  /** The workspace's jobs, newest first. */
  list(
    params: { maxResults?: number; pageToken?: string } = {},
  ): Promise<{ jobs: ScoringJob[]; next_page_token?: string }> {
    return this.client.request('GET', '/api/v1/scoring-jobs', {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Polls until the job succeeds or fails and answers it in its final state (a failed job too). */
  async wait(id: string, options: ScoringWaitOptions = {}): Promise<ScoringJob> {
    return waitForJob({ kind: 'scoring job', id, get: () => this.get(id), finished: FINISHED }, options);
  }

  /** Submits, waits and answers the output version; a failed job rejects with its error. */
  async score(request: ScoringJobRequest, options: ScoringWaitOptions = {}): Promise<ScoringOutcome> {
    const submitted = await this.submit(request);
    return scoringOutcomeOf(await this.wait(submitted.id, options));
  }
}

/**
 * The outcome of a finished job; a failed one throws INVALID_STATE carrying the job's error.
 *
 * @example
 * const { output, rows } = scoringOutcomeOf(await kiln.scoring.wait(job.id));
 */
export function scoringOutcomeOf(job: ScoringJob): ScoringOutcome {
  if (job.state !== 'succeeded' || job.output === undefined) {
    throw new KilnError('INVALID_STATE', `scoring job ${job.id} failed: ${job.error ?? job.state}`, { id: job.id });
  }
  return { jobId: job.id, model: job.model, output: job.output, rows: job.progress.rows_scored };
}
