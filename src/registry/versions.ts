import { invalidParameter, KilnError, type RequestContext } from '../core/index.js';
import { decodePageToken, prepareSearch } from '../tracking/index.js';
import {
  applyChange,
  type ChangeScope,
  checkTags,
  modelNotFound,
  type RegistryDeps,
  requireModel,
  requireVersion,
  versionNotFound,
} from './change.js';
import type { ModelVersion, RegistryPage } from './model.js';
import { nextToken, type RegistrySearchInput } from './models.js';
import {
  checkDescription,
  checkMaxResults,
  checkModelName,
  checkRunId,
  checkRunLink,
  checkTagKey,
  checkTagValue,
  checkVersion,
} from './rules.js';
import { checkSignature } from './signature.js';
import { type CheckedSource, checkSource } from './source.js';
import type { ModelRecord, RegistryReader, VersionRecord } from './store.js';

/** Model-version search page size when the caller names none (what the MLflow client asks for). */
export const DEFAULT_VERSION_PAGE_SIZE = 10_000;
/** Largest `max_results` accepted (MLflow's proto default); larger pages are served in pieces. */
export const MAX_VERSION_RESULTS = 200_000;
/** Most versions one page holds, whatever `max_results` says; the rest follow through the token. */
export const MAX_VERSION_PAGE_SIZE = 10_000;

/** What registering a version takes. `source` must pass the allow-list (see `checkSource`). */
export interface CreateModelVersionInput {
  readonly name: string;
  readonly source: string;
  readonly runId?: string;
  readonly runLink?: string;
  readonly description?: string;
  readonly tags?: readonly { key: string; value: string }[];
  /** Input and output column specs, stored with the version. */
  readonly signature?: unknown;
}

function runNotFound(runId: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Run '${runId}' does not exist`, { run_id: runId });
}

/** Checks that the runs a new version names exist; a `runs:/` source must agree with `run_id`. */
async function checkRuns(deps: RegistryDeps, ctx: RequestContext, runId: string | undefined, source: CheckedSource) {
  if (runId !== undefined && (await deps.runs.getRun(ctx, runId)) === undefined) throw runNotFound(runId);
  if (source.parsed.kind !== 'runs') return;
  const sourceRun = source.parsed.runId;
  if (runId !== undefined && runId !== sourceRun) {
    throw invalidParameter('run_id', `is '${runId}' but the source names run '${sourceRun}'`, runId);
  }
  if (runId === undefined && (await deps.runs.getRun(ctx, sourceRun)) === undefined) throw runNotFound(sourceRun);
}

/** The version a `models:/` reference names, or RESOURCE_DOES_NOT_EXIST. */
async function referencedVersion(
  reader: RegistryReader,
  ctx: RequestContext,
  ref: { name: string; version?: number; alias?: string },
): Promise<VersionRecord> {
  const model = await reader.findModel(ctx.workspace, ref.name);
  if (model === undefined) throw modelNotFound(ref.name);
  const number = ref.alias === undefined ? ref.version : await reader.findAlias(model.id, ref.alias);
  if (number === undefined) {
    throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Registered model '${ref.name}' has no alias '${ref.alias}'`, {
      name: ref.name,
      alias: ref.alias,
    });
  }
  return requireVersion(reader, model, number);
}

async function loadOne(deps: RegistryDeps, record: VersionRecord): Promise<ModelVersion> {
  const [version] = await deps.store.loadVersions([record]);
  if (version === undefined) throw versionNotFound(record.name, record.version);
  return version;
}

