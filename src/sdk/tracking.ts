import { KilnError } from '../core/index.js';
import { ArtifactsApi } from './artifacts.js';
import type { KilnClient } from './client.js';
import type { LogBatch, MetricPoint } from './log-queue.js';
import { RunHandle } from './run-handle.js';
import type {
  DatasetInput,
  Experiment,
  ExperimentList,
  Metric,
  Run,
  RunInfo,
  RunList,
  RunStatus,
  Tag,
} from './types.js';

/** Options of {@link TrackingApi.searchExperiments}. */
export interface SearchExperimentsParams {
  /** MLflow filter, e.g. `name LIKE 'churn%'`. */
  filter?: string;
  orderBy?: string[];
  viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  maxResults?: number;
  pageToken?: string;
}

/** Options of {@link TrackingApi.searchRuns}. */
export interface SearchRunsParams {
  experimentIds: string[];
  /** MLflow filter, e.g. `metrics.auc > 0.9 AND params.depth = '6'`. */
  filter?: string;
  /** e.g. `['metrics.auc DESC']`. */
  orderBy?: string[];
  runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  maxResults?: number;
  pageToken?: string;
}

/** Options of {@link TrackingApi.startRun}: the experiment by id or by name (created if missing). */
export interface StartRunOptions {
  /** Default: the workspace's `Default` experiment. */
  experimentId?: string;
  /** Used when `experimentId` is absent; the experiment is created when it does not exist. */
  experimentName?: string;
  runName?: string;
  tags?: Readonly<Record<string, string>>;
  /** How long buffered entries wait before a background flush; default 250 ms. */
  flushIntervalMs?: number;
}

/** A metric's points from {@link TrackingApi.getMetricHistory}. */
export interface MetricHistory {
  metrics: Metric[];
  next_page_token?: string;
}

/**
 * `kiln.tracking`: experiments, runs, metric history and artifacts over the Kiln REST API, plus
 * {@link startRun} and {@link withRun} for recording a run from training code.
 *
 * @example
 * const auc = await kiln.tracking.withRun({ experimentName: 'churn' }, async (run) => {
 *   run.logParams({ depth: 6 });
 *   run.logMetrics({ auc: 0.91 });
 *   return 0.91;
 * });
 * const { runs } = await kiln.tracking.searchRuns({ experimentIds: ['1'], filter: 'metrics.auc > 0.9' });
 */
export class TrackingApi {
  readonly artifacts: ArtifactsApi;

  constructor(private readonly client: KilnClient) {
    this.artifacts = new ArtifactsApi(client);
  }

  async createExperiment(name: string, options: { artifactLocation?: string; tags?: Tag[] } = {}) {
    const body = { name, artifact_location: options.artifactLocation, tags: options.tags };
    return (await this.client.request<{ experiment: Experiment }>('POST', '/api/v1/experiments', { body })).experiment;
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const path = `/api/v1/experiments/${encodeURIComponent(experimentId)}`;
    return (await this.client.request<{ experiment: Experiment }>('GET', path)).experiment;
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const path = `/api/v1/experiments/by-name/${encodeURIComponent(name)}`;
    return (await this.client.request<{ experiment: Experiment }>('GET', path)).experiment;
  }

  searchExperiments(params: SearchExperimentsParams = {}): Promise<ExperimentList> {
    return this.client.request<ExperimentList>('GET', '/api/v1/experiments', {
      query: {
        filter: params.filter,
        order_by: params.orderBy,
        view_type: params.viewType,
        max_results: params.maxResults,
        page_token: params.pageToken,
      },
    });
  }

