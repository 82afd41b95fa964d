import type { Kysely } from 'kysely';
import type { FoundationTables, SqlDialect } from '../../store/index.js';
import type { ModelStage, ModelVersionStatus } from '../model.js';
import type { ModelRecord, VersionRecord } from '../store.js';
import type { RegistryTables } from './tables.js';

/** A handle on the registry tables: the database itself or an open transaction. */
export interface RegistryDb {
  readonly db: Kysely<FoundationTables & RegistryTables>;
  readonly dialect: SqlDialect;
}

type ModelRow = RegistryTables['registered_models'];
type VersionRow = RegistryTables['model_versions'];

/** Columns of a version row joined with its model's name, as every version query selects them. */
export const VERSION_COLUMNS = [
  'model_versions.model_id',
  'registered_models.name',
  'model_versions.version',
  'model_versions.source',
  'model_versions.run_id',
  'model_versions.run_link',
  'model_versions.status',
  'model_versions.status_message',
  'model_versions.description',
  'model_versions.user_id',
  'model_versions.current_stage',
  'model_versions.signature',
  'model_versions.creation_timestamp',
  'model_versions.last_updated_timestamp',
] as const;

/** A model row as a record; bigint timestamps become numbers. */
export function toModelRecord(row: Omit<ModelRow, 'last_version'>): ModelRecord {
  return {
    id: row.id,
    workspace: row.workspace,
    name: row.name,
    description: row.description,
    creationTimestamp: Number(row.creation_timestamp),
    lastUpdatedTimestamp: Number(row.last_updated_timestamp),
  };
}

/** A version row (joined with its model name) as a record. */
export function toVersionRecord(row: Omit<VersionRow, 'deleted'> & { name: string }): VersionRecord {
  return {
    modelId: row.model_id,
    name: row.name,
    version: Number(row.version),
    source: row.source,
    runId: row.run_id,
    runLink: row.run_link,
    status: row.status as ModelVersionStatus,
    statusMessage: row.status_message,
    description: row.description,
    userId: row.user_id,
    currentStage: row.current_stage as ModelStage,
    signature: row.signature,
    creationTimestamp: Number(row.creation_timestamp),
    lastUpdatedTimestamp: Number(row.last_updated_timestamp),
  };
}

/** Splits a list into slices of at most `size`, to keep IN lists under the engines' parameter limits. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
