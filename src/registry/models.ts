import { hexId, KilnError, type RequestContext } from '../core/index.js';
import { isUniqueViolation } from '../store/index.js';
import { decodePageToken, encodePageToken, MAX_PAGE_OFFSET, prepareSearch } from '../tracking/index.js';
import { applyChange, checkTags, modelNotFound, type RegistryDeps, requireModel } from './change.js';
import { MODEL_STAGES, type ModelStage, type ModelVersion, type RegisteredModel, type RegistryPage } from './model.js';
import { checkDescription, checkMaxResults, checkModelName, checkStage, checkTagKey, checkTagValue } from './rules.js';
import type { ModelRecord } from './store.js';

/** Registered-model search page size when the caller names none (MLflow's default). */
export const DEFAULT_MODEL_PAGE_SIZE = 100;
/** Largest registered-model search page (MLflow's cap). */
export const MAX_MODEL_PAGE_SIZE = 1000;

/** What creating a registered model takes. */
export interface CreateRegisteredModelInput {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly { key: string; value: string }[];
}

/** A search request: MLflow filter and order_by, page size and token. */
export interface RegistrySearchInput {
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly maxResults?: number;
  readonly pageToken?: string;
}

function alreadyExists(name: string): KilnError {
  return new KilnError('RESOURCE_ALREADY_EXISTS', `Registered model '${name}' already exists`, { name });
}

async function loadOne(deps: RegistryDeps, record: ModelRecord): Promise<RegisteredModel> {
  const [model] = await deps.store.loadModels([record]);
  if (model === undefined) throw modelNotFound(record.name);
  return model;
}

/** Registers a name; a taken name is RESOURCE_ALREADY_EXISTS, which MLflow clients rely on. */
export async function createRegisteredModel(
  deps: RegistryDeps,
  ctx: RequestContext,
  input: CreateRegisteredModelInput,
): Promise<RegisteredModel> {
  const name = checkModelName('name', input.name);
  const description = checkDescription(input.description ?? '');
  const tags = checkTags(input.tags);
  const record = await applyChange(deps, ctx, async ({ tx, now, record }) => {
    const model = {
      id: hexId(),
      workspace: ctx.workspace,
      name,
      description,
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
    };
    if (!(await tx.insertModel(model))) throw alreadyExists(name);
    for (const tag of tags) await tx.setModelTag(model.id, tag.key, tag.value);
    record({ type: 'registered_model.created', modelId: model.id, model: name, payload: { description, tags } });
    return model;
  });
  return loadOne(deps, record);
}

/** One model with its tags, aliases and latest versions. */
export async function getRegisteredModel(deps: RegistryDeps, ctx: RequestContext, name: string) {
  return loadOne(deps, await requireModel(deps.store, ctx, checkModelName('name', name)));
}

/** Renames in place: versions, tags and aliases reference the model id, so they follow. */
export async function renameRegisteredModel(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  newName: string,
): Promise<RegisteredModel> {
  const from = checkModelName('name', name);
  const to = checkModelName('new_name', newName);
  try {
    const record = await applyChange(deps, ctx, async ({ tx, now, record }) => {
      const model = await requireModel(tx, ctx, from, true);
      if (from === to) return model;
      if ((await tx.findModel(ctx.workspace, to)) !== undefined) throw alreadyExists(to);
      await tx.renameModel(model.id, to, now);
      record({ type: 'registered_model.renamed', modelId: model.id, model: to, payload: { from, to } });
      return { ...model, name: to, lastUpdatedTimestamp: now };
    });
    return await loadOne(deps, record);
  } catch (err) {
    // Two renames to the same new name at once: the loser trips the unique constraint.
    if (isUniqueViolation(err)) throw alreadyExists(to);
    throw err;
  }
}