  /** Soft-deletes an experiment and its runs. */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.client.request('DELETE', `/api/v1/experiments/${encodeURIComponent(experimentId)}`);
  }

  async searchRuns(params: SearchRunsParams): Promise<RunList> {
    const body = {
      experiment_ids: params.experimentIds,
      filter: params.filter,
      order_by: params.orderBy,
      run_view_type: params.runViewType,
      max_results: params.maxResults,
      page_token: params.pageToken,
    };
    const page = await this.client.request<RunList>('POST', '/api/v1/runs/search', { body, idempotent: true });
    return { ...page, runs: page.runs.map(runFromWire) };
  }

  async getRun(runId: string): Promise<Run> {
    const body = await this.client.request<{ run: Run }>('GET', `/api/v1/runs/${encodeURIComponent(runId)}`);
    return runFromWire(body.run);
  }

  /**
   * One metric's points in step order: a page (`maxResults`, `pageToken`), or with `maxPoints` a
   * downsampled series for a chart that keeps each range's first, last, min and max.
   */
  async getMetricHistory(
    runId: string,
    key: string,
    options: { maxPoints?: number; maxResults?: number; pageToken?: string } = {},
  ): Promise<MetricHistory> {
    const page = await this.client.request<MetricHistory>(
      'GET',
      `/api/v1/runs/${encodeURIComponent(runId)}/metric-history`,
      {
        query: {
          key,
          max_points: options.maxPoints,
          max_results: options.maxResults,
          page_token: options.pageToken,
        },
      },
    );
    return { ...page, metrics: page.metrics.map(metricFromWire) };
  }

  /** Creates a run; prefer {@link startRun}, which returns a handle that logs to it. */
  async createRun(experimentId: string, options: { runName?: string; tags?: Tag[] } = {}): Promise<Run> {
    const body = { experiment_id: experimentId, run_name: options.runName, tags: options.tags };
    return runFromWire((await this.client.request<{ run: Run }>('POST', '/api/v1/runs', { body })).run);
  }

  /** Changes a run's status, end time or name. */
  async updateRun(runId: string, changes: { status?: RunStatus; endTime?: number; runName?: string }) {
    const body = { status: changes.status, end_time: changes.endTime, run_name: changes.runName };
    const path = `/api/v1/runs/${encodeURIComponent(runId)}`;
    return (await this.client.request<{ run_info: RunInfo }>('PATCH', path, { body })).run_info;
  }

  /**
   * One `log-batch` call; at most 1000 metrics, 100 params and 100 tags. Retried like a GET: the
   * server stores an identical metric point once, accepts a param logged again with the same value
   * and overwrites tags, so replaying a batch whose answer was lost changes nothing.
   */
  async logBatch(runId: string, batch: Partial<LogBatch>): Promise<void> {
    await this.client.request('POST', `/api/v1/runs/${encodeURIComponent(runId)}/log-batch`, {
      body: batch,
      idempotent: true,
    });
  }

  /**
   * Records the datasets a run used (MLflow's `log-inputs`). Retried like a GET: logging a dataset
   * again links it once and only merges its tags.
   */
  async logInputs(runId: string, datasets: readonly DatasetInput[]): Promise<void> {
    await this.client.request('POST', `/api/v1/runs/${encodeURIComponent(runId)}/inputs`, {
      body: { datasets },
      idempotent: true,
    });
  }

  /** Starts a run and returns a {@link RunHandle} that logs to it. */
  async startRun(options: StartRunOptions = {}): Promise<RunHandle> {
    const experimentId = options.experimentId ?? (await this.experimentIdFor(options.experimentName));
    const tags = Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value }));
    const run = await this.createRun(experimentId, { runName: options.runName, tags });
    return new RunHandle(this, run.info, options.flushIntervalMs);
  }

  /**
   * Starts a run, calls `fn` with it, and ends it FINISHED when `fn` resolves or FAILED when it
   * throws (the error is rethrown). Buffered entries are flushed either way.
   */
  async withRun<T>(options: StartRunOptions, fn: (run: RunHandle) => Promise<T> | T): Promise<T> {
    const run = await this.startRun(options);
    let result: T;
    try {
      result = await fn(run);
    } catch (error) {
      await run.end('FAILED').catch(() => undefined);
      throw error;
    }
    await run.end('FINISHED');
    return result;
  }

  private async experimentIdFor(name: string | undefined): Promise<string> {
    if (name === undefined) return (await this.getExperimentByName('Default')).experiment_id;
    try {
      return (await this.getExperimentByName(name)).experiment_id;
    } catch (error) {
      if (!(error instanceof KilnError) || error.code !== 'RESOURCE_DOES_NOT_EXIST') throw error;
    }
    try {
      return (await this.createExperiment(name)).experiment_id;
    } catch (error) {
      // Another client created it between our two calls.
      if (error instanceof KilnError && error.code === 'RESOURCE_ALREADY_EXISTS') {
        return (await this.getExperimentByName(name)).experiment_id;
      }
      throw error;
    }
  }
}

/** A metric from the wire, with `"NaN"` and `"±Infinity"` back as numbers. */
export function metricFromWire(metric: Omit<Metric, 'value'> & { value: MetricPoint['value'] }): Metric {
  const { value } = metric;
  const number =
    typeof value === 'number'
      ? value
      : value === 'NaN'
        ? Number.NaN
        : value === 'Infinity'
          ? Number.POSITIVE_INFINITY
          : Number.NEGATIVE_INFINITY;
  return { ...metric, value: number };
}

function runFromWire(run: Run): Run {
  return { ...run, data: { ...run.data, metrics: run.data.metrics.map(metricFromWire) } };
}