/** Registers a version: validates the source and run links, then allocates the next number under the model lock. */
export async function createModelVersion(
  deps: RegistryDeps,
  ctx: RequestContext,
  input: CreateModelVersionInput,
): Promise<ModelVersion> {
  const name = checkModelName('name', input.name);
  const source = checkSource(input.source, deps.root);
  const runId = input.runId === undefined || input.runId === '' ? undefined : checkRunId(input.runId);
  const runLink = checkRunLink(input.runLink ?? '');
  const description = checkDescription(input.description ?? '');
  const tags = checkTags(input.tags);
  const signature = input.signature === undefined || input.signature === null ? null : checkSignature(input.signature);
  await checkRuns(deps, ctx, runId, source);
  const record = await applyChange(deps, ctx, async ({ tx, now, record }) => {
    const model = await requireModel(tx, ctx, name, true);
    if (source.parsed.kind === 'models') await referencedVersion(tx, ctx, source.parsed);
    const version = await tx.allocateVersion(model.id, now);
    const row: VersionRecord = {
      modelId: model.id,
      name,
      version,
      source: source.uri,
      runId: runId ?? null,
      runLink,
      status: 'READY',
      statusMessage: '',
      description,
      userId: ctx.actor,
      currentStage: 'None',
      signature: signature === null ? null : JSON.stringify(signature),
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
    };
    await tx.insertVersion(row);
    for (const tag of tags) await tx.setVersionTag(model.id, version, tag.key, tag.value);
    const payload = { source: source.uri, ...(runId === undefined ? {} : { run_id: runId }), tags };
    record({ type: 'model_version.created', modelId: model.id, model: name, version, payload });
    return row;
  });
  return loadOne(deps, record);
}

/** The model and live version addressed by name and number, checked, outside a transaction. */
async function find(deps: RegistryDeps, ctx: RequestContext, name: string, version: unknown) {
  const checkedVersion = checkVersion(version);
  const model = await requireModel(deps.store, ctx, checkModelName('name', name));
  return requireVersion(deps.store, model, checkedVersion);
}

/** One live version with its tags, aliases and signature. */
export async function getModelVersion(deps: RegistryDeps, ctx: RequestContext, name: string, version: unknown) {
  return loadOne(deps, await find(deps, ctx, name, version));
}

/**
 * Runs a change on one live version: checks the name and number, locks the model, finds the
 * version (RESOURCE_DOES_NOT_EXIST when absent) and hands both to `fn`.
 */
export async function changeVersion<T>(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  version: unknown,
  fn: (scope: ChangeScope, model: ModelRecord, v: VersionRecord) => Promise<T>,
): Promise<T> {
  const checkedName = checkModelName('name', name);
  const checkedVersion = checkVersion(version);
  return applyChange(deps, ctx, async (scope) => {
    const model = await requireModel(scope.tx, ctx, checkedName, true);
    return fn(scope, model, await requireVersion(scope.tx, model, checkedVersion));
  });
}

/** Replaces a version's description. */
export async function updateModelVersion(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  version: unknown,
  changes: { description: string },
): Promise<ModelVersion> {
  const description = checkDescription(changes.description);
  const updated = await changeVersion(deps, ctx, name, version, async ({ tx, now, record }, model, v) => {
    await tx.updateVersion(model.id, v.version, { description }, now);
    record({
      type: 'model_version.updated',
      modelId: model.id,
      model: v.name,
      version: v.version,
      payload: { description },
    });
    return { ...v, description, lastUpdatedTimestamp: now };
  });
  return loadOne(deps, updated);
}

/** Soft-deletes a version, removing (and reporting) the aliases at it. */
export async function deleteModelVersion(deps: RegistryDeps, ctx: RequestContext, name: string, version: unknown) {
  await changeVersion(deps, ctx, name, version, async ({ tx, now, record }, model, v) => {
    const aliases = await tx.deleteVersion(model.id, v.version);
    await tx.touchModel(model.id, now);
    for (const alias of aliases) {
      const payload = { reason: 'version deleted' };
      record({
        type: 'model_version_alias.deleted',
        modelId: model.id,
        model: v.name,
        version: v.version,
        alias,
        payload,
      });
    }
    record({ type: 'model_version.deleted', modelId: model.id, model: v.name, version: v.version, payload: {} });
  });
}

