export {
  type AppendColumnsInput,
  type AppendedColumn,
  type AppendedValues,
  type AppendProgress,
  type ChunkColumn,
  type ChunkColumnKind,
  checkReadable,
  MAX_CHUNK_ROWS,
} from './append-columns.js';
export { DATASET_NAME_PATTERN } from './checks.js';
export { type ColumnarTable, readColumns } from './columns.js';
export { type DatasetReference, parseDeriveQuery, rewriteReferences } from './derive.js';
export { describeParquet, type ParquetDescription } from './describe.js';
export { DEFAULT_DUCK_LIMITS, type DuckLimits, DuckSession, withDuckSession } from './duck.js';
export { VersionFiles } from './files.js';
export {
  formatFromPath,
  type IngestedFile,
  type IngestOptions,
  ingestFile,
  readerSql,
  sha256File,
} from './ingest.js';
export {
  type DataLineage,
  type LineageLookups,
  type LineageVersion,
  MAX_LINEAGE_NODES,
  walkLineage,
} from './lineage.js';
export { DATA_MIGRATIONS } from './migrations.js';
export {
  type CategoricalColumnProfile,
  type ColumnProfile,
  type ColumnSchema,
  type CsvOptions,
  DATA_FORMATS,
  type DataFormat,
  type Dataset,
  type DatasetProfile,
  type DatasetSchema,
  type DatasetVersion,
  type DatetimeColumnProfile,
  type DerivedVersion,
  type Histogram,
  type LogicalType,
  type NumericColumnProfile,
  type NumericQuantiles,
  type RetypedColumn,
  type SchemaDiff,
  type SourceKind,
  type SuiteAttachment,
  type SuiteVersion,
  type VersionInput,
} from './model.js';
export {
  type CreateDatasetInput,
  type DatasetPage,
  type DatasetServiceOptions,
  type DeriveVersionInput,
  datasetBlobKey,
  type IngestVersionInput,
  type PiiPolicy,
  type ReadOptions,
  type UploadVersionInput,
} from './operations.js';
export { type PiiAction, type PiiKind, type PiiReport, piiProjection, scanPii } from './pii.js';
export { HISTOGRAM_BINS, profileParquet, TOP_K } from './profile.js';
export { type StepProvenance, stepProvenance, stepSource } from './provenance.js';
export {
  convertParquet,
  type DownloadFormat,
  MAX_PREVIEW_ROWS,
  type RowsPage,
  readRows,
  type VersionDownload,
} from './reads.js';
export { type DatasetRoutesOptions, datasetRoutes } from './routes.js';
export {
  type CategoricalLimits,
  DEFAULT_CATEGORICAL_LIMITS,
  diffSchemas,
  inferSchema,
  logicalTypeOf,
} from './schema.js';
export { DatasetService, DEFAULT_DATASET_PAGE, MAX_DATASET_PAGE } from './service.js';
export { checkSplitSpec, type SplitMethod, type SplitPart, type SplitSpec, splitQueries } from './split.js';
export { type DataTables, KyselyDatasetStore } from './store/kysely.js';
export type { DatasetStore, NewVersion } from './store.js';
export { type SuiteRoutesOptions, suiteRoutes } from './suite-routes.js';
export { type SaveSuiteInput, SuiteService } from './suites.js';
export * from './validation/index.js';
export type { DatasetWire } from './wire.js';
