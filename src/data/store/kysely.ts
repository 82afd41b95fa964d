import type { Kysely } from 'kysely';
import { type Database, type FoundationTables, isUniqueViolation } from '../../store/index.js';
import type { DataFormat, Dataset, DatasetProfile, DatasetVersion, SourceKind } from '../model.js';
import type { DatasetStore } from '../store.js';

/** Tables the data context owns. */
export type DataTables = {
  data_datasets: {
    id: string;
    workspace: string;
    name: string;
    description: string;
    tags: string;
    created_at: string;
    updated_at: string;
  };
  data_dataset_versions: {
    dataset_id: string;
    version: number;
    digest: string;
    blob_key: string;
    source_kind: string;
    source: string;
    format: string;
    /** PostgreSQL returns bigint as a string. */
    row_count: number | string;
    column_count: number;
    schema: string;
    created_at: string;
    created_by: string;
    /** JSON {@link DatasetProfile}; null for versions recorded before profiles existed. */
    profile: string | null;
  };
};

type DatasetRow = DataTables['data_datasets'];
type VersionRow = DataTables['data_dataset_versions'];

/** Every version column but `profile`: listing versions should not drag each one's profile along. */
const VERSION_COLUMNS = [
  'dataset_id',
  'version',
  'digest',
  'blob_key',
  'source_kind',
  'source',
  'format',
  'row_count',
  'column_count',
  'schema',
  'created_at',
  'created_by',
] as const;

function toDataset(row: DatasetRow): Dataset {
  return {
    id: row.id,
    workspace: row.workspace,
    name: row.name,
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toVersion(row: Omit<VersionRow, 'profile'>, datasetName: string): DatasetVersion {
  return {
    datasetId: row.dataset_id,
    datasetName,
    version: Number(row.version),
    digest: row.digest,
    blobKey: row.blob_key,
    sourceKind: row.source_kind as SourceKind,
    source: row.source,
    format: row.format as DataFormat,
    rowCount: Number(row.row_count),
    columnCount: Number(row.column_count),
    schema: JSON.parse(row.schema) as DatasetVersion['schema'],
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** Attempts at numbering a version before giving up under a storm of concurrent ingests. */
const APPEND_ATTEMPTS = 5;

/**
 * The {@link DatasetStore} for SQLite and PostgreSQL alike. Version numbers are max + 1 inside a
 * transaction; on PostgreSQL two writers can still both read the same max, so a primary-key
 * conflict is retried rather than surfaced.
 *
 * @example
 * const service = new DatasetService(new KyselyDatasetStore(database), blobs);
 */
export class KyselyDatasetStore implements DatasetStore {
  private readonly database: Database;
  private readonly db: Kysely<FoundationTables & DataTables>;

  constructor(database: Database) {
    this.database = database;
    this.db = database.kysely.withTables<DataTables>();
  }

  async insertDataset(dataset: Dataset): Promise<boolean> {
    const result = await this.db
      .insertInto('data_datasets')
      .values({
        id: dataset.id,
        workspace: dataset.workspace,
        name: dataset.name,
        description: dataset.description,
        tags: JSON.stringify(dataset.tags),
        created_at: dataset.createdAt,
        updated_at: dataset.updatedAt,
      })
      .onConflict((conflict) => conflict.columns(['workspace', 'name']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async getDataset(workspace: string, name: string): Promise<Dataset | undefined> {
    const row = await this.db
      .selectFrom('data_datasets')
      .selectAll()
      .where('workspace', '=', workspace)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : toDataset(row);
  }

  async listDatasets(workspace: string, limit: number, after?: string): Promise<Dataset[]> {
    let query = this.db
      .selectFrom('data_datasets')
      .selectAll()
      .where('workspace', '=', workspace)
      .orderBy('name')
      .limit(limit);
    if (after !== undefined) query = query.where('name', '>', after);
    return (await query.execute()).map(toDataset);
  }

  async appendVersion(version: Omit<DatasetVersion, 'version'>, profile?: DatasetProfile): Promise<DatasetVersion> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.database.transaction(async (trx) => {
          const tx = trx.withTables<DataTables>();
          const last = await tx
            .selectFrom('data_dataset_versions')
            .select((eb) => eb.fn.max('version').as('last'))
            .where('dataset_id', '=', version.datasetId)
            .executeTakeFirst();
          const row: VersionRow = {
            dataset_id: version.datasetId,
            version: Number(last?.last ?? 0) + 1,
            digest: version.digest,
            blob_key: version.blobKey,
            source_kind: version.sourceKind,
            source: version.source,
            format: version.format,
            row_count: version.rowCount,
            column_count: version.columnCount,
            schema: JSON.stringify(version.schema),
            created_at: version.createdAt,
            created_by: version.createdBy,
            profile: profile === undefined ? null : JSON.stringify(profile),
          };
          await tx.insertInto('data_dataset_versions').values(row).execute();
          return toVersion(row, version.datasetName);
        });
      } catch (err) {
        if (attempt >= APPEND_ATTEMPTS || !isUniqueViolation(err)) throw err;
      }
    }
  }

  async getVersion(dataset: Dataset, version: number): Promise<DatasetVersion | undefined> {
    const row = await this.db
      .selectFrom('data_dataset_versions')
      .select(VERSION_COLUMNS)
      .where('dataset_id', '=', dataset.id)
      .where('version', '=', version)
      .executeTakeFirst();
    return row === undefined ? undefined : toVersion(row, dataset.name);
  }

  async listVersions(dataset: Dataset): Promise<DatasetVersion[]> {
    const rows = await this.db
      .selectFrom('data_dataset_versions')
      .select(VERSION_COLUMNS)
      .where('dataset_id', '=', dataset.id)
      .orderBy('version')
      .execute();
    return rows.map((row) => toVersion(row, dataset.name));
  }

  async getProfile(dataset: Dataset, version: number): Promise<DatasetProfile | undefined> {
    const row = await this.db
      .selectFrom('data_dataset_versions')
      .select('profile')
      .where('dataset_id', '=', dataset.id)
      .where('version', '=', version)
      .executeTakeFirst();
    return row?.profile == null ? undefined : (JSON.parse(row.profile) as DatasetProfile);
  }

  async countBlobReferences(blobKey: string): Promise<number> {
    const row = await this.db
      .selectFrom('data_dataset_versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('blob_key', '=', blobKey)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
