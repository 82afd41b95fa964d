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
  inputs: { dataset_inputs: DatasetInput[] };
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

/** A dataset logged as a run input (MLflow's `log-inputs`): what it is and where it came from. */
export interface DatasetInput {
  dataset: {
    name: string;
    digest: string;
    /** e.g. `kiln`, `local`, `s3`. */
    source_type: string;
    /** JSON, e.g. `{"uri":"kiln://datasets/penguins/versions/3"}`. */
    source: string;
    /** JSON, e.g. `{"mlflow_colspec":[{"type":"double","name":"bill_length_mm","required":false}]}`. */
    schema?: string | null;
    /** JSON, e.g. `{"num_rows":344,"num_elements":2408}`. */
    profile?: string | null;
  };
  /** `mlflow.data.context` says what the run used it for: `training`, `validation`, `test`. */
  tags?: Tag[];
}

/** A file format the data API reads. */
export type DataFormat = 'csv' | 'parquet' | 'json' | 'ndjson' | 'arrow';

/** A column's logical type: what a learner or validator needs to know, whatever the storage type. */
export type LogicalType = 'integer' | 'float' | 'boolean' | 'string' | 'categorical' | 'datetime';

/** CSV reading overrides; anything left out is detected by the server. */
export interface CsvOptions {
  /** One character, or `\t`. */
  delimiter?: string;
  /** Whether the first line names the columns. */
  header?: boolean;
  /** One quote character. */
  quote?: string;
}

/** A dataset as the REST API returns it; `suite` is the validation suite every new version must pass. */
export interface Dataset {
  name: string;
  description: string;
  tags: Record<string, string>;
  /** Without `version`, the suite's latest version at each ingest. */
  suite?: { name: string; version?: number };
  /** ISO-8601 UTC. */
  created_at: string;
  /** ISO-8601 UTC. */
  updated_at: string;
}

/** One page of datasets in name order; pass `next_page_token` back as `pageToken` for the next. */
export interface DatasetList {
  datasets: Dataset[];
  next_page_token?: string;
}

/** One column of a version's inferred schema. */
export interface DataColumn {
  name: string;
  logical_type: LogicalType;
  /** DuckDB's own type name, e.g. `BIGINT`, `DECIMAL(9,2)`. */
  physical_type: string;
  /** True when at least one value is null. */
  nullable: boolean;
  /** Categorical columns only: the distinct values, sorted. */
  domain?: string[];
}

/** A version's schema: columns in file order. */
export interface DataSchema {
  columns: DataColumn[];
}

/** A dataset version without its schema, as version listings return it. */
export interface DatasetVersionSummary {
  dataset_name: string;
  version: number;
  /** SHA-256 of the full content, hex: identical content, identical digest. */
  digest: string;
  /** `path`, `upload`, `sql`, `split` or `step`. */
  source_kind: string;
  /** The file name or path, the SQL, or the split spec it came from. */
  source: string;
  format: DataFormat;
  row_count: number;
  column_count: number;
  /** The versions this one was derived from, and how (`sql`, `split:train`, …): its lineage. */
  inputs: { dataset: string; version: number; role: string }[];
  /** ISO-8601 UTC. */
  created_at: string;
  created_by: string;
}

/** An immutable dataset version with its schema and, when a suite was attached, its validation report. */
export interface DatasetVersion extends DatasetVersionSummary {
  schema: DataSchema;
  validation?: ValidationReport;
}

/** The outcome of one expectation of a suite; row expectations also count and show unexpected values. */
export interface ExpectationResult {
  /** Position in the suite's `expectations`. */
  index: number;
  type: string;
  column?: string;
  columns?: string[];
  level: 'error' | 'warn';
  success: boolean;
  /** The aggregate the verdict rests on; its shape depends on the type. */
  observed: unknown;
  element_count?: number;
  unexpected_count?: number;
  unexpected_percent?: number;
  /** Up to 5 distinct unexpected values, failures only. */
  unexpected_examples?: unknown[];
  /** Why the expectation could not be evaluated, e.g. a missing column. */
  error?: string;
}

