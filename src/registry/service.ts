import { KilnError, type Logger, type RequestContext } from '../core/index.js';
import { deleteAlias, getModelVersionByAlias, setAlias } from './aliases.js';
import type { RegistryDeps, RunLookup } from './change.js';
import { type RegistryEvent, RegistryEventHub, type RegistryListener } from './events.js';
import type { ModelVersion, RegisteredModel, RegistryPage } from './model.js';
import * as models from './models.js';
import { checkMaxResults, checkModelName } from './rules.js';
import { parseArtifactRoot } from './source.js';
import { transitionModelVersionStage } from './stages.js';
import type { RegistryStore } from './store.js';
import * as versions from './versions.js';

/** How a {@link RegistryService} is set up. */
export interface RegistryServiceOptions {
  /** The artifact root URL (`KILN_ARTIFACTS_URL`): `file:///…` or `s3://bucket/prefix`. */
  readonly artifactRoot: string;
  /** Finds runs for `run_id` links and `runs:/` sources. */
  readonly runs: RunLookup;
  /** Where failing event listeners are reported. */
  readonly logger?: Logger;
  /** Epoch milliseconds; defaults to `Date.now`. */
  readonly clock?: () => number;
}

/** Which events {@link RegistryService.listEvents} returns. */
export interface ListEventsOptions {
  /** Only events with a larger id; 0 (the default) starts at the beginning. */
  readonly afterId?: number;
  /** 1 to 1000; default 100. */
  readonly limit?: number;
  /** Only events about this model (recorded under this name, or about the model that has it now). */
  readonly model?: string;
}

/**
 * The model registry's use cases: registered models, versions, tags, aliases, MLflow's stages and
 * the event log. Every method takes the caller's context first and works only inside its
 * workspace. Names arrive unchecked (from HTTP or the MLflow adapter) and are validated here; bad
 * input is INVALID_PARAMETER_VALUE naming the field, a missing model, version, alias or tag is
 * RESOURCE_DOES_NOT_EXIST, and a taken model name is RESOURCE_ALREADY_EXISTS (the MLflow client
 * then registers a new version). Versions may be given as numbers or decimal strings.
 *
 * @example
 * const registry = new RegistryService(new KyselyRegistryStore(database), { artifactRoot, runs });
 * await registry.createRegisteredModel(ctx, { name: 'churn' });
 * const v = await registry.createModelVersion(ctx, { name: 'churn', source: `runs:/${runId}/model`, runId });
 * await registry.setAlias(ctx, 'churn', 'champion', v.version);
 * (await registry.getModelVersionByAlias(ctx, 'churn', 'champion')).version; // v.version
 */
export class RegistryService {
  private readonly deps: RegistryDeps;

  constructor(store: RegistryStore, options: RegistryServiceOptions) {
    this.deps = {
      store,
      root: parseArtifactRoot(options.artifactRoot),
      runs: options.runs,
      hub: new RegistryEventHub(options.logger),
      clock: options.clock ?? Date.now,
    };
  }

  /** Registers a model name with optional description and tags. */
  createRegisteredModel(ctx: RequestContext, input: models.CreateRegisteredModelInput): Promise<RegisteredModel> {
    return models.createRegisteredModel(this.deps, ctx, input);
  }

  /**
   * The registered model `name`, created when missing (a concurrent creation is tolerated): what
   * jobs that register their result under a user-chosen name need.
   *
   * @example
   * await registry.getOrCreateRegisteredModel(ctx, 'churn');
   */
  async getOrCreateRegisteredModel(ctx: RequestContext, name: string): Promise<RegisteredModel> {
    try {
      return await this.createRegisteredModel(ctx, { name });
    } catch (err) {
      if (err instanceof KilnError && err.code === 'RESOURCE_ALREADY_EXISTS') return this.getRegisteredModel(ctx, name);
      throw err;
    }
  }

  getRegisteredModel(ctx: RequestContext, name: string): Promise<RegisteredModel> {
    return models.getRegisteredModel(this.deps, ctx, name);
  }

  /** Renames a model; its versions, tags and aliases follow. */
  renameRegisteredModel(ctx: RequestContext, name: string, newName: string): Promise<RegisteredModel> {
    return models.renameRegisteredModel(this.deps, ctx, name, newName);
  }

  updateRegisteredModel(ctx: RequestContext, name: string, changes: { description: string }): Promise<RegisteredModel> {
    return models.updateRegisteredModel(this.deps, ctx, name, changes);
  }

  /** Deletes a model with all its versions, tags and aliases. */
  deleteRegisteredModel(ctx: RequestContext, name: string): Promise<void> {
    return models.deleteRegisteredModel(this.deps, ctx, name);
  }

  setRegisteredModelTag(ctx: RequestContext, name: string, key: string, value: string): Promise<void> {
    return models.setRegisteredModelTag(this.deps, ctx, name, key, value);
  }

