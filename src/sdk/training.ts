import { KilnError } from '../core/index.js';
import type { KilnClient } from './client.js';
import { type JobWaitOptions, waitForJob } from './job-wait.js';

/** A learner parameter value; strings are coerced by the server by the parameter's declared type. */
export type TrainingParamValue = string | number | boolean;

/** What `POST /api/v1/training-jobs` takes (see docs/training.md). */
export interface TrainingJobRequest {
  /** `name` (latest version) or `name@version`. */
  data: string;
  /** Held-out data scored at the end: `eval_*` metrics. */
  eval_data?: string;
  target: string;
  task: 'binary' | 'multiclass' | 'regression' | 'classification';
  model: 'gbdt' | 'forest' | 'logistic' | 'linear';
  params?: Record<string, TrainingParamValue>;
  features?: string[];
  preprocessing?: unknown;
  experiment?: string;
  run_name?: string;
  /** Registered model to add the trained model to as a new version. */
  register?: string;
  validation_fraction?: number;
}

/** A training job as the server reports it. */
export interface TrainingJob {
  id: string;
  state: 'queued' | 'running' | 'completed' | 'failed';
  request: TrainingJobRequest;
  progress?: { step: number; total?: number; metrics: Record<string, number> };
  run_id?: string;
  model_uri?: string;
  metrics?: Record<string, number>;
  model_version?: { name: string; version: number };
  error?: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at?: string;
}

/** What a successful job produced. */
export interface TrainingOutcome {
  jobId: string;
  runId: string;
  modelUri: string;
  metrics: Record<string, number>;
  modelVersion?: { name: string; version: number };
}

/** Options of {@link TrainingApi.wait}. */
export type WaitOptions = JobWaitOptions<TrainingJob>;

const FINISHED = new Set(['completed', 'failed']);

/**
 * `kiln.training`: training jobs over `/api/v1/training-jobs`. Jobs run on the server's queue;
 * `train` submits and waits, answering the run, the model URI and the final metrics.
 *
 * @example
 * const outcome = await kiln.training.train({ data: 'penguins', target: 'species', task: 'classification', model: 'gbdt' });
 * console.log(outcome.metrics.validation_accuracy, outcome.modelUri);
 */
export class TrainingApi {
  constructor(private readonly client: KilnClient) {}

  /** Submits a job; the server checks it against the data first (a 4xx names the problem). */
  async submit(request: TrainingJobRequest): Promise<TrainingJob> {
    return (await this.client.request<{ job: TrainingJob }>('POST', '/api/v1/training-jobs', { body: request })).job;
  }

  async get(id: string): Promise<TrainingJob> {
    const path = `/api/v1/training-jobs/${encodeURIComponent(id)}`;
    return (await this.client.request<{ job: TrainingJob }>('GET', path)).job;
  }

  list(
    params: { maxResults?: number; pageToken?: string } = {},
  ): Promise<{ jobs: TrainingJob[]; next_page_token?: string }> {
    return this.client.request('GET', '/api/v1/training-jobs', {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Polls until the job completes or fails and answers it in its final state (a failed job too). */
  async wait(id: string, options: WaitOptions = {}): Promise<TrainingJob> {
    return waitForJob({ kind: 'training job', id, get: () => this.get(id), finished: FINISHED }, options);
  }

  /** Submits, waits and answers what the job produced; a failed job rejects with its error. */
  async train(request: TrainingJobRequest, options: WaitOptions = {}): Promise<TrainingOutcome> {
    const submitted = await this.submit(request);
    const job = await this.wait(submitted.id, options);
    return outcomeOf(job);
  }
}

/**
 * The outcome of a finished job; a failed one throws INVALID_STATE carrying the job's error.
 *
 * @example
 * const { runId, metrics } = outcomeOf(await kiln.training.wait(job.id));
 */
export function outcomeOf(job: TrainingJob): TrainingOutcome {
  if (job.state !== 'completed' || job.run_id === undefined || job.model_uri === undefined) {
    throw new KilnError('INVALID_STATE', `training job ${job.id} failed: ${job.error ?? job.state}`, {
      id: job.id,
      ...(job.run_id === undefined ? {} : { run_id: job.run_id }),
    });
  }
  return {
    jobId: job.id,
    runId: job.run_id,
    modelUri: job.model_uri,
    metrics: job.metrics ?? {},
    ...(job.model_version === undefined ? {} : { modelVersion: job.model_version }),
  };
}
