import { sql } from 'kysely';
import {
  MODEL_STAGES,
  type ModelAlias,
  type ModelStage,
  type ModelVersion,
  type RegisteredModel,
  type RegistryTag,
} from '../model.js';
import { parseStoredSignature } from '../signature.js';
import type { ModelRecord, VersionRecord } from '../store.js';
import { chunks, type RegistryDb, toModelRecord, toVersionRecord, VERSION_COLUMNS } from './rows.js';

const pairKey = (modelId: string, version: number) => `${modelId}\u0000${version}`;

/** The model named `name` in `workspace`; on PostgreSQL `lock` takes a row lock held until commit. */
export async function findModel(
  { db, dialect }: RegistryDb,
  workspace: string,
  name: string,
  lock: boolean,
): Promise<ModelRecord | undefined> {
  const row = await db
    .selectFrom('registered_models')
    .select(['id', 'workspace', 'name', 'description', 'creation_timestamp', 'last_updated_timestamp'])
    .where('workspace', '=', workspace)
    .where('name', '=', name)
    // SQLite needs no row lock: its transactions already hold the database write lock.
    .$if(lock && dialect === 'postgres', (query) => query.forUpdate())
    .executeTakeFirst();
  return row === undefined ? undefined : toModelRecord(row);
}

function versionQuery({ db }: RegistryDb) {
  return db
    .selectFrom('model_versions')
    .innerJoin('registered_models', 'registered_models.id', 'model_versions.model_id')
    .select(VERSION_COLUMNS)
    .where('model_versions.deleted', '=', 0);
}

/** A live version of a model, with the model's current name. */
export async function findVersion(
  handle: RegistryDb,
  model: ModelRecord,
  version: number,
): Promise<VersionRecord | undefined> {
  const row = await versionQuery(handle)
    .where('model_versions.model_id', '=', model.id)
    .where('model_versions.version', '=', version)
    .executeTakeFirst();
  return row === undefined ? undefined : toVersionRecord(row);
}

/** The version number an alias points at, or undefined. */
export async function findAlias({ db }: RegistryDb, modelId: string, alias: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('registered_model_aliases')
    .select('version')
    .where('model_id', '=', modelId)
    .where('alias', '=', alias)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.version);
}

/** Live version numbers of a model in one stage, ascending. */
export async function versionsInStage({ db }: RegistryDb, modelId: string, stage: ModelStage): Promise<number[]> {
  const rows = await db
    .selectFrom('model_versions')
    .select('version')
    .where('model_id', '=', modelId)
    .where('current_stage', '=', stage)
    .where('deleted', '=', 0)
    .orderBy('version')
    .execute();
  return rows.map((row) => Number(row.version));
}

/** Live version rows for (model id, version) pairs, in no particular order. */
async function versionsByKey(handle: RegistryDb, keys: readonly [string, number][]): Promise<VersionRecord[]> {
  const byModel = new Map<string, number[]>();
  for (const [modelId, version] of keys) byModel.set(modelId, [...(byModel.get(modelId) ?? []), version]);
  const out: VersionRecord[] = [];
  for (const slice of chunks([...byModel.entries()], 100)) {
    const rows = await versionQuery(handle)
      .where((eb) =>
        eb.or(
          slice.map(([modelId, versions]) =>
            eb.and([eb('model_versions.model_id', '=', modelId), eb('model_versions.version', 'in', versions)]),
          ),
        ),
      )
      .execute();
    out.push(...rows.map(toVersionRecord));
  }
  return out;
}

/** The newest READY live version per (model, stage), for the given models and stages. */
async function latestRecords(
  handle: RegistryDb,
  modelIds: readonly string[],
  stages: readonly ModelStage[],
): Promise<VersionRecord[]> {
  if (modelIds.length === 0 || stages.length === 0) return [];
  const keys: [string, number][] = [];
  for (const slice of chunks(modelIds)) {
    const rows = await handle.db
      .selectFrom('model_versions')
      .select(['model_id', sql<number>`max(version)`.as('version')])
      .where('model_id', 'in', slice)
      .where('deleted', '=', 0)
      .where('status', '=', 'READY')
      .where('current_stage', 'in', stages)
      .groupBy(['model_id', 'current_stage'])
      .execute();
    for (const row of rows) keys.push([row.model_id, Number(row.version)]);
  }
  return versionsByKey(handle, keys);
}

/** The newest READY version per stage of one model, in the order of `stages`. */
export async function latestVersions(
  handle: RegistryDb,
  model: ModelRecord,
  stages: readonly ModelStage[],
): Promise<ModelVersion[]> {
  const records = await latestRecords(handle, [model.id], stages);
  const versions = await loadVersions(handle, records);
  return stages.flatMap((stage) => versions.filter((v) => v.currentStage === stage));
}

