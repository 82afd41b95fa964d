import { hexId, invalidParameter, KilnError, type RequestContext } from '../core/index.js';
import { notFound, type TrackingServiceOptions } from './experiments-service.js';
import {
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  RUN_STATUSES,
  type Run,
  type RunInfo,
  type RunStatus,
  SOURCE_NAME_TAG,
  SOURCE_TYPE_TAG,
  type Tag,
  USER_TAG,
} from './model.js';
import { checkMaxResults, checkViewType, DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS, offsetPage } from './paging.js';
import { failUnlessOk, runNotFound } from './run-errors.js';
import { generateRunName } from './run-names.js';
import { mirroredColumns, toRun, toRunInfo } from './run-view.js';
import { prepareSearch } from './search/index.js';
import type { RunRecord, RunUsingDataset, TrackingStore } from './store.js';
import { checkInteger, checkKey, checkRunId, checkTags, checkText, LIMITS, parseExperimentId } from './validation.js';

/** What `RunService.create` takes; the shape of MLflow's `runs/create`. */
export interface CreateRunInput {
  experimentId: string;
  /** Default: the `mlflow.runName` tag, else a generated `adjective-noun-123`. */
  runName?: string;
  /** Epoch ms; default now. */
  startTime?: number;
  tags?: readonly Tag[];
  /** Deprecated in MLflow in favour of the `mlflow.user` tag; default that tag, else the caller. */
  userId?: string;
}

/** What `RunService.update` takes; absent fields stay as they are. */
export interface UpdateRunInput {
  status?: string;
  /** Epoch ms. */
  endTime?: number;
  runName?: string;
}

/** What `RunService.search` takes; the shape of MLflow's `runs/search`. */
export interface SearchRunsInput {
  experimentIds: readonly string[];
  /** MLflow filter, e.g. `metrics.acc > 0.9 AND params.model = 'gbdt'`. */
  filter?: string;
  /** e.g. `['metrics.acc DESC']`; default `start_time DESC`. */
  orderBy?: readonly string[];
  /** ACTIVE_ONLY (default), DELETED_ONLY or ALL. */
  runViewType?: string;
  /** 1 to 50,000; default 1000. */
  maxResults?: number;
  pageToken?: string;
}

/** One page of runs; `nextPageToken` is present when more follow. */
export interface RunPage {
  runs: Run[];
  nextPageToken?: string;
}

function checkStatus(value: unknown): RunStatus {
  if (typeof value !== 'string' || !(RUN_STATUSES as readonly string[]).includes(value)) {
    throw invalidParameter('status', `must be one of ${RUN_STATUSES.join(', ')}`, value);
  }
  return value as RunStatus;
}

/** A tag value as a JSON list, or undefined when it is not one. */
function parseList(value: string): unknown[] | undefined {
  try {
    const list: unknown = JSON.parse(value);
    return Array.isArray(list) ? list : undefined;
  } catch {
    return undefined;
  }
}

function checkRunName(field: string, value: unknown): string {
  return checkText(field, value, LIMITS.runNameLength);
}

/**
 * The run use cases: create (MLflow's defaults for name, user and start time, with the
 * `mlflow.runName` tag added), get with params, tags, latest metrics and inputs, update of status,
 * end time and name, soft delete and restore, tags (with `mlflow.runName`, `mlflow.user` and
 * `mlflow.parentRunId` mirrored onto the run's columns) and search with MLflow's filter language.
 * A deleted run refuses writes with MLflow's INVALID_PARAMETER_VALUE.
 *
 * @example
 * const run = await runs.create(ctx, { experimentId: '0', tags: [{ key: 'team', value: 'risk' }] });
 * await runs.update(ctx, run.info.runId, { status: 'FINISHED', endTime: Date.now() });
 * const { runs: found } = await runs.search(ctx, { experimentIds: ['0'], filter: "tags.team = 'risk'" });
 */
export class RunService {
  private readonly clock: () => number;