/** Replaces a model's description. */
export async function updateRegisteredModel(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  changes: { description: string },
): Promise<RegisteredModel> {
  const checked = checkModelName('name', name);
  const description = checkDescription(changes.description);
  const record = await applyChange(deps, ctx, async ({ tx, now, record }) => {
    const model = await requireModel(tx, ctx, checked, true);
    await tx.updateModelDescription(model.id, description, now);
    record({ type: 'registered_model.updated', modelId: model.id, model: checked, payload: { description } });
    return { ...model, description, lastUpdatedTimestamp: now };
  });
  return loadOne(deps, record);
}

/** Deletes a model with everything under it, in one transaction. */
export async function deleteRegisteredModel(deps: RegistryDeps, ctx: RequestContext, name: string): Promise<void> {
  const checked = checkModelName('name', name);
  await applyChange(deps, ctx, async ({ tx, record }) => {
    const model = await requireModel(tx, ctx, checked, true);
    await tx.deleteModel(model.id);
    record({ type: 'registered_model.deleted', modelId: model.id, model: checked, payload: {} });
  });
}

/** Sets or overwrites one tag of a model. */
export async function setRegisteredModelTag(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  key: string,
  value: string,
): Promise<void> {
  const checked = checkModelName('name', name);
  const tag = { key: checkTagKey(key), value: checkTagValue(value) };
  await applyChange(deps, ctx, async ({ tx, record }) => {
    const model = await requireModel(tx, ctx, checked, true);
    await tx.setModelTag(model.id, tag.key, tag.value);
    record({ type: 'registered_model_tag.set', modelId: model.id, model: checked, payload: tag });
  });
}

/** Deletes one tag of a model; RESOURCE_DOES_NOT_EXIST when it is not set. */
export async function deleteRegisteredModelTag(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  key: string,
): Promise<void> {
  const checked = checkModelName('name', name);
  const checkedKey = checkTagKey(key);
  await applyChange(deps, ctx, async ({ tx, record }) => {
    const model = await requireModel(tx, ctx, checked, true);
    if (!(await tx.deleteModelTag(model.id, checkedKey))) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Registered model '${checked}' has no tag '${checkedKey}'`, {
        name: checked,
        key: checkedKey,
      });
    }
    record({ type: 'registered_model_tag.deleted', modelId: model.id, model: checked, payload: { key: checkedKey } });
  });
}

/** The next page token after a page that started at `offset`, when more rows follow and it fits. */
export function nextToken(offset: number, pageSize: number, more: boolean): string | undefined {
  return more && offset + pageSize <= MAX_PAGE_OFFSET ? encodePageToken(offset + pageSize) : undefined;
}

/** One page of a registered-model search in the caller's workspace (offset page tokens, as MLflow). */
export async function searchRegisteredModels(
  deps: RegistryDeps,
  ctx: RequestContext,
  input: RegistrySearchInput,
): Promise<RegistryPage<RegisteredModel>> {
  const limit = checkMaxResults(input.maxResults, DEFAULT_MODEL_PAGE_SIZE, MAX_MODEL_PAGE_SIZE);
  const plan = prepareSearch('registered_models', { filter: input.filter ?? null, orderBy: input.orderBy ?? null });
  const offset = decodePageToken(input.pageToken);
  const rows = await deps.store.searchModels(ctx.workspace, plan, limit + 1, offset);
  const items = await deps.store.loadModels(rows.slice(0, limit));
  const token = nextToken(offset, limit, rows.length > limit);
  return token === undefined ? { items } : { items, nextPageToken: token };
}

/** MLflow's deprecated get-latest-versions: newest READY version per requested stage. */
export async function getLatestVersions(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  stages?: readonly string[],
): Promise<ModelVersion[]> {
  const model = await requireModel(deps.store, ctx, checkModelName('name', name));
  const wanted: ModelStage[] = [];
  for (const stage of stages ?? []) {
    const checked = checkStage(stage, 'stages');
    if (!wanted.includes(checked)) wanted.push(checked);
  }
  return deps.store.latestVersions(model, wanted.length === 0 ? MODEL_STAGES : wanted);
}
