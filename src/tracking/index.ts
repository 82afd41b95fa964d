/**
 * The tracking context: experiments, runs, params, metrics, tags and dataset inputs, their store
 * on SQLite or PostgreSQL, and the MLflow search language they are queried with.
 *
 * @example
 * await migrate(database, TRACKING_MIGRATIONS, logger);
 * const tracking = createTrackingServices(database, { artifactRoot: 'mlflow-artifacts:/' });
 * const run = await tracking.runs.create(ctx, { experimentId: '0' });
 */
export { ArtifactRoot, PROXY_SCHEME } from './artifact-location.js';
export {
  ARTIFACT_SCAN_BUDGET,
  type ArtifactDownload,
  type ArtifactFile,
  type ArtifactListing,
  type ArtifactRange,
  ArtifactService,
  type ArtifactServiceOptions,
  type ArtifactUpload,
  MAX_ARTIFACT_PAGE,
} from './artifacts.js';
export {
  type CreateExperimentInput,
  type ExperimentPage,
  ExperimentService,
  type SearchExperimentsInput,
  type TrackingServiceOptions,
} from './experiments-service.js';
export { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, TRACKING_MIGRATIONS } from './migrations.js';
export {
  DATASET_CONTEXT_TAG,
  type Dataset,
  type DatasetInput,
  type Experiment,
  type LifecycleStage,
  type Metric,
  type MetricPoint,
  PARENT_RUN_TAG,
  type Param,
  RUN_NAME_TAG,
  RUN_STATUSES,
  type Run,
  type RunInfo,
  type RunStatus,
  SOURCE_NAME_TAG,
  SOURCE_TYPE_TAG,
  type Tag,
  USER_TAG,
  VIEW_TYPES,
  type ViewType,
} from './model.js';
export { DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS } from './paging.js';
export {
  acceptRawBodies,
  closeOnFailure,
  contentDisposition,
  contentTypeFor,
  DEFAULT_MAX_ARTIFACT_BYTES,
  openForReply,
  parseRange,
  sendArtifact,
  uploadBody,
} from './routes/artifact-http.js';
export {
  ArtifactFileSchema,
  type ArtifactRoutesOptions,
  artifactFileToWire,
  artifactRoutes,
  wildcard,
} from './routes/artifacts.js';
export { type TrackingRoutesOptions, trackingRoutes } from './routes.js';
export {
  HISTORY_PAGE_SIZE,
  MAX_DOWNSAMPLED_POINTS,
  type MetricHistoryPage,
  RunDataService,
} from './run-data-service.js';
export {
  type CreateRunInput,
  type RunPage,
  RunService,
  type SearchRunsInput,
  type UpdateRunInput,
} from './runs-service.js';
export * from './search/index.js';
export { type CreateTrackingServicesOptions, createTrackingServices, type TrackingServices } from './service.js';
export { KyselyTrackingStore } from './store/kysely.js';
export type { TrackingTables } from './store/tables.js';
export type {
  ExperimentRecord,
  HistoryCursor,
  PageRequest,
  RunColumnChanges,
  RunData,
  RunRecord,
  RunUsingDataset,
  RunWriteOutcome,
  TrackingStore,
} from './store.js';
export { checkKey, LIMITS, type LogBatchInput, type MetricInput } from './validation.js';
