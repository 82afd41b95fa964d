import { applySearch, type SearchDescriptor, type SearchPlan } from '../../tracking/index.js';
import type { ModelRecord, VersionRecord } from '../store.js';
import { type RegistryDb, toModelRecord, toVersionRecord, VERSION_COLUMNS } from './rows.js';

/** How registered-model search maps MLflow's identifiers onto the registry tables. */
export const REGISTERED_MODELS_SEARCH: SearchDescriptor = {
  owner: ['registered_models.id'],
  attributes: {
    name: { column: 'registered_models.name', type: 'text' },
    creation_timestamp: { column: 'registered_models.creation_timestamp', type: 'number' },
    last_updated_timestamp: { column: 'registered_models.last_updated_timestamp', type: 'number' },
  },
  keyed: { tag: { table: 'registered_model_tags', owner: ['model_id'], key: 'key', value: 'value' } },
};

/** Model-version search: `name` is the model's current name; tags are owned by (model, version). */
export const MODEL_VERSIONS_SEARCH: SearchDescriptor = {
  owner: ['model_versions.model_id', 'model_versions.version'],
  attributes: {
    name: { column: 'registered_models.name', type: 'text' },
    version: { column: 'model_versions.version', type: 'number' },
    run_id: { column: 'model_versions.run_id', type: 'text' },
    source: { column: 'model_versions.source', type: 'text' },
    creation_timestamp: { column: 'model_versions.creation_timestamp', type: 'number' },
    last_updated_timestamp: { column: 'model_versions.last_updated_timestamp', type: 'number' },
  },
  keyed: { tag: { table: 'model_version_tags', owner: ['model_id', 'version'], key: 'key', value: 'value' } },
};

/** One page of a prepared registered-model search, scoped to a workspace. */
export async function searchModels(
  { db, dialect }: RegistryDb,
  workspace: string,
  plan: SearchPlan,
  limit: number,
  offset: number,
): Promise<ModelRecord[]> {
  const base = db
    .selectFrom('registered_models')
    .select([
      'registered_models.id',
      'registered_models.workspace',
      'registered_models.name',
      'registered_models.description',
      'registered_models.creation_timestamp',
      'registered_models.last_updated_timestamp',
    ])
    .where('registered_models.workspace', '=', workspace);
  const rows = await applySearch(base, plan, REGISTERED_MODELS_SEARCH, dialect).limit(limit).offset(offset).execute();
  return rows.map(toModelRecord);
}

/** One page of a prepared model-version search, scoped to a workspace; deleted versions never match. */
export async function searchVersions(
  { db, dialect }: RegistryDb,
  workspace: string,
  plan: SearchPlan,
  limit: number,
  offset: number,
): Promise<VersionRecord[]> {
  const base = db
    .selectFrom('model_versions')
    .innerJoin('registered_models', 'registered_models.id', 'model_versions.model_id')
    .select(VERSION_COLUMNS)
    .where('registered_models.workspace', '=', workspace)
    .where('model_versions.deleted', '=', 0);
  const rows = await applySearch(base, plan, MODEL_VERSIONS_SEARCH, dialect).limit(limit).offset(offset).execute();
  return rows.map(toVersionRecord);
}
