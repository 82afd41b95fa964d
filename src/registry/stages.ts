import { invalidParameter, type RequestContext } from '../core/index.js';
import { type RegistryDeps, versionNotFound } from './change.js';
import type { ModelStage, ModelVersion } from './model.js';
import { checkStage } from './rules.js';
import { changeVersion } from './versions.js';

/** Stages whose existing versions `archive_existing_versions` may archive (MLflow's "active" stages). */
const ACTIVE_STAGES: readonly ModelStage[] = ['Staging', 'Production'];

/**
 * MLflow's deprecated stage move. With `archiveExistingVersions` every other version in the
 * target stage moves to Archived in the same transaction, the one atomic "at most one version per
 * stage" tool MLflow offers; it is allowed only for Staging and Production, as in MLflow.
 */
export async function transitionModelVersionStage(
  deps: RegistryDeps,
  ctx: RequestContext,
  name: string,
  version: unknown,
  stage: string,
  options: { archiveExistingVersions?: boolean } = {},
): Promise<ModelVersion> {
  const to = checkStage(stage);
  const archive = options.archiveExistingVersions ?? false;
  if (typeof archive !== 'boolean') {
    throw invalidParameter('archive_existing_versions', 'must be true or false', archive);
  }
  if (archive && !ACTIVE_STAGES.includes(to)) {
    throw invalidParameter('archive_existing_versions', `applies only to Staging and Production, not ${to}`, archive);
  }
  const updated = await changeVersion(deps, ctx, name, version, async ({ tx, now, record }, model, v) => {
    const move = async (number: number, from: ModelStage, target: ModelStage, payload: Record<string, unknown>) => {
      await tx.updateVersion(model.id, number, { currentStage: target }, now);
      const type = 'model_version.stage_transitioned';
      record({ type, modelId: model.id, model: v.name, version: number, payload: { from, to: target, ...payload } });
    };
    if (v.currentStage !== to) await move(v.version, v.currentStage, to, {});
    if (archive) {
      for (const other of await tx.versionsInStage(model.id, to)) {
        if (other !== v.version) await move(other, to, 'Archived', { archived_by_version: v.version });
      }
    }
    await tx.touchModel(model.id, now);
    return { ...v, currentStage: to, lastUpdatedTimestamp: v.currentStage === to ? v.lastUpdatedTimestamp : now };
  });
  const [loaded] = await deps.store.loadVersions([updated]);
  if (loaded === undefined) throw versionNotFound(updated.name, updated.version);
  return loaded;
}
