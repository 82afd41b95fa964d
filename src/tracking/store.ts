import type { DatasetInput, LifecycleStage, Metric, MetricPoint, Param, RunStatus, Tag, ViewType } from './model.js';
import type { SearchPlan } from './search/index.js';
import type { CheckedBatch } from './validation.js';

/** An experiment row with its tags; `artifactLocation` null means the root's default. */
export interface ExperimentRecord {
  experimentId: number;
  workspace: string;
  name: string;
  artifactLocation: string | null;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Tag[];
}

/** A run row: MLflow's RunInfo plus the workspace and the source columns. */
export interface RunRecord {
  runId: string;
  workspace: string;
  experimentId: number;
  name: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  deletedTime: number | null;
  userId: string;
  sourceType: string;
  sourceName: string;
  artifactUri: string;
  parentRunId: string | null;
}

/** A run that read a dataset: which run, and under which name and context it logged the input. */
export interface RunUsingDataset {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  lifecycleStage: LifecycleStage;
  /** The name the run logged the dataset under. */
  datasetName: string;
  /** `mlflow.data.context` of the input, e.g. `training`. */
  context?: string;
}

/** Everything logged to a run: params, tags, the latest value of each metric, dataset inputs. */
export interface RunData {
  params: Param[];
  tags: Tag[];
  metrics: Metric[];
  inputs: DatasetInput[];
}

/** Run columns mirrored by tags (`mlflow.runName`, `mlflow.user`, `mlflow.parentRunId`). */
export interface RunColumnChanges {
  name?: string;
  userId?: string;
  parentRunId?: string | null;
}

/** Why a write to a run did not happen, or that it did. */
export type RunWriteOutcome =
  | { kind: 'ok' }
  | { kind: 'missing' }
  | { kind: 'deleted' }
  | { kind: 'no-tag' }
  | { kind: 'param-conflict'; key: string; existing: string; attempted: string };

/** One page of a search: rows `offset` … `offset + limit - 1` in the plan's order. */
export interface PageRequest {
  workspace: string;
  plan: SearchPlan;
  viewType: ViewType;
  limit: number;
  offset: number;
}

/** Where a metric-history page starts: after this point in (step, timestamp, value, NaN) order. */
export interface HistoryCursor {
  step: number;
  timestamp: number;
  value: number;
  isNan: boolean;
}

/** An inclusive step range; an absent bound leaves that side open. */
export interface StepRange {
  startStep?: number;
  endStep?: number;
}

/**
 * What the tracking services need from persistence. Implementations report outcomes (undefined,
 * false, a {@link RunWriteOutcome}) rather than throwing, so the services alone choose the error a
 * caller sees; every multi-row change happens in one transaction. Reads and writes of top-level
 * rows are scoped to a workspace; a row of another workspace is reported as missing.
 *
 * @example
 * const store: TrackingStore = new KyselyTrackingStore(database);
 * const id = await store.insertExperiment({ workspace: 'default', name: 'churn', artifactLocation: null, time, tags: [] });
 */
export interface TrackingStore {
  /** Stores a new active experiment with its tags; resolves its id, or undefined when the name is taken. */
  insertExperiment(experiment: {
    workspace: string;
    name: string;
    artifactLocation: string | null;
    time: number;
    tags: readonly Tag[];
  }): Promise<number | undefined>;
  getExperiment(workspace: string, experimentId: number): Promise<ExperimentRecord | undefined>;
  getExperimentByName(workspace: string, name: string): Promise<ExperimentRecord | undefined>;
  /** Renames an active experiment; 'missing' when there is no active one, 'name-taken' on a clash. */
  renameExperiment(
    workspace: string,
    experimentId: number,
    name: string,
    time: number,
  ): Promise<'renamed' | 'missing' | 'name-taken'>;
  /**
   * Soft-deletes or restores an experiment and, with it, its runs: deleting marks its active runs
   * deleted at `time`; restoring brings back the runs deleted together with it. Resolves false
   * when the experiment is missing or already in `stage`.
   */
  setExperimentLifecycle(
    workspace: string,
    experimentId: number,
    stage: LifecycleStage,
    time: number,
  ): Promise<boolean>;
  /**
   * Sets, or removes when `value` is undefined, a tag of an active experiment: 'missing' when
   * there is no active experiment, 'no-tag' when removing a tag it does not have.
   */
  writeExperimentTag(
    workspace: string,
    experimentId: number,
    key: string,
    value: string | undefined,
    time: number,
  ): Promise<'ok' | 'missing' | 'no-tag'>;
  searchExperiments(page: PageRequest): Promise<ExperimentRecord[]>;

  /** Stores a new run with its tags. */
  insertRun(run: RunRecord, tags: readonly Tag[]): Promise<void>;
  getRun(workspace: string, runId: string): Promise<RunRecord | undefined>;
  /** Params, tags, latest metrics and inputs of each run, one query per child table. */
  loadRunData(runIds: readonly string[]): Promise<Map<string, RunData>>;
  /** Changes status, end time and columns of an active run (name also updates `mlflow.runName`). */
  updateRun(
    workspace: string,
    runId: string,
    changes: { status?: RunStatus; endTime?: number | null; columns?: RunColumnChanges },
  ): Promise<RunWriteOutcome>;
  /** Soft-deletes (deletedTime set) or restores (null) a run; false when missing or already so. */
  setRunLifecycle(
    workspace: string,
    runId: string,
    stage: LifecycleStage,
    deletedTime: number | null,
  ): Promise<boolean>;
  /** Removes a tag from an active run ('no-tag' when it has none), applying `columns` too. */
  deleteRunTag(workspace: string, runId: string, key: string, columns: RunColumnChanges): Promise<RunWriteOutcome>;
  searchRuns(page: PageRequest & { experimentIds: readonly number[] }): Promise<RunRecord[]>;

  /**
   * Writes a validated batch to an active run in one transaction: params (existing ones must hold
   * the same value), tags (upserted, with `columns` mirrored onto the run), metric points, and
   * the latest value of each metric.
   */
  logBatch(workspace: string, runId: string, batch: CheckedBatch, columns: RunColumnChanges): Promise<RunWriteOutcome>;
  /** Links datasets (deduplicated per experiment by name and digest) to an active run. */
  logInputs(workspace: string, runId: string, inputs: readonly DatasetInput[], time: number): Promise<RunWriteOutcome>;
  /** Runs of the workspace that logged an input with this digest, newest first, at most `limit`. */
  runsUsingDigest(workspace: string, digest: string, limit: number): Promise<RunUsingDataset[]>;
  /** Up to `limit` points of one metric in (step, timestamp) order, after `after` when given. */
  metricHistory(runId: string, key: string, limit: number, after?: HistoryCursor): Promise<MetricPoint[]>;
  /**
   * At most `maxPoints` points that keep the first, last, minimum and maximum of each step range,
   * drawn from the points within `range` when given.
   */
  downsampleMetric(runId: string, key: string, maxPoints: number, range?: StepRange): Promise<MetricPoint[]>;
  /**
   * Atomically rewrites one tag of an active run: inside one transaction that holds the run's row
   * (PostgreSQL: `FOR UPDATE`; SQLite: the write lock), `update` gets the current value (undefined
   * when unset) and returns the new one, which is stored. Two concurrent calls therefore never
   * both see the same old value. `update` may throw to abort (the service's error then reaches the
   * caller); mirrored columns are not touched, so it is not for `mlflow.runName` and the like.
   */
  updateRunTag(
    workspace: string,
    runId: string,
    key: string,
    update: (current: string | undefined) => string,
  ): Promise<RunWriteOutcome>;
}
