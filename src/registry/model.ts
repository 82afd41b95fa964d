import type { ModelSignature } from './signature.js';

/**
 * MLflow's deployment stages. Stages are deprecated upstream in favour of aliases, and Kiln keeps
 * them only so that MLflow clients calling `transition-stage` and `get-latest-versions` still work.
 *
 * @example
 * const stage: ModelStage = 'Production';
 */
export type ModelStage = 'None' | 'Staging' | 'Production' | 'Archived';

/** Every stage, in the order MLflow lists them (and `getLatestVersions` answers them). */
export const MODEL_STAGES: readonly ModelStage[] = ['None', 'Staging', 'Production', 'Archived'];

/**
 * Where a version is in its registration. Kiln validates a version while creating it, so new
 * versions are READY at once and MLflow clients never poll; the other two exist for wire
 * compatibility and for registrations that finish asynchronously later.
 */
export type ModelVersionStatus = 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';

/** Every version status. */
export const MODEL_VERSION_STATUSES: readonly ModelVersionStatus[] = [
  'READY',
  'PENDING_REGISTRATION',
  'FAILED_REGISTRATION',
];

/** One tag on a registered model or a version; lists of tags are sorted by key. */
export interface RegistryTag {
  readonly key: string;
  readonly value: string;
}

/** A named pointer (`champion`, `challenger`) at exactly one version of a model. */
export interface ModelAlias {
  readonly alias: string;
  readonly version: number;
}

/**
 * One registered version of a model. `version` counts from 1 per model and is never reused, not
 * even after a delete. Timestamps are epoch milliseconds, as on the MLflow wire.
 *
 * @example
 * const v = await registry.createModelVersion(ctx, { name: 'churn', source: 'runs:/<run>/model', runId: '<run>' });
 * v.version; // 1
 */
export interface ModelVersion {
  readonly name: string;
  readonly version: number;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  /** The actor who registered it. */
  readonly userId: string;
  readonly currentStage: ModelStage;
  readonly description: string;
  /** The validated artifact URI the model files live at. */
  readonly source: string;
  /** The run that produced it, when known. */
  readonly runId?: string;
  readonly runLink: string;
  readonly status: ModelVersionStatus;
  readonly statusMessage: string;
  readonly tags: readonly RegistryTag[];
  /** Names of the aliases that point at this version, sorted. */
  readonly aliases: readonly string[];
  /** Input and output columns, when the caller or the model file gave them. */
  readonly signature?: ModelSignature;
}

/**
 * A registered model: a name in a workspace under which versions are registered.
 *
 * @example
 * const model = await registry.getRegisteredModel(ctx, 'churn');
 * model.aliases; // [{ alias: 'champion', version: 3 }]
 */
export interface RegisteredModel {
  readonly name: string;
  readonly description: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly tags: readonly RegistryTag[];
  /** Every alias of the model, sorted by alias. */
  readonly aliases: readonly ModelAlias[];
  /** The newest READY version in each stage, in {@link MODEL_STAGES} order (MLflow's `latest_versions`). */
  readonly latestVersions: readonly ModelVersion[];
}

/** A page of search results; `nextPageToken` is present when more follow. */
export interface RegistryPage<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string;
}
