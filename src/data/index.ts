export {
  formatFromPath,
  type IngestedFile,
  type IngestOptions,
  ingestFile,
  readerSql,
  sha256File,
} from './ingest.js';
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
  type Histogram,
  type LogicalType,
  type NumericColumnProfile,
  type NumericQuantiles,
  type RetypedColumn,
  type SchemaDiff,
  type SourceKind,
} from './model.js';
export { HISTOGRAM_BINS, profileParquet, TOP_K } from './profile.js';
export { type DatasetRoutesOptions, type DatasetWire, datasetRoutes } from './routes.js';
export {
  type CategoricalLimits,
  DEFAULT_CATEGORICAL_LIMITS,
  diffSchemas,
  inferSchema,
  logicalTypeOf,
} from './schema.js';
export {
  type CreateDatasetInput,
  DATASET_NAME_PATTERN,
  type DatasetPage,
  DatasetService,
  DEFAULT_DATASET_PAGE,
  datasetBlobKey,
  type IngestVersionInput,
  MAX_DATASET_PAGE,
} from './service.js';
export { type DataTables, KyselyDatasetStore } from './store/kysely.js';
export type { DatasetStore } from './store.js';