  deleteRegisteredModelTag(ctx: RequestContext, name: string, key: string): Promise<void> {
    return models.deleteRegisteredModelTag(this.deps, ctx, name, key);
  }

  /** MLflow's registered-model search: `name` and `tags.<key>` filters; page size 100 by default, 1000 at most. */
  searchRegisteredModels(
    ctx: RequestContext,
    input: models.RegistrySearchInput = {},
  ): Promise<RegistryPage<RegisteredModel>> {
    return models.searchRegisteredModels(this.deps, ctx, input);
  }

  /** The newest version per stage (all stages when `stages` is empty), MLflow's deprecated call. */
  getLatestVersions(ctx: RequestContext, name: string, stages?: readonly string[]): Promise<ModelVersion[]> {
    return models.getLatestVersions(this.deps, ctx, name, stages);
  }

  /** Registers a new version; `source` must pass the allow-list and `runId` must name a run. */
  createModelVersion(ctx: RequestContext, input: versions.CreateModelVersionInput): Promise<ModelVersion> {
    return versions.createModelVersion(this.deps, ctx, input);
  }

  getModelVersion(ctx: RequestContext, name: string, version: number | string): Promise<ModelVersion> {
    return versions.getModelVersion(this.deps, ctx, name, version);
  }

  updateModelVersion(
    ctx: RequestContext,
    name: string,
    version: number | string,
    changes: { description: string },
  ): Promise<ModelVersion> {
    return versions.updateModelVersion(this.deps, ctx, name, version, changes);
  }

  /** Deletes a version and the aliases at it; its number is never handed out again. */
  deleteModelVersion(ctx: RequestContext, name: string, version: number | string): Promise<void> {
    return versions.deleteModelVersion(this.deps, ctx, name, version);
  }

  setModelVersionTag(ctx: RequestContext, name: string, version: number | string, key: string, value: string) {
    return versions.setModelVersionTag(this.deps, ctx, name, version, key, value);
  }

  deleteModelVersionTag(ctx: RequestContext, name: string, version: number | string, key: string): Promise<void> {
    return versions.deleteModelVersionTag(this.deps, ctx, name, version, key);
  }

  /**
   * MLflow's model-version search: `name`, `version_number`, `run_id` (also IN), `source_path`,
   * `tags.<key>`. Up to 10,000 per page; larger `max_results` (to 200,000) continue by token.
   */
  searchModelVersions(
    ctx: RequestContext,
    input: models.RegistrySearchInput = {},
  ): Promise<RegistryPage<ModelVersion>> {
    return versions.searchModelVersions(this.deps, ctx, input);
  }

  /** Moves a version between MLflow's stages, optionally archiving the others in the target stage. */
  transitionModelVersionStage(
    ctx: RequestContext,
    name: string,
    version: number | string,
    stage: string,
    options: { archiveExistingVersions?: boolean } = {},
  ): Promise<ModelVersion> {
    return transitionModelVersionStage(this.deps, ctx, name, version, stage, options);
  }

  /** Where the version's files can be fetched, with `runs:/` and `models:/` sources resolved. */
  getModelVersionDownloadUri(ctx: RequestContext, name: string, version: number | string): Promise<string> {
    return versions.getModelVersionDownloadUri(this.deps, ctx, name, version);
  }

  /** Creates or atomically moves an alias (`champion`) to a version. */
  setAlias(ctx: RequestContext, name: string, alias: string, version: number | string): Promise<void> {
    return setAlias(this.deps, ctx, name, alias, version);
  }

  deleteAlias(ctx: RequestContext, name: string, alias: string): Promise<void> {
    return deleteAlias(this.deps, ctx, name, alias);
  }

  getModelVersionByAlias(ctx: RequestContext, name: string, alias: string): Promise<ModelVersion> {
    return getModelVersionByAlias(this.deps, ctx, name, alias);
  }

  /**
   * Subscribes to changes this process commits, in every workspace; returns the unsubscribe
   * function. For a gap-free feed (and changes made by other processes), poll
   * {@link RegistryService.listEvents}.
   */
  onEvent(listener: RegistryListener): () => void {
    return this.deps.hub.subscribe(listener);
  }

  /** The workspace's events after `afterId`, oldest first, for consumers that poll. */
  async listEvents(ctx: RequestContext, options: ListEventsOptions = {}): Promise<RegistryEvent[]> {
    const afterId = options.afterId ?? 0;
    if (!Number.isSafeInteger(afterId) || afterId < 0) {
      throw new KilnError('INVALID_PARAMETER_VALUE', 'after_id: must be a whole number of 0 or more', {
        field: 'after_id',
        value: afterId,
      });
    }
    const limit = checkMaxResults(options.limit, 100, 1000, 'limit');
    const model = options.model === undefined ? undefined : checkModelName('model', options.model);
    return this.deps.store.listEvents({
      workspace: ctx.workspace,
      afterId,
      limit,
      ...(model === undefined ? {} : { model }),
    });
  }
}