/** Sets or overwrites one tag of a version. */
export async function setModelVersionTag(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  version: unknown,
  key: string,
  value: string,
): Promise<void> {
  const tag = { key: checkTagKey(key), value: checkTagValue(value) };
  await changeVersion(deps, ctx, name, version, async ({ tx, record }, model, v) => {
    await tx.setVersionTag(model.id, v.version, tag.key, tag.value);
    record({ type: 'model_version_tag.set', modelId: model.id, model: v.name, version: v.version, payload: tag });
  });
}

/** Deletes one tag of a version; RESOURCE_DOES_NOT_EXIST when it is not set. */
export async function deleteModelVersionTag(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  version: unknown,
  key: string,
): Promise<void> {
  const checkedKey = checkTagKey(key);
  await changeVersion(deps, ctx, name, version, async ({ tx, record }, model, v) => {
    if (!(await tx.deleteVersionTag(model.id, v.version, checkedKey))) {
      throw new KilnError(
        'RESOURCE_DOES_NOT_EXIST',
        `Model version '${v.name}' ${v.version} has no tag '${checkedKey}'`,
        {
          name: v.name,
          version: v.version,
          key: checkedKey,
        },
      );
    }
    const payload = { key: checkedKey };
    record({ type: 'model_version_tag.deleted', modelId: model.id, model: v.name, version: v.version, payload });
  });
}

/** One page of a model-version search; at most MAX_VERSION_PAGE_SIZE rows per page whatever max_results says. */
export async function searchModelVersions(
  deps: RegistryDeps,
  ctx: RequestContext,
  input: RegistrySearchInput,
): Promise<RegistryPage<ModelVersion>> {
  const requested = checkMaxResults(input.maxResults, DEFAULT_VERSION_PAGE_SIZE, MAX_VERSION_RESULTS);
  const limit = Math.min(requested, MAX_VERSION_PAGE_SIZE);
  const plan = prepareSearch('model_versions', { filter: input.filter ?? null, orderBy: input.orderBy ?? null });
  const offset = decodePageToken(input.pageToken);
  const rows = await deps.store.searchVersions(ctx.workspace, plan, limit + 1, offset);
  const items = await deps.store.loadVersions(rows.slice(0, limit));
  const token = nextToken(offset, limit, rows.length > limit);
  return token === undefined ? { items } : { items, nextPageToken: token };
}

/** How many `models:/` hops a download URI may follow before the chain counts as circular. */
export const MAX_SOURCE_HOPS = 4;

/**
 * Where a version's files can be downloaded: a `runs:/` source resolves through the run's
 * artifact URI, a `models:/` source through the version it names (at most {@link MAX_SOURCE_HOPS}
 * hops), anything else is returned as stored.
 */
export async function getModelVersionDownloadUri(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  version: unknown,
): Promise<string> {
  let current = await find(deps, ctx, name, version);
  for (let hop = 0; hop <= MAX_SOURCE_HOPS; hop++) {
    let source: CheckedSource;
    try {
      source = checkSource(current.source, deps.root);
    } catch (err) {
      throw new KilnError(
        'INVALID_STATE',
        `Model version '${current.name}' ${current.version} has a source this server no longer accepts`,
        {
          name: current.name,
          version: current.version,
        },
        { cause: err },
      );
    }
    const parsed = source.parsed;
    if (parsed.kind === 'runs') {
      const run = await deps.runs.getRun(ctx, parsed.runId);
      if (run === undefined) throw runNotFound(parsed.runId);
      const base = run.artifactUri.replace(/\/+$/, '');
      return parsed.path === '' ? base : `${base}/${parsed.path}`;
    }
    if (parsed.kind !== 'models') return source.uri;
    current = await referencedVersion(deps.store, ctx, parsed);
  }
  throw new KilnError(
    'INVALID_STATE',
    `The models:/ sources of '${name}' ${version} form a chain longer than ${MAX_SOURCE_HOPS} hops or a cycle`,
    {
      name,
      version,
    },
  );
}