  constructor(
    private readonly store: TrackingStore,
    private readonly options: TrackingServiceOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async create(ctx: RequestContext, input: CreateRunInput): Promise<Run> {
    const experimentId = parseExperimentId(input.experimentId);
    const tags = checkTags('tags', input.tags ?? []);
    if (tags.length > LIMITS.batchTags) {
      throw invalidParameter('tags', `a run may be created with at most ${LIMITS.batchTags} tags; got ${tags.length}`);
    }
    const tagValue = (key: string) => tags.find((tag) => tag.key === key)?.value;
    const nameTag = tagValue(RUN_NAME_TAG);
    if (input.runName !== undefined && nameTag !== undefined && input.runName !== nameTag) {
      throw invalidParameter(
        'run_name',
        `both run_name and the ${RUN_NAME_TAG} tag are given, with different values ` +
          `(run_name='${input.runName}', ${RUN_NAME_TAG}='${nameTag}')`,
        input.runName,
      );
    }
    const name = checkRunName('run_name', input.runName ?? nameTag ?? generateRunName());
    if (nameTag === undefined) tags.push({ key: RUN_NAME_TAG, value: name });
    const userId = input.userId === undefined || input.userId === '' ? (tagValue(USER_TAG) ?? ctx.actor) : input.userId;
    const startTime = input.startTime === undefined ? this.clock() : checkInteger('start_time', input.startTime);

    const experiment = await this.store.getExperiment(ctx.workspace, experimentId);
    if (experiment === undefined) throw notFound(input.experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `The experiment ${input.experimentId} must be in the 'active' state. Current state is deleted.`,
        { experiment_id: input.experimentId },
      );
    }
    const runId = hexId();
    const location =
      experiment.artifactLocation ?? this.options.artifactRoot.experimentLocation(String(experiment.experimentId));
    const record: RunRecord = {
      runId,
      workspace: ctx.workspace,
      experimentId: experiment.experimentId,
      name,
      status: 'RUNNING',
      startTime,
      endTime: null,
      lifecycleStage: 'active',
      deletedTime: null,
      userId: checkText('user_id', userId, LIMITS.tagValueLength),
      sourceType: tagValue(SOURCE_TYPE_TAG) ?? 'UNKNOWN',
      sourceName: tagValue(SOURCE_NAME_TAG) ?? '',
      artifactUri: this.options.artifactRoot.runArtifactUri(location, runId),
      parentRunId: tagValue(PARENT_RUN_TAG) ?? null,
    };
    await this.store.insertRun(record, tags);
    return this.get(ctx, runId);
  }

  /** A run of the workspace, deleted or not, with its params, tags, latest metrics and inputs. */
  async get(ctx: RequestContext, runId: string): Promise<Run> {
    const record = await this.require(ctx, runId);
    const data = await this.store.loadRunData([record.runId]);
    return toRun(record, data.get(record.runId));
  }

  /**
   * Runs that logged an input with exactly this content digest (a Kiln dataset version's SHA-256,
   * or whatever digest an MLflow client logged), newest first: the run side of lineage.
   */
  async usingDataset(ctx: RequestContext, digest: string, limit = 1000): Promise<RunUsingDataset[]> {
    if (typeof digest !== 'string' || digest.length === 0 || digest.length > 256) {
      throw new KilnError('INVALID_PARAMETER_VALUE', 'digest must be a string of 1 to 256 characters', {
        field: 'digest',
      });
    }
    return this.store.runsUsingDigest(ctx.workspace, digest, limit);
  }

  /** Changes status, end time or name of an active run; a new name also updates `mlflow.runName`. */
  async update(ctx: RequestContext, runId: string, input: UpdateRunInput): Promise<RunInfo> {
    const id = checkRunId(runId);
    const status = input.status === undefined ? undefined : checkStatus(input.status);
    const endTime = input.endTime === undefined ? undefined : checkInteger('end_time', input.endTime);
    const name =
      input.runName === undefined || input.runName === '' ? undefined : checkRunName('run_name', input.runName);
    const changes = { status, endTime, columns: name === undefined ? {} : { name } };
    failUnlessOk(await this.store.updateRun(ctx.workspace, id, changes), id);
    return toRunInfo(await this.require(ctx, id));
  }

  /** Soft-deletes a run: it stays readable and restorable, but refuses writes. */
  async delete(ctx: RequestContext, runId: string): Promise<void> {
    await this.setLifecycle(ctx, runId, 'deleted');
  }

  async restore(ctx: RequestContext, runId: string): Promise<void> {
    await this.setLifecycle(ctx, runId, 'active');
  }

