/** Answer of `GET /health/live`. */
export interface LiveStatus {
  status: 'ok';
}

/** Answer of `GET /health/ready` when every dependency answered: each check is `'ok'`. */
export interface ReadyStatus {
  status: 'ready';
  checks: Record<string, string>;
}

/** Answer of `GET /api/v1/version`. */
export interface VersionInfo {
  version: string;
}

/** A workspace as the REST API returns it. */
export interface Workspace {
  name: string;
  description: string;
  /** ISO-8601 UTC. */
  created_at: string;
  /** ISO-8601 UTC. */
  updated_at: string;
}

/** One page of workspaces; pass `next_page_token` back as `pageToken` for the next. */
export interface WorkspaceList {
  workspaces: Workspace[];
  next_page_token?: string;
}

/** A key and a value: params and tags of runs, experiments, models and versions. */
export interface Tag {
  key: string;
  value: string;
}

/** An experiment as the REST API returns it; times are epoch milliseconds. */
export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
  tags: Tag[];
}

/** One page of experiments; pass `next_page_token` back as `pageToken` for the next. */
export interface ExperimentList {
  experiments: Experiment[];
  next_page_token?: string;
}

/** A run's lifecycle state. */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** A run's metadata; `end_time`, `deleted_time` and `parent_run_id` are null when unset. */
export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
  deleted_time: number | null;
  parent_run_id: string | null;
}

/**
 * A metric point. The wire carries NaN and ±Infinity as the strings `"NaN"`, `"Infinity"` and
 * `"-Infinity"`; the SDK turns them back into numbers, so `value` is always a number here.
 */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A run with its params, tags and latest value of each metric. */
export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: Tag[]; tags: Tag[] };
  inputs: { dataset_inputs: unknown[] };
}

/** One page of runs. */
export interface RunList {
  runs: Run[];
  next_page_token?: string;
}

/** One entry of an artifact listing; `file_size` is absent for directories. */
export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** One page of one directory level of a run's artifacts. */
export interface ArtifactList {
  root_uri: string;
  files: ArtifactFile[];
  next_page_token?: string;
}

/** What the server stored for one uploaded artifact. */
export interface StoredArtifact {
  path: string;
  file_size: number;
  sha256: string;
}

/** A model version as the REST API returns it. */
export interface ModelVersion {
  name: string;
  version: number;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id: string;
  current_stage: string;
  description: string;
  source: string;
  run_id?: string;
  run_link: string;
  status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  status_message: string;
  tags: Tag[];
  aliases: string[];
}

/** A registered model as the REST API returns it. */
export interface RegisteredModel {
  name: string;
  description: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  tags: Tag[];
  aliases: { alias: string; version: number }[];
  latest_versions: ModelVersion[];
}
