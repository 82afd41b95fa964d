import type { Kysely } from 'kysely';
import type { Database, FoundationTables, SqlDialect } from '../../store/index.js';
import type { SearchPlan } from '../../tracking/index.js';
import type { RegistryEvent } from '../events.js';
import type { ModelStage, ModelVersion, RegisteredModel } from '../model.js';
import type {
  EventAuthor,
  EventQuery,
  ModelRecord,
  NewVersion,
  PendingEvent,
  RegistryReader,
  RegistryStore,
  RegistryWriter,
  VersionRecord,
} from '../store.js';
import * as events from './events.js';
import * as read from './read.js';
import type { RegistryDb } from './rows.js';
import * as search from './search.js';
import type { RegistryTables } from './tables.js';
import * as write from './write.js';

/** The registry's reads over one handle: the database, or a transaction (see {@link RegistryWrites}). */
class RegistryReads implements RegistryReader {
  protected readonly handle: RegistryDb;

  constructor(db: Kysely<FoundationTables & RegistryTables>, dialect: SqlDialect) {
    this.handle = { db, dialect };
  }

  findModel(workspace: string, name: string, options: { lock?: boolean } = {}): Promise<ModelRecord | undefined> {
    return read.findModel(this.handle, workspace, name, options.lock === true);
  }
  findVersion(model: ModelRecord, version: number): Promise<VersionRecord | undefined> {
    return read.findVersion(this.handle, model, version);
  }
  findAlias(modelId: string, alias: string): Promise<number | undefined> {
    return read.findAlias(this.handle, modelId, alias);
  }
  versionsInStage(modelId: string, stage: ModelStage): Promise<number[]> {
    return read.versionsInStage(this.handle, modelId, stage);
  }
  latestVersions(model: ModelRecord, stages: readonly ModelStage[]): Promise<ModelVersion[]> {
    return read.latestVersions(this.handle, model, stages);
  }
  loadModels(models: readonly ModelRecord[]): Promise<RegisteredModel[]> {
    return read.loadModels(this.handle, models);
  }
  loadVersions(versions: readonly VersionRecord[]): Promise<ModelVersion[]> {
    return read.loadVersions(this.handle, versions);
  }
  searchModels(workspace: string, plan: SearchPlan, limit: number, offset: number): Promise<ModelRecord[]> {
    return search.searchModels(this.handle, workspace, plan, limit, offset);
  }
  searchVersions(workspace: string, plan: SearchPlan, limit: number, offset: number): Promise<VersionRecord[]> {
    return search.searchVersions(this.handle, workspace, plan, limit, offset);
  }
  listEvents(query: EventQuery): Promise<RegistryEvent[]> {
    return events.listEvents(this.handle, query);
  }
}

/** Reads and writes over an open transaction; only `write()` callbacks ever get one. */
class RegistryWrites extends RegistryReads implements RegistryWriter {
  insertModel(model: ModelRecord): Promise<boolean> {
    return write.insertModel(this.handle, model);
  }
  renameModel(modelId: string, name: string, at: number): Promise<void> {
    return write.renameModel(this.handle, modelId, name, at);
  }
  updateModelDescription(modelId: string, description: string, at: number): Promise<void> {
    return write.updateModelDescription(this.handle, modelId, description, at);
  }
  touchModel(modelId: string, at: number): Promise<void> {
    return write.touchModel(this.handle, modelId, at);
  }
  deleteModel(modelId: string): Promise<void> {
    return write.deleteModel(this.handle, modelId);
  }
  setModelTag(modelId: string, key: string, value: string): Promise<void> {
    return write.setModelTag(this.handle, modelId, key, value);
  }
  deleteModelTag(modelId: string, key: string): Promise<boolean> {
    return write.deleteModelTag(this.handle, modelId, key);
  }
  allocateVersion(modelId: string, at: number): Promise<number> {
    return write.allocateVersion(this.handle, modelId, at);
  }
  insertVersion(version: NewVersion): Promise<void> {
    return write.insertVersion(this.handle, version);
  }
  updateVersion(
    modelId: string,
    version: number,
    changes: { description?: string; currentStage?: ModelStage },
    at: number,
  ): Promise<void> {
    return write.updateVersion(this.handle, modelId, version, changes, at);
  }
  deleteVersion(modelId: string, version: number): Promise<string[]> {
    return write.deleteVersion(this.handle, modelId, version);
  }
  setVersionTag(modelId: string, version: number, key: string, value: string): Promise<void> {
    return write.setVersionTag(this.handle, modelId, version, key, value);
  }
  deleteVersionTag(modelId: string, version: number, key: string): Promise<boolean> {
    return write.deleteVersionTag(this.handle, modelId, version, key);
  }
  setAlias(modelId: string, alias: string, version: number): Promise<void> {
    return write.setAlias(this.handle, modelId, alias, version);
  }
  deleteAlias(modelId: string, alias: string): Promise<boolean> {
    return write.deleteAlias(this.handle, modelId, alias);
  }
  appendEvents(author: EventAuthor, pending: readonly PendingEvent[], createdAt: string): Promise<RegistryEvent[]> {
    return events.appendEvents(this.handle, author, pending, createdAt);
  }
}

/**
 * The {@link RegistryStore} for SQLite and PostgreSQL. Writes serialise per model: each change
 * first locks its model row (PostgreSQL `SELECT … FOR UPDATE`; SQLite transactions hold the
 * database write lock from BEGIN IMMEDIATE), so version numbers, alias moves and events of one
 * model never interleave.
 *
 * @example
 * const registry = new RegistryService(new KyselyRegistryStore(database), { artifactRoot, runs });
 */
export class KyselyRegistryStore extends RegistryReads implements RegistryStore {
  constructor(private readonly database: Database) {
    super(database.kysely.withTables<RegistryTables>(), database.dialect);
  }

  write<T>(fn: (tx: RegistryWriter) => Promise<T>): Promise<T> {
    return this.database.transaction((trx) =>
      fn(new RegistryWrites(trx.withTables<RegistryTables>(), this.database.dialect)),
    );
  }
}