  /** Sets one tag on an active run (MLflow's `runs/set-tag`). */
  async setTag(ctx: RequestContext, runId: string, key: string, value: string): Promise<void> {
    const id = checkRunId(runId);
    const tags = [{ key: checkKey('key', key), value: checkText('value', value, LIMITS.tagValueLength) }];
    const batch = { metrics: [], params: [], tags };
    failUnlessOk(await this.store.logBatch(ctx.workspace, id, batch, mirroredColumns(tags)), id);
  }

  /**
   * Appends `item` to the JSON list held in one tag of an active run (an unset tag counts as
   * `[]`), atomically: the read and the write happen in one store transaction holding the run, so
   * concurrent appends (MLflow's `runs/log-model` on `mlflow.log-model.history`) all land instead
   * of overwriting each other as a read here and a `setTag` later would. A tag that is not a JSON
   * list, or a list grown past the tag value limit, is INVALID_PARAMETER_VALUE and nothing
   * changes. Tags mirrored onto run columns (`mlflow.runName` …) are refused: they hold no lists.
   */
  async appendToTagList(ctx: RequestContext, runId: string, key: string, item: unknown): Promise<void> {
    const id = checkRunId(runId);
    const checked = checkKey('key', key);
    if ([RUN_NAME_TAG, USER_TAG, PARENT_RUN_TAG].includes(checked)) {
      throw invalidParameter('key', 'is a tag mirrored onto the run and cannot hold a list', checked);
    }
    const append = (current: string | undefined): string => {
      const list = current === undefined ? [] : parseList(current);
      if (list === undefined) {
        throw new KilnError(
          'INVALID_PARAMETER_VALUE',
          `Run ${id} has a '${checked}' tag that is not a JSON list; delete the tag to append to it again`,
          { run_id: id, key: checked },
        );
      }
      list.push(item);
      return checkText('value', JSON.stringify(list), LIMITS.tagValueLength);
    };
    failUnlessOk(await this.store.updateRunTag(ctx.workspace, id, checked, append), id);
  }

  /** Removes a tag; removing `mlflow.parentRunId` also un-nests the run. */
  async deleteTag(ctx: RequestContext, runId: string, key: string): Promise<void> {
    const id = checkRunId(runId);
    const checked = checkKey('key', key);
    const columns = checked === PARENT_RUN_TAG ? { parentRunId: null } : {};
    failUnlessOk(await this.store.deleteRunTag(ctx.workspace, id, checked, columns), id, checked);
  }

  /**
   * Searches runs of the given experiments (of this workspace) with MLflow's filter and order_by;
   * each run comes back whole, its data loaded with one query per child table for the page.
   */
  async search(ctx: RequestContext, input: SearchRunsInput): Promise<RunPage> {
    if (!Array.isArray(input.experimentIds)) throw invalidParameter('experiment_ids', 'must be a list');
    const experimentIds = input.experimentIds.map((id, i) => parseExperimentId(id, `experiment_ids[${i}]`));
    const plan = prepareSearch('runs', { filter: input.filter, orderBy: input.orderBy });
    const viewType = checkViewType(input.runViewType, 'run_view_type');
    const maxResults = checkMaxResults(input.maxResults, DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS);
    const page = await offsetPage(
      (limit, offset) =>
        this.store.searchRuns({ workspace: ctx.workspace, experimentIds, plan, viewType, limit, offset }),
      maxResults,
      input.pageToken,
    );
    const data = await this.store.loadRunData(page.items.map((record) => record.runId));
    const runs = page.items.map((record) => toRun(record, data.get(record.runId)));
    return page.nextPageToken === undefined ? { runs } : { runs, nextPageToken: page.nextPageToken };
  }

  private async setLifecycle(ctx: RequestContext, runId: string, stage: 'active' | 'deleted'): Promise<void> {
    const id = checkRunId(runId);
    const deletedTime = stage === 'deleted' ? this.clock() : null;
    if (await this.store.setRunLifecycle(ctx.workspace, id, stage, deletedTime)) return;
    await this.require(ctx, id);
  }

  private async require(ctx: RequestContext, runId: string): Promise<RunRecord> {
    const id = checkRunId(runId);
    const record = await this.store.getRun(ctx.workspace, id);
    if (record === undefined) throw runNotFound(id);
    return record;
  }
}
