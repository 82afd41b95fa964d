import { KilnError, type RequestContext } from '../core/index.js';
import { applyChange, type RegistryDeps, requireModel, requireVersion, versionNotFound } from './change.js';
import type { ModelVersion } from './model.js';
import { checkAlias, checkModelName, checkVersion } from './rules.js';

function aliasNotFound(name: string, alias: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Registered model '${name}' has no alias '${alias}'`, {
    name,
    alias,
  });
}

/**
 * Points `alias` at `version`, creating or moving it. Under the model's row lock the previous
 * target is read and the alias upserted in one statement, so concurrent movers serialise: each
 * sees its predecessor's result, the last to commit wins, and the events tell the moves in order.
 * Setting an alias to the version it already names changes nothing and records no event.
 */
export async function setAlias(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  alias: string,
  version: unknown,
): Promise<void> {
  const checkedName = checkModelName('name', name);
  const checkedAlias = checkAlias(alias);
  const checkedVersion = checkVersion(version);
  await applyChange(deps, ctx, async ({ tx, record }) => {
    const model = await requireModel(tx, ctx, checkedName, true);
    await requireVersion(tx, model, checkedVersion);
    const previous = await tx.findAlias(model.id, checkedAlias);
    if (previous === checkedVersion) return;
    await tx.setAlias(model.id, checkedAlias, checkedVersion);
    const base = { modelId: model.id, model: checkedName, version: checkedVersion, alias: checkedAlias };
    if (previous === undefined) record({ ...base, type: 'model_version_alias.created', payload: {} });
    else record({ ...base, type: 'model_version_alias.moved', payload: { from_version: previous } });
  });
}

/** Removes an alias; RESOURCE_DOES_NOT_EXIST when the model has no such alias. */
export async function deleteAlias(deps: RegistryDeps, ctx: RequestContext, name: string, alias: string) {
  const checkedName = checkModelName('name', name);
  const checkedAlias = checkAlias(alias);
  await applyChange(deps, ctx, async ({ tx, record }) => {
    const model = await requireModel(tx, ctx, checkedName, true);
    const version = await tx.findAlias(model.id, checkedAlias);
    if (version === undefined || !(await tx.deleteAlias(model.id, checkedAlias))) {
      throw aliasNotFound(checkedName, checkedAlias);
    }
    const base = { modelId: model.id, model: checkedName, version, alias: checkedAlias };
    record({ ...base, type: 'model_version_alias.deleted', payload: {} });
  });
}

/** The live version an alias points at: what `models:/name@alias` loads. */
export async function getModelVersionByAlias(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  alias: string,
): Promise<ModelVersion> {
  const checkedName = checkModelName('name', name);
  const checkedAlias = checkAlias(alias);
  const model = await requireModel(deps.store, ctx, checkedName);
  const version = await deps.store.findAlias(model.id, checkedAlias);
  if (version === undefined) throw aliasNotFound(checkedName, checkedAlias);
  const [found] = await deps.store.loadVersions([await requireVersion(deps.store, model, version)]);
  if (found === undefined) throw versionNotFound(checkedName, version);
  return found;
}