/** Full versions for version rows (tags and aliases in batched queries), in the order given. */
export async function loadVersions(handle: RegistryDb, records: readonly VersionRecord[]): Promise<ModelVersion[]> {
  const tags = new Map<string, RegistryTag[]>();
  const aliases = new Map<string, string[]>();
  const keys: [string, number][] = records.map((r) => [r.modelId, r.version]);
  for (const slice of chunks(keys, 200)) {
    const tagRows = await handle.db
      .selectFrom('model_version_tags')
      .select(['model_id', 'version', 'key', 'value'])
      .where((eb) => eb.or(slice.map(([m, v]) => eb.and([eb('model_id', '=', m), eb('version', '=', v)]))))
      .execute();
    for (const row of tagRows) {
      const key = pairKey(row.model_id, Number(row.version));
      tags.set(key, [...(tags.get(key) ?? []), { key: row.key, value: row.value }]);
    }
    const aliasRows = await handle.db
      .selectFrom('registered_model_aliases')
      .select(['model_id', 'version', 'alias'])
      .where((eb) => eb.or(slice.map(([m, v]) => eb.and([eb('model_id', '=', m), eb('version', '=', v)]))))
      .execute();
    for (const row of aliasRows) {
      const key = pairKey(row.model_id, Number(row.version));
      aliases.set(key, [...(aliases.get(key) ?? []), row.alias]);
    }
  }
  return records.map((r) => {
    const key = pairKey(r.modelId, r.version);
    return toModelVersion(r, sortTags(tags.get(key) ?? []), (aliases.get(key) ?? []).sort(codePointOrder));
  });
}

/** Code-point order, the same on every engine and locale. */
function codePointOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortTags(tags: RegistryTag[]): RegistryTag[] {
  return tags.sort((a, b) => codePointOrder(a.key, b.key));
}

function toModelVersion(r: VersionRecord, tags: RegistryTag[], aliases: string[]): ModelVersion {
  const signature = parseStoredSignature(r.signature);
  return {
    name: r.name,
    version: r.version,
    creationTimestamp: r.creationTimestamp,
    lastUpdatedTimestamp: r.lastUpdatedTimestamp,
    userId: r.userId,
    currentStage: r.currentStage,
    description: r.description,
    source: r.source,
    ...(r.runId === null || r.runId === '' ? {} : { runId: r.runId }),
    runLink: r.runLink,
    status: r.status,
    statusMessage: r.statusMessage,
    tags,
    aliases,
    ...(signature === undefined ? {} : { signature }),
  };
}

/** Full models for model rows (tags, aliases, latest versions in batched queries), in the order given. */
export async function loadModels(handle: RegistryDb, models: readonly ModelRecord[]): Promise<RegisteredModel[]> {
  const ids = models.map((m) => m.id);
  const tags = new Map<string, RegistryTag[]>();
  const aliases = new Map<string, ModelAlias[]>();
  for (const slice of chunks(ids)) {
    const tagRows = await handle.db
      .selectFrom('registered_model_tags')
      .select(['model_id', 'key', 'value'])
      .where('model_id', 'in', slice)
      .execute();
    for (const { model_id, key, value } of tagRows) tags.set(model_id, [...(tags.get(model_id) ?? []), { key, value }]);
    const aliasRows = await handle.db
      .selectFrom('registered_model_aliases')
      .select(['model_id', 'alias', 'version'])
      .where('model_id', 'in', slice)
      .execute();
    for (const { model_id, alias, version } of aliasRows) {
      aliases.set(model_id, [...(aliases.get(model_id) ?? []), { alias, version: Number(version) }]);
    }
  }
  const records = await latestRecords(handle, ids, MODEL_STAGES);
  const versions = await loadVersions(handle, records);
  const latest = new Map<string, ModelVersion[]>();
  records.forEach((record, i) => {
    const version = versions[i];
    if (version !== undefined) latest.set(record.modelId, [...(latest.get(record.modelId) ?? []), version]);
  });
  return models.map((m) => ({
    name: m.name,
    description: m.description,
    creationTimestamp: m.creationTimestamp,
    lastUpdatedTimestamp: m.lastUpdatedTimestamp,
    tags: sortTags(tags.get(m.id) ?? []),
    aliases: (aliases.get(m.id) ?? []).sort((a, b) => codePointOrder(a.alias, b.alias)),
    latestVersions: MODEL_STAGES.flatMap((stage) => (latest.get(m.id) ?? []).filter((v) => v.currentStage === stage)),
  }));
}
