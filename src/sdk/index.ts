export { ArtifactsApi, type ListArtifactsParams } from './artifacts.js';
export { KilnClient, type KilnClientOptions, type QueryParams, type RawBody, type RequestOptions } from './client.js';
export { BATCH_LIMITS, type LogBatch, type MetricPoint } from './log-queue.js';
export { type RegisterModelOptions, RegistryApi, type SearchModelsParams } from './registry.js';
export { type LoggableValue, type MetricOptions, metricValueToWire, RunHandle } from './run-handle.js';
export {
  type MetricHistory,
  metricFromWire,
  type SearchExperimentsParams,
  type SearchRunsParams,
  type StartRunOptions,
  TrackingApi,
} from './tracking.js';
export type {
  ArtifactFile,
  ArtifactList,
  Experiment,
  ExperimentList,
  LiveStatus,
  Metric,
  ModelVersion,
  ReadyStatus,
  RegisteredModel,
  Run,
  RunInfo,
  RunList,
  RunStatus,
  StoredArtifact,
  Tag,
  VersionInfo,
  Workspace,
  WorkspaceList,
} from './types.js';
export { type ListWorkspacesParams, WorkspacesApi } from './workspaces.js';
