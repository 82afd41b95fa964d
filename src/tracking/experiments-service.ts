import { DEFAULT_WORKSPACE, invalidParameter, KilnError, type RequestContext } from '../core/index.js';
import type { ArtifactRoot } from './artifact-location.js';
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME } from './migrations.js';
import type { Experiment, Tag } from './model.js';
import { checkMaxResults, checkViewType, DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS, offsetPage } from './paging.js';
import { prepareSearch } from './search/index.js';
import type { ExperimentRecord, TrackingStore } from './store.js';
import { checkKey, checkTags, checkText, LIMITS, parseExperimentId } from './validation.js';

/** What `ExperimentService.create` takes; the shape of MLflow's `experiments/create`. */
export interface CreateExperimentInput {
  name: string;
  /** Where its artifacts go; default `<artifact root>/<experiment_id>`. */
  artifactLocation?: string;
  tags?: readonly Tag[];
}

/** What `ExperimentService.search` takes; the shape of MLflow's `experiments/search`. */
export interface SearchExperimentsInput {
  /** MLflow filter, e.g. `name LIKE 'churn%' AND tags.team = 'risk'`. */
  filter?: string;
  /** e.g. `['last_update_time DESC']`; default `creation_time DESC`. */
  orderBy?: readonly string[];
  /** Default ACTIVE_ONLY. */
  viewType?: string;
  /** 1 to 50,000; default 1000. */
  maxResults?: number;
  pageToken?: string;
}

/** One page of experiments; `nextPageToken` is present when more follow. */
export interface ExperimentPage {
  experiments: Experiment[];
  nextPageToken?: string;
}

/** Dependencies shared by the tracking services. */
export interface TrackingServiceOptions {
  artifactRoot: ArtifactRoot;
  /** Epoch milliseconds; tests pass a fixed clock. */
  clock?: () => number;
}

function checkName(field: string, value: unknown): string {
  const name = checkText(field, value, LIMITS.experimentNameLength);
  if (name.trim().length === 0) throw invalidParameter(field, 'must not be empty', name);
  return name;
}

/**
 * The experiment use cases, MLflow-compatible: names unique per workspace (a deleted experiment
 * keeps its name until restored), soft delete that takes the experiment's runs with it, restore
 * that brings them back, tags, and search with MLflow's filter language. Experiment `0`
 * (`Default`) exists in workspace `default` and cannot be deleted.
 *
 * @example
 * const experiments = new ExperimentService(store, { artifactRoot: new ArtifactRoot('mlflow-artifacts:/') });
 * const churn = await experiments.create(ctx, { name: 'churn', tags: [{ key: 'team', value: 'risk' }] });
 * await experiments.setTag(ctx, churn.experimentId, 'stage', 'pilot');
 */
export class ExperimentService {
  private readonly clock: () => number;

  constructor(
    private readonly store: TrackingStore,
    private readonly options: TrackingServiceOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async create(ctx: RequestContext, input: CreateExperimentInput): Promise<Experiment> {
    const name = checkName('name', input.name);
    const artifactLocation =
      input.artifactLocation === undefined || input.artifactLocation === ''
        ? null
        : this.options.artifactRoot.checkLocation(input.artifactLocation);
    const tags = checkTags('tags', input.tags ?? [], LIMITS.experimentTagValueLength);
    const id = await this.store.insertExperiment({
      workspace: ctx.workspace,
      name,
      artifactLocation,
      time: this.clock(),
      tags,
    });
    if (id === undefined) {
      const existing = await this.store.getExperimentByName(ctx.workspace, name);
      const state =
        existing?.lifecycleStage === 'deleted' ? ' in deleted state (restore it or choose another name)' : '';
      throw new KilnError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists${state}`, { name });
    }
    return this.get(ctx, String(id));
  }

  /** Any experiment of the workspace, deleted ones included. */
  async get(ctx: RequestContext, experimentId: string): Promise<Experiment> {
    return this.toExperiment(await this.require(ctx, experimentId));
  }

  async getByName(ctx: RequestContext, name: string): Promise<Experiment> {
    const checked = checkName('experiment_name', name);
    const record = await this.store.getExperimentByName(ctx.workspace, checked);
    if (record === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${checked}'`, {
        name: checked,
      });
    }
    return this.toExperiment(record);
  }

  /**
   * The experiment named `name`, created when missing (a concurrent creation is tolerated); the
   * workspace's default experiment when `name` is undefined. What jobs that log runs into an
   * experiment named by the user need.
   *
   * @example
   * const { experimentId } = await experiments.getOrCreateByName(ctx, 'churn');
   */
  async getOrCreateByName(ctx: RequestContext, name: string | undefined): Promise<Experiment> {
    if (name === undefined) return this.defaultExperiment(ctx);
    const checked = checkName('experiment_name', name);
    const found = await this.store.getExperimentByName(ctx.workspace, checked);
    if (found !== undefined) return this.toExperiment(found);
    try {
      return await this.create(ctx, { name: checked });
    } catch (err) {
      if (err instanceof KilnError && err.code === 'RESOURCE_ALREADY_EXISTS') return this.getByName(ctx, checked);
      throw err;
    }
  }

