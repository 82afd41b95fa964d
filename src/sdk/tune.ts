import { KilnError } from '../core/index.js';
import type { KilnClient } from './client.js';
import { sleep } from './retry.js';

/** A sampled or fixed parameter value. */
export type StudyParamValue = string | number | boolean | null;

/** One dimension of a search space: a float or int range (optionally log or stepped) or a list of choices. */
export type StudyDistribution = (
  | { type: 'float' | 'int'; low: number; high: number; log?: boolean; step?: number }
  | { type: 'categorical'; choices: StudyParamValue[] }
) & { when?: { param: string; equals: StudyParamValue[] } };

/**
 * A study as `POST /api/v1/studies` takes it: what each trial trains, the space searched and how.
 * Left out: the metric (validation log loss or RMSE by task), the direction (by metric), the
 * sampler (TPE, seed 0), the pruner (median), 20 trials, one at a time.
 */
export interface StudySpecInput {
  name?: string;
  experiment?: string;
  data: string;
  eval_data?: string;
  target: string;
  task: 'classification' | 'binary' | 'multiclass' | 'regression';
  model: 'gbdt' | 'forest' | 'logistic' | 'linear';
  features?: string[];
  validation_fraction?: number;
  params?: Record<string, string | number | boolean>;
  space: Record<string, StudyDistribution>;
  metric?: string;
  direction?: 'minimize' | 'maximize';
  sampler?: { type: 'tpe' | 'random' | 'grid'; seed?: number; [option: string]: unknown };
  pruner?: { type: 'median' | 'asha' | 'none'; [option: string]: unknown };
  n_trials?: number;
  parallelism?: number;
  timeout_seconds?: number;
  register_best?: string;
}

/** One trial as the API reports it. */
export interface Trial {
  number: number;
  state: 'running' | 'complete' | 'pruned' | 'failed';
  params: Record<string, StudyParamValue>;
  value?: number;
  intermediate: [number, number][];
  run_id?: string;
  model_uri?: string;
  attempts: number;
  error?: string;
  started_at: string;
  finished_at?: string;
}

/** A study with its trial counts and best trial. */
export interface Study {
  id: string;
  name: string;
  state: 'running' | 'complete' | 'stopped' | 'failed';
  spec: Record<string, unknown> & { metric: string; direction: 'minimize' | 'maximize' };
  n_trials: number;
  parallelism: number;
  experiment_id: string;
  parent_run_id: string;
  counts: { running: number; complete: number; pruned: number; failed: number };
  best_trial?: Trial;
  registered_model?: { name: string; version: string };
  error?: string;
  deadline?: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at?: string;
}

/** Options of {@link StudiesApi.wait} and {@link StudiesApi.tune}. */
export interface StudyWaitOptions {
  /** Called once for each trial that ended (complete, pruned or failed), in the order they are seen. */
  onTrial?: (trial: Trial, study: Study) => void;
  /** Between looks at the study; default 1000 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

const POLL_MS = 1000;

/** Waits between polls; an abort ends the wait with CANCELLED. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => {
    throw new KilnError('CANCELLED', 'waiting for the study was cancelled');
  });
}

/**
 * `kiln.studies`: hyper-parameter studies over `/api/v1/studies`. Trials run on the server's
 * workers; these calls create a study, follow it and steer it.
 *
 * @example
 * const study = await kiln.studies.tune(
 *   { data: 'flights@1', target: 'delayed', task: 'binary', model: 'gbdt',
 *     space: { max_depth: { type: 'int', low: 3, high: 10 } }, n_trials: 30, parallelism: 2 },
 *   { onTrial: (t) => console.log(t.number, t.state, t.value) },
 * );
 * console.log(study.best_trial?.params);
 */
export class StudiesApi {
  constructor(private readonly client: KilnClient) {}

  /** Creates a study; its first trials are queued at once. */
  async create(spec: StudySpecInput): Promise<Study> {
    return (await this.client.request<{ study: Study }>('POST', '/api/v1/studies', { body: spec })).study;
  }

  async get(id: string): Promise<Study> {
    return (await this.client.request<{ study: Study }>('GET', `/api/v1/studies/${encodeURIComponent(id)}`)).study;
  }

  /** Studies of the workspace, newest first. */
  async list(
    params: { maxResults?: number; pageToken?: string } = {},
  ): Promise<{ studies: Study[]; next_page_token?: string }> {
    return this.client.request('GET', '/api/v1/studies', {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** One page of a study's trials in number order. */
  async trials(
    id: string,
    params: { maxResults?: number; pageToken?: string } = {},
  ): Promise<{ trials: Trial[]; next_page_token?: string }> {
    return this.client.request('GET', `/api/v1/studies/${encodeURIComponent(id)}/trials`, {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Every trial of a study, following the pages. */
  async allTrials(id: string): Promise<Trial[]> {
    const all: Trial[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.trials(id, { maxResults: 1000, ...(pageToken === undefined ? {} : { pageToken }) });
      all.push(...page.trials);
      pageToken = page.next_page_token;
    } while (pageToken !== undefined);
    return all;
  }

  /** Re-runs trials a crash orphaned and queues the rest; a stopped study runs again. Safe to repeat. */
  async resume(id: string): Promise<Study> {
    return (
      await this.client.request<{ study: Study }>('POST', `/api/v1/studies/${encodeURIComponent(id)}/resume`, {
        idempotent: true,
      })
    ).study;
  }

  /** Starts no more trials and cancels those in flight. */
  async stop(id: string): Promise<Study> {
    return (await this.client.request<{ study: Study }>('POST', `/api/v1/studies/${encodeURIComponent(id)}/stop`))
      .study;
  }

  /**
   * Follows a study until it is no longer running, reporting each trial as it ends; resolves the
   * final study. A study that failed rejects with INVALID_STATE carrying its error.
   */
  async wait(id: string, options: StudyWaitOptions = {}): Promise<Study> {
    const reported = new Set<number>();
    for (;;) {
      const study = await this.get(id);
      if (options.onTrial !== undefined) {
        for (const trial of await this.allTrials(id)) {
          if (trial.state === 'running' || reported.has(trial.number)) continue;
          reported.add(trial.number);
          options.onTrial(trial, study);
        }
      }
      if (study.state === 'failed') {
        throw new KilnError('INVALID_STATE', `Study ${id} failed: ${study.error ?? 'no reason recorded'}`, { id });
      }
      if (study.state !== 'running') return study;
      await pause(options.pollMs ?? POLL_MS, options.signal);
    }
  }

  /** Creates a study and waits for it: `client.tune(spec, { onTrial })`. Resolves the final study with its best trial. */
  async tune(spec: StudySpecInput, options: StudyWaitOptions = {}): Promise<Study> {
    const study = await this.create(spec);
    return this.wait(study.id, options);
  }
}
