import type { SearchPlan } from '../tracking/index.js';
import type { RegistryChange, RegistryEvent } from './events.js';
import type { ModelStage, ModelVersion, ModelVersionStatus, RegisteredModel } from './model.js';

/** A registered model row; `id` is internal and never leaves the registry. */
export interface ModelRecord {
  readonly id: string;
  readonly workspace: string;
  readonly name: string;
  readonly description: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
}

/** A live (not deleted) version row, with its model's current name. */
export interface VersionRecord {
  readonly modelId: string;
  readonly name: string;
  readonly version: number;
  readonly source: string;
  readonly runId: string | null;
  readonly runLink: string;
  readonly status: ModelVersionStatus;
  readonly statusMessage: string;
  readonly description: string;
  readonly userId: string;
  readonly currentStage: ModelStage;
  readonly signature: string | null;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
}

/** A version to store; its number comes from {@link RegistryWriter.allocateVersion}. */
export type NewVersion = Omit<VersionRecord, 'name'>;

/** A change plus the model it concerns, as the writer records it. */
export interface PendingEvent extends RegistryChange {
  readonly modelId: string;
}

/** Who made a set of changes: the request context fields events carry. */
export interface EventAuthor {
  readonly workspace: string;
  readonly actor: string;
  readonly requestId: string;
}

/** Which events {@link RegistryReader.listEvents} returns. */
export interface EventQuery {
  readonly workspace: string;
  readonly afterId: number;
  readonly limit: number;
  /** Events recorded under this name, or about the model that has it now (it may have been renamed). */
  readonly model?: string;
}

/**
 * Reads the registry service needs, inside or outside a transaction. Every lookup that starts
 * from a name is scoped to a workspace; ids are only reachable through such a lookup.
 */
export interface RegistryReader {
  /** The model named `name` in `workspace`; with `lock`, the row stays locked until commit. */
  findModel(workspace: string, name: string, options?: { lock?: boolean }): Promise<ModelRecord | undefined>;
  findVersion(model: ModelRecord, version: number): Promise<VersionRecord | undefined>;
  /** The version an alias points at, or undefined. */
  findAlias(modelId: string, alias: string): Promise<number | undefined>;
  /** Live version numbers of a model in one stage, ascending. */
  versionsInStage(modelId: string, stage: ModelStage): Promise<number[]>;
  /** The newest READY version of each stage present among `stages`, in the order of `stages`. */
  latestVersions(model: ModelRecord, stages: readonly ModelStage[]): Promise<ModelVersion[]>;
  /** Full models (tags, aliases, latest versions), in the order given. */
  loadModels(models: readonly ModelRecord[]): Promise<RegisteredModel[]>;
  /** Full versions (tags, aliases, signature), in the order given. */
  loadVersions(versions: readonly VersionRecord[]): Promise<ModelVersion[]>;
  /** One page of a prepared registered-model search in `workspace`. */
  searchModels(workspace: string, plan: SearchPlan, limit: number, offset: number): Promise<ModelRecord[]>;
  /** One page of a prepared model-version search in `workspace`; deleted versions never match. */
  searchVersions(workspace: string, plan: SearchPlan, limit: number, offset: number): Promise<VersionRecord[]>;
  /** Events after `afterId` in id order. */
  listEvents(query: EventQuery): Promise<RegistryEvent[]>;
}

/** Writes, available only inside {@link RegistryStore.write}. */
export interface RegistryWriter extends RegistryReader {
  /** Stores a new model; resolves false when the workspace already has one with that name. */
  insertModel(model: ModelRecord): Promise<boolean>;
  /** Renames; a name clash surfaces as a unique violation when the transaction fails. */
  renameModel(modelId: string, name: string, at: number): Promise<void>;
  updateModelDescription(modelId: string, description: string, at: number): Promise<void>;
  touchModel(modelId: string, at: number): Promise<void>;
  /** Removes the model with its versions, tags and aliases. */
  deleteModel(modelId: string): Promise<void>;
  setModelTag(modelId: string, key: string, value: string): Promise<void>;
  /** Resolves false when the tag was not there. */
  deleteModelTag(modelId: string, key: string): Promise<boolean>;
  /** Takes the next version number of a model and bumps its update time. */
  allocateVersion(modelId: string, at: number): Promise<number>;
  insertVersion(version: NewVersion): Promise<void>;
  updateVersion(
    modelId: string,
    version: number,
    changes: { description?: string; currentStage?: ModelStage },
    at: number,
  ): Promise<void>;
  /** Marks a version deleted and removes the aliases at it; resolves those aliases' names. */
  deleteVersion(modelId: string, version: number): Promise<string[]>;
  setVersionTag(modelId: string, version: number, key: string, value: string): Promise<void>;
  deleteVersionTag(modelId: string, version: number, key: string): Promise<boolean>;
  /** Points an alias at a version in one upsert. */
  setAlias(modelId: string, alias: string, version: number): Promise<void>;
  deleteAlias(modelId: string, alias: string): Promise<boolean>;
  /** Records events; ids follow commit order (see the Kysely store). */
  appendEvents(author: EventAuthor, events: readonly PendingEvent[], createdAt: string): Promise<RegistryEvent[]>;
}

/**
 * Persistence of the registry. Reads on the store itself run outside any transaction; a change
 * runs inside {@link RegistryStore.write}, which commits when `fn` resolves and rolls back when
 * it throws, events included.
 *
 * @example
 * const events = await store.write(async (tx) => {
 *   const model = await tx.findModel('default', 'churn', { lock: true });
 *   …
 *   return tx.appendEvents(author, pending, nowIso());
 * });
 */
export interface RegistryStore extends RegistryReader {
  write<T>(fn: (tx: RegistryWriter) => Promise<T>): Promise<T>;
}
