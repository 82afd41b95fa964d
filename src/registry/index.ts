/**
 * The model registry: registered models, versions, tags, aliases, MLflow's stages, validated
 * version sources and the event log that deployments and webhooks follow.
 *
 * @example
 * await migrate(database, REGISTRY_MIGRATIONS, logger);
 * const registry = new RegistryService(new KyselyRegistryStore(database), { artifactRoot, runs });
 */
export type { RunLookup } from './change.js';
export { MAX_TAGS_PER_CALL } from './change.js';
export {
  REGISTRY_EVENT_TYPES,
  type RegistryChange,
  type RegistryEvent,
  RegistryEventHub,
  type RegistryEventType,
  type RegistryListener,
} from './events.js';
export {
  datasetNodeId,
  type Lineage,
  type LineageEdge,
  type LineageNode,
  LineageService,
  type LineageSources,
} from './lineage.js';
export { type LineageRoutesOptions, lineageRoutes } from './lineage-routes.js';
export { REGISTRY_MIGRATIONS } from './migrations.js';
export {
  MODEL_STAGES,
  MODEL_VERSION_STATUSES,
  type ModelAlias,
  type ModelStage,
  type ModelVersion,
  type ModelVersionStatus,
  type RegisteredModel,
  type RegistryPage,
  type RegistryTag,
} from './model.js';
export {
  type CreateRegisteredModelInput,
  DEFAULT_MODEL_PAGE_SIZE,
  MAX_MODEL_PAGE_SIZE,
  type RegistrySearchInput,
} from './models.js';
export {
  type ModelVersionWire,
  type RegisteredModelWire,
  type RegistryRoutesOptions,
  registryRoutes,
} from './routes.js';
export {
  checkAlias,
  checkModelName,
  MAX_ALIAS_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_MODEL_NAME_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
} from './rules.js';
export { type ListEventsOptions, RegistryService, type RegistryServiceOptions } from './service.js';
export {
  type ColumnSpec,
  checkSignature,
  type ModelSignature,
  SIGNATURE_TYPES,
  type SignatureType,
} from './signature.js';
export {
  type ArtifactRoot,
  type CheckedSource,
  checkSource,
  MAX_SOURCE_LENGTH,
  type ModelSource,
  parseArtifactRoot,
} from './source.js';
export { KyselyRegistryStore } from './store/kysely.js';
export type { RegistryTables } from './store/tables.js';
export type { RegistryReader, RegistryStore, RegistryWriter } from './store.js';
export {
  type CreateModelVersionInput,
  DEFAULT_VERSION_PAGE_SIZE,
  MAX_SOURCE_HOPS,
  MAX_VERSION_PAGE_SIZE,
  MAX_VERSION_RESULTS,
} from './versions.js';