  /**
   * The experiment runs go to when the caller names none: `0` in workspace `default`; elsewhere
   * the workspace's experiment named `Default`, created on first use.
   */
  async defaultExperiment(ctx: RequestContext): Promise<Experiment> {
    if (ctx.workspace === DEFAULT_WORKSPACE) return this.get(ctx, DEFAULT_EXPERIMENT_ID);
    const found = await this.store.getExperimentByName(ctx.workspace, DEFAULT_EXPERIMENT_NAME);
    if (found !== undefined) return this.toExperiment(found);
    const id = await this.store.insertExperiment({
      workspace: ctx.workspace,
      name: DEFAULT_EXPERIMENT_NAME,
      artifactLocation: null,
      time: this.clock(),
      tags: [],
    });
    // undefined: a concurrent request created it first.
    return id === undefined ? this.getByName(ctx, DEFAULT_EXPERIMENT_NAME) : this.get(ctx, String(id));
  }

  async search(ctx: RequestContext, input: SearchExperimentsInput = {}): Promise<ExperimentPage> {
    const plan = prepareSearch('experiments', { filter: input.filter, orderBy: input.orderBy });
    const viewType = checkViewType(input.viewType);
    const maxResults = checkMaxResults(input.maxResults, DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS);
    const page = await offsetPage(
      (limit, offset) => this.store.searchExperiments({ workspace: ctx.workspace, plan, viewType, limit, offset }),
      maxResults,
      input.pageToken,
    );
    const experiments = page.items.map((record) => this.toExperiment(record));
    return page.nextPageToken === undefined ? { experiments } : { experiments, nextPageToken: page.nextPageToken };
  }

  /** Renames an active experiment; the new name must be free in the workspace. */
  async rename(ctx: RequestContext, experimentId: string, newName: string): Promise<Experiment> {
    const name = checkName('new_name', newName);
    const record = await this.requireActive(ctx, experimentId, 'Cannot rename a non-active experiment');
    const outcome = await this.store.renameExperiment(ctx.workspace, record.experimentId, name, this.clock());
    if (outcome === 'name-taken') {
      throw new KilnError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists`, { name });
    }
    if (outcome === 'missing') throw notFound(experimentId);
    return this.get(ctx, experimentId);
  }

  /** Soft-deletes an experiment and its active runs; restorable with {@link restore}. */
  async delete(ctx: RequestContext, experimentId: string): Promise<void> {
    const record = await this.require(ctx, experimentId);
    if (record.workspace === DEFAULT_WORKSPACE && String(record.experimentId) === DEFAULT_EXPERIMENT_ID) {
      throw invalidParameter(
        'experiment_id',
        `cannot delete the default experiment '${DEFAULT_EXPERIMENT_ID}'; it is reserved`,
        experimentId,
      );
    }
    if (!(await this.store.setExperimentLifecycle(ctx.workspace, record.experimentId, 'deleted', this.clock()))) {
      throw invalidParameter('experiment_id', `experiment ${experimentId} is already deleted`, experimentId);
    }
  }

  /** Restores a deleted experiment and the runs that were deleted with it. */
  async restore(ctx: RequestContext, experimentId: string): Promise<void> {
    const record = await this.require(ctx, experimentId);
    if (!(await this.store.setExperimentLifecycle(ctx.workspace, record.experimentId, 'active', this.clock()))) {
      throw invalidParameter('experiment_id', `cannot restore experiment ${experimentId}: it is active`, experimentId);
    }
  }

  async setTag(ctx: RequestContext, experimentId: string, key: string, value: string): Promise<void> {
    const checkedKey = checkKey('key', key);
    const checkedValue = checkText('value', value, LIMITS.experimentTagValueLength);
    await this.writeTag(ctx, experimentId, checkedKey, checkedValue);
  }

  async deleteTag(ctx: RequestContext, experimentId: string, key: string): Promise<void> {
    await this.writeTag(ctx, experimentId, checkKey('key', key), undefined);
  }

  private async writeTag(ctx: RequestContext, experimentId: string, key: string, value: string | undefined) {
    const record = await this.requireActive(ctx, experimentId);
    const outcome = await this.store.writeExperimentTag(ctx.workspace, record.experimentId, key, value, this.clock());
    if (outcome === 'missing') throw notFound(experimentId);
    if (outcome === 'no-tag') {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${key} in experiment with id ${experimentId}`, {
        experiment_id: experimentId,
        key,
      });
    }
  }

  private async require(ctx: RequestContext, experimentId: string): Promise<ExperimentRecord> {
    const record = await this.store.getExperiment(ctx.workspace, parseExperimentId(experimentId));
    if (record === undefined) throw notFound(experimentId);
    return record;
  }

  private async requireActive(ctx: RequestContext, experimentId: string, problem?: string): Promise<ExperimentRecord> {
    const record = await this.require(ctx, experimentId);
    if (record.lifecycleStage !== 'active') {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        problem ?? `The experiment ${experimentId} must be in the 'active' state. Current state is deleted.`,
        { experiment_id: experimentId, lifecycle_stage: record.lifecycleStage },
      );
    }
    return record;
  }

  private toExperiment(record: ExperimentRecord): Experiment {
    const id = String(record.experimentId);
    return {
      experimentId: id,
      name: record.name,
      artifactLocation: record.artifactLocation ?? this.options.artifactRoot.experimentLocation(id),
      lifecycleStage: record.lifecycleStage,
      creationTime: record.creationTime,
      lastUpdateTime: record.lastUpdateTime,
      tags: record.tags,
    };
  }
}

/** The error for an experiment id the workspace does not have. */
export function notFound(experimentId: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `No experiment with id '${experimentId}' exists`, {
    experiment_id: experimentId,
  });
}
