/**
 * The tracking domain as services hand it out: experiments, runs and their data. Field meanings
 * follow MLflow's REST 2.0 messages (see mlflow.md §1.3–1.4), in camelCase; times are epoch
 * milliseconds, ids are strings (experiment ids are decimal integers, run ids 32 lower-case hex).
 *
 * @example
 * const run: Run = await runs.get(ctx, runId);
 * run.data.metrics.find((m) => m.key === 'loss')?.value;
 */

/** Whether an experiment or run is live or soft-deleted (restorable). */
export type LifecycleStage = 'active' | 'deleted';

/** MLflow's RunStatus names, in enum order (RUNNING = 1 … KILLED = 5). */
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;

/** Where a run is in its life: MLflow's RunStatus. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** MLflow's ViewType names: which lifecycle stages a search returns. */
export const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;

/** Which lifecycle stages a search returns; `ACTIVE_ONLY` unless the caller asks otherwise. */
export type ViewType = (typeof VIEW_TYPES)[number];

/** A key/value string pair: experiment tags, run tags, params and dataset-input tags. */
export interface Tag {
  key: string;
  value: string;
}

/** A run parameter: written once, then immutable. */
export type Param = Tag;

/**
 * One metric point. `value` may be NaN or ±Infinity, as in MLflow. `timestamp` is epoch ms and
 * `step` an integer (0 when the caller gives none).
 */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A point of one metric's history: a {@link Metric} without its key. */
export interface MetricPoint {
  value: number;
  timestamp: number;
  step: number;
}

/** An experiment: MLflow's Experiment message; `artifactLocation` is always resolved. */
export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Tag[];
}

/** A run's metadata: MLflow's RunInfo plus when it was deleted and its parent. */
export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  /** Null while the run has not ended. */
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  /** When the run was soft-deleted; null while active. */
  deletedTime: number | null;
  /** The parent of a nested run (tag `mlflow.parentRunId`), or null. */
  parentRunId: string | null;
}

/** A dataset as logged with a run input; deduplicated per experiment by (name, digest). */
export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

/** A dataset used by a run, with the input's tags (e.g. `mlflow.data.context` = `training`). */
export interface DatasetInput {
  dataset: Dataset;
  tags: Tag[];
}

/** A run with its params, tags, latest metric values and dataset inputs. */
export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: Param[]; tags: Tag[] };
  inputs: { datasetInputs: DatasetInput[] };
}

/** The tag mirroring a run's name; setting it renames the run, renaming the run sets it. */
export const RUN_NAME_TAG = 'mlflow.runName';
/** The tag mirroring a run's user (MLflow deprecated the `user_id` field in its favour). */
export const USER_TAG = 'mlflow.user';
/** The tag that nests a run under its parent; mirrored onto the run's `parentRunId`. */
export const PARENT_RUN_TAG = 'mlflow.parentRunId';
/** The tag naming the program that started a run (e.g. `train.py`); copied onto the run at creation. */
export const SOURCE_NAME_TAG = 'mlflow.source.name';
/** The tag naming the kind of source (LOCAL, NOTEBOOK, JOB, PROJECT); copied onto the run at creation. */
export const SOURCE_TYPE_TAG = 'mlflow.source.type';
/** The dataset-input tag whose value `datasets.context` filters compare. */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';