/** What running a suite found; `success` is false iff an `error`-level expectation failed. */
export interface ValidationReport {
  suite: string;
  /** The saved suite version that ran, when it was a saved suite. */
  suite_version?: number;
  success: boolean;
  /** Failed error-level expectations. */
  errors: number;
  /** Failed warn-level expectations. */
  warnings: number;
  row_count: number;
  results: ExpectationResult[];
}

/** A validation suite document: a name and a list of expectations (`{ type: 'not_null', column: 'id' }`, …). */
export interface SuiteDefinition {
  name: string;
  description?: string;
  expectations: ({ type: string } & Record<string, unknown>)[];
}

/** One saved, immutable version of a validation suite. */
export interface Suite {
  name: string;
  version: number;
  description: string;
  definition: SuiteDefinition;
  /** ISO-8601 UTC. */
  created_at: string;
  created_by: string;
}

/** What every column profile has; `distinct` is an estimate. */
interface ColumnProfileBase {
  logical_type: LogicalType;
  /** Non-null values. */
  count: number;
  nulls: number;
  distinct: number;
}

/** A column's profile: numbers get statistics and a histogram, text its top values, times their range. */
export type ColumnProfile =
  | (ColumnProfileBase & {
      kind: 'numeric';
      /** A decimal string past 2^53. */
      min: number | string | null;
      max: number | string | null;
      mean: number | null;
      std: number | null;
      quantiles: Record<'p01' | 'p05' | 'p25' | 'p50' | 'p75' | 'p95' | 'p99', number | null> | null;
      histogram: { min: number; max: number; width: number; counts: number[] } | null;
    })
  | (ColumnProfileBase & { kind: 'categorical'; top: { value: string; count: number }[]; other: number })
  | (ColumnProfileBase & { kind: 'datetime'; min: string | null; max: string | null });

/** A version's profile, computed at ingest: per-column statistics keyed by column name. */
export interface DatasetProfile {
  row_count: number;
  columns: Record<string, ColumnProfile>;
}

/** The schema change from one version to another, by column name. */
export interface SchemaDiff {
  added: DataColumn[];
  removed: DataColumn[];
  retyped: { name: string; from: LogicalType; to: LogicalType }[];
  nullability_changed: string[];
}

/** One page of a version's rows in file order; `next_offset` is present when more follow. */
export interface RowsPage {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  offset: number;
  total: number;
  next_offset?: number;
}

/** How many values of one column look like one kind of personal data; never the values. */
export interface PiiFinding {
  column: string;
  kind: 'email' | 'phone' | 'credit_card' | 'iban' | 'ip_address' | 'national_id';
  matches: number;
  non_null: number;
  /** `matches / non_null`. */
  share: number;
  /** `share >= threshold`: mask, hash or drop the column before sharing. */
  flagged: boolean;
}

/** What a PII scan of a version found. */
export interface PiiReport {
  rows_scanned: number;
  threshold: number;
  columns: PiiFinding[];
}

/** The parts a split produced, each the next version of `<name>.train`, `<name>.validation`, `<name>.test`. */
export interface SplitResult {
  train?: DatasetVersion;
  validation?: DatasetVersion;
  test?: DatasetVersion;
}

/** A node of a lineage graph: a dataset version, a run that read one, or a model version a run produced. */
export type LineageNode =
  | {
      /** `dataset:<name>@<version>`. */
      id: string;
      type: 'dataset_version';
      dataset: string;
      version: number;
      digest: string;
      source_kind: string;
      row_count: number;
    }
  | { id: string; type: 'run'; run_id: string; experiment_id: string; run_name: string; status: string }
  | {
      id: string;
      type: 'model_version';
      name: string;
      version: number;
      run_id: string;
      stage: string;
      aliases: string[];
    };

/** Where a dataset version came from and what was made from it; `role` says how (`sql`, `split:train`, `input:training`, `produced`). */
export interface Lineage {
  /** The node asked about. */
  root: string;
  nodes: LineageNode[];
  edges: { from: string; to: string; role: string }[];
  /** True when a limit cut the graph short. */
  truncated: boolean;
}
