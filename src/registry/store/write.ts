import { KilnError } from '../../core/index.js';
import type { ModelStage } from '../model.js';
import type { ModelRecord, NewVersion } from '../store.js';
import type { RegistryDb } from './rows.js';

/**
 * Inserts a model; false when the workspace already has the name. ON CONFLICT instead of an error
 * keeps a PostgreSQL transaction usable.
 */
export async function insertModel({ db }: RegistryDb, model: ModelRecord): Promise<boolean> {
  const result = await db
    .insertInto('registered_models')
    .values({
      id: model.id,
      workspace: model.workspace,
      name: model.name,
      description: model.description,
      creation_timestamp: model.creationTimestamp,
      last_updated_timestamp: model.lastUpdatedTimestamp,
      last_version: 0,
    })
    .onConflict((conflict) => conflict.columns(['workspace', 'name']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Renames a model row; a clash fails the statement with a unique violation. */
export async function renameModel({ db }: RegistryDb, modelId: string, name: string, at: number): Promise<void> {
  await db
    .updateTable('registered_models')
    .set({ name, last_updated_timestamp: at })
    .where('id', '=', modelId)
    .execute();
}

/** Sets a model's description and update time. */
export async function updateModelDescription(
  { db }: RegistryDb,
  modelId: string,
  description: string,
  at: number,
): Promise<void> {
  await db
    .updateTable('registered_models')
    .set({ description, last_updated_timestamp: at })
    .where('id', '=', modelId)
    .execute();
}

/** Bumps a model's update time after a change beneath it. */
export async function touchModel({ db }: RegistryDb, modelId: string, at: number): Promise<void> {
  await db.updateTable('registered_models').set({ last_updated_timestamp: at }).where('id', '=', modelId).execute();
}

/** Children first, so the foreign keys hold at every statement. */
export async function deleteModel({ db }: RegistryDb, modelId: string): Promise<void> {
  await db.deleteFrom('registered_model_aliases').where('model_id', '=', modelId).execute();
  await db.deleteFrom('model_version_tags').where('model_id', '=', modelId).execute();
  await db.deleteFrom('model_versions').where('model_id', '=', modelId).execute();
  await db.deleteFrom('registered_model_tags').where('model_id', '=', modelId).execute();
  await db.deleteFrom('registered_models').where('id', '=', modelId).execute();
}

/** Upserts one model tag. */
export async function setModelTag({ db }: RegistryDb, modelId: string, key: string, value: string): Promise<void> {
  await db
    .insertInto('registered_model_tags')
    .values({ model_id: modelId, key, value })
    .onConflict((conflict) => conflict.columns(['model_id', 'key']).doUpdateSet({ value }))
    .execute();
}

/** Deletes one model tag; false when it was not set. */
export async function deleteModelTag({ db }: RegistryDb, modelId: string, key: string): Promise<boolean> {
  const result = await db
    .deleteFrom('registered_model_tags')
    .where('model_id', '=', modelId)
    .where('key', '=', key)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * One UPDATE … RETURNING: on PostgreSQL the row lock it takes makes a concurrent allocation wait
 * and then read the incremented counter; on SQLite the transaction holds the write lock already.
 * Numbers are never reused, because deleting a version leaves the counter alone.
 */
export async function allocateVersion({ db }: RegistryDb, modelId: string, at: number): Promise<number> {
  const row = await db
    .updateTable('registered_models')
    .set((eb) => ({ last_version: eb('last_version', '+', 1), last_updated_timestamp: at }))
    .where('id', '=', modelId)
    .returning('last_version')
    .executeTakeFirst();
  if (row === undefined) throw new KilnError('INTERNAL_ERROR', 'version allocated for a model that is gone');
  return Number(row.last_version);
}

/** Inserts a version row with a number from `allocateVersion`. */
export async function insertVersion({ db }: RegistryDb, v: NewVersion): Promise<void> {
  await db
    .insertInto('model_versions')
    .values({
      model_id: v.modelId,
      version: v.version,
      source: v.source,
      run_id: v.runId,
      run_link: v.runLink,
      status: v.status,
      status_message: v.statusMessage,
      description: v.description,
      user_id: v.userId,
      current_stage: v.currentStage,
      signature: v.signature,
      creation_timestamp: v.creationTimestamp,
      last_updated_timestamp: v.lastUpdatedTimestamp,
      deleted: 0,
    })
    .execute();
}

/** Changes a version's description and/or stage, and its update time. */
export async function updateVersion(
  { db }: RegistryDb,
  modelId: string,
  version: number,
  changes: { description?: string; currentStage?: ModelStage },
  at: number,
): Promise<void> {
  await db
    .updateTable('model_versions')
    .set({
      last_updated_timestamp: at,
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(changes.currentStage === undefined ? {} : { current_stage: changes.currentStage }),
    })
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
}

/** Soft-deletes a version and removes the aliases at it; resolves their names. */
export async function deleteVersion({ db }: RegistryDb, modelId: string, version: number): Promise<string[]> {
  const aliases = await db
    .deleteFrom('registered_model_aliases')
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .returning('alias')
    .execute();
  await db
    .updateTable('model_versions')
    .set({ deleted: 1 })
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
  return aliases.map((row) => row.alias).sort();
}

/** Upserts one version tag. */
export async function setVersionTag(
  { db }: RegistryDb,
  modelId: string,
  version: number,
  key: string,
  value: string,
): Promise<void> {
  await db
    .insertInto('model_version_tags')
    .values({ model_id: modelId, version, key, value })
    .onConflict((conflict) => conflict.columns(['model_id', 'version', 'key']).doUpdateSet({ value }))
    .execute();
}

/** Deletes one version tag; false when it was not set. */
export async function deleteVersionTag(
  { db }: RegistryDb,
  modelId: string,
  version: number,
  key: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('model_version_tags')
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .where('key', '=', key)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Creates or moves the alias in a single statement, so no reader ever sees it missing mid-move. */
export async function setAlias({ db }: RegistryDb, modelId: string, alias: string, version: number): Promise<void> {
  await db
    .insertInto('registered_model_aliases')
    .values({ model_id: modelId, alias, version })
    .onConflict((conflict) => conflict.columns(['model_id', 'alias']).doUpdateSet({ version }))
    .execute();
}

/** Deletes an alias; false when there was none. */
export async function deleteAlias({ db }: RegistryDb, modelId: string, alias: string): Promise<boolean> {
  const result = await db
    .deleteFrom('registered_model_aliases')
    .where('model_id', '=', modelId)
    .where('alias', '=', alias)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
