import type { SuiteDefinition, ValidationReport } from './validation/index.js';

/**
 * The data context's vocabulary: datasets, their immutable content-addressed versions, and the
 * inferred schema each version carries.
 */

/** File formats ingest reads. */
export type DataFormat = 'csv' | 'parquet' | 'json' | 'ndjson' | 'arrow';

/** Every {@link DataFormat}, for validation at the boundary. */
export const DATA_FORMATS: readonly DataFormat[] = ['csv', 'parquet', 'json', 'ndjson', 'arrow'];

/** Explicit CSV overrides; anything left out is auto-detected by DuckDB. */
export interface CsvOptions {
  /** One character (or `\t`). */
  delimiter?: string;
  /** Whether the first line names the columns. */
  header?: boolean;
  /** One character used for quoting. */
  quote?: string;
}

/** A logical type: what a learner or validator needs to know, independent of the storage type. */
export type LogicalType = 'integer' | 'float' | 'boolean' | 'string' | 'categorical' | 'datetime';

/** One column of an inferred schema. */
export interface ColumnSchema {
  name: string;
  logicalType: LogicalType;
  /** DuckDB's own type name, e.g. `BIGINT`, `DECIMAL(9,2)`, kept so nothing is lost. */
  physicalType: string;
  /** True when at least one value is null. */
  nullable: boolean;
  /** For categorical columns only: the distinct non-null values, sorted. */
  domain?: string[];
}

/** The schema of one version: columns in file order. */
export interface DatasetSchema {
  columns: ColumnSchema[];
}

/** A named, described collection of versions in one workspace. */
export interface Dataset {
  id: string;
  workspace: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  /** The validation suite every new version must pass, if one is attached. */
  suite?: SuiteAttachment;
  createdAt: string;
  updatedAt: string;
}

/** A suite attached to a dataset: a pinned version, or the latest one at each ingest when `version` is absent. */
export interface SuiteAttachment {
  name: string;
  version?: number;
}

/**
 * Where a version's bytes came from: a file on the server (`path`), an upload, an SQL query over
 * earlier versions, a split of one, or a pipeline step.
 */
export type SourceKind = 'path' | 'upload' | 'sql' | 'split' | 'step';

/** One edge of lineage: the version this one was derived from, and how. */
export interface VersionInput {
  dataset: string;
  version: number;
  /** How the input was used: `sql`, `split:train`, `split:validation`, `split:test`, … */
  role: string;
}

/** A version derived from this one (the reverse of {@link VersionInput}). */
export interface DerivedVersion {
  dataset: string;
  version: number;
  role: string;
}

/** One saved version of a validation suite; suites are immutable once saved, like dataset versions. */
export interface SuiteVersion {
  workspace: string;
  name: string;
  version: number;
  description: string;
  /** The suite document exactly as validated: `{ name, description?, expectations: [...] }`. */
  definition: SuiteDefinition;
  createdAt: string;
  createdBy: string;
}

/**
 * One immutable version. `digest` is the SHA-256 of the full source bytes as ingested, so identical
 * content always yields the same digest; `blobKey` names the typed Parquet copy in the blob store.
 */
export interface DatasetVersion {
  datasetId: string;
  datasetName: string;
  version: number;
  digest: string;
  blobKey: string;
  sourceKind: SourceKind;
  source: string;
  format: DataFormat;
  rowCount: number;
  columnCount: number;
  schema: DatasetSchema;
  /** The versions this one was derived from; empty for ingested files. */
  inputs: VersionInput[];
  /** The attached suite's report at ingest, if a suite was attached (a passing or warn-only report). */
  validation?: ValidationReport;
  createdAt: string;
  createdBy: string;
}

/** A column whose logical type (or categorical domain) differs between two versions. */
export interface RetypedColumn {
  name: string;
  from: LogicalType;
  to: LogicalType;
}

/** What changed between two schemas, by column name. */
export interface SchemaDiff {
  added: ColumnSchema[];
  removed: ColumnSchema[];
  retyped: RetypedColumn[];
  /** Columns that became nullable or stopped being nullable. */
  nullabilityChanged: string[];
}

/** Quantiles of a numeric column's non-null values (DuckDB `quantile_cont`, linear interpolation). */
export interface NumericQuantiles {
  p01: number | null;
  p05: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  p99: number | null;
}

/** Equal-width bins between the finite min and max; a constant column has one bin of width 0. */
export interface Histogram {
  min: number;
  max: number;
  width: number;
  counts: number[];
}

/** What every column profile has. `count` is non-null values; `distinct` is an HLL estimate. */
interface ColumnProfileBase {
  logicalType: LogicalType;
  count: number;
  nulls: number;
  distinct: number;
}

/**
 * Integer and float columns. Integer min / max are numbers, or decimal strings past 2^53 so they
 * stay exact; statistics of an all-null column are null and its histogram is null.
 */
export interface NumericColumnProfile extends ColumnProfileBase {
  kind: 'numeric';
  min: number | string | null;
  max: number | string | null;
  mean: number | null;
  /** Sample standard deviation; null with fewer than two values. */
  std: number | null;
  quantiles: NumericQuantiles | null;
  histogram: Histogram | null;
}

/** Categorical, string and boolean columns: the most frequent values and how many rows the rest hold. */
export interface CategoricalColumnProfile extends ColumnProfileBase {
  kind: 'categorical';
  top: { value: string; count: number }[];
  /** Non-null values outside `top`. */
  other: number;
}

/** Date, time and timestamp columns: extremes as ISO 8601 strings. */
export interface DatetimeColumnProfile extends ColumnProfileBase {
  kind: 'datetime';
  min: string | null;
  max: string | null;
}

export type ColumnProfile = NumericColumnProfile | CategoricalColumnProfile | DatetimeColumnProfile;

/** A version's profile: stored with it, and the reference monitoring compares live data with. */
export interface DatasetProfile {
  rowCount: number;
  columns: Record<string, ColumnProfile>;
}
