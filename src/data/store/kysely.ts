import type { Kysely } from 'kysely';
import { type Database, type FoundationTables, isUniqueViolation } from '../../store/index.js';
import type {
  DataFormat,
  Dataset,
  DatasetProfile,
  DatasetVersion,
  DerivedVersion,
  SourceKind,
  SuiteAttachment,
  SuiteVersion,
  VersionInput,
} from '../model.js';
import type { DatasetStore, NewVersion } from '../store.js';
import type { ValidationReport } from '../validation/index.js';

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
    suite_name: string | null;
    suite_version: number | null;
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
    /** JSON {@link ValidationReport}; null when no suite was attached at ingest. */
    validation: string | null;
  };
  data_version_inputs: {
    dataset_id: string;
    version: number;
    input_dataset_id: string;
    input_version: number;
    role: string;
  };
  data_suites: {
    workspace: string;
    name: string;
    version: number;
    description: string;
    definition: string;
    created_at: string;
    created_by: string;
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
  'validation',
] as const;

function toDataset(row: DatasetRow): Dataset {
  return {
    id: row.id,
    workspace: row.workspace,
    name: row.name,
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    ...(row.suite_name === null
      ? {}
      : {
          suite:
            row.suite_version === null
              ? { name: row.suite_name }
              : { name: row.suite_name, version: row.suite_version },
        }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toVersion(row: Omit<VersionRow, 'profile'>, datasetName: string, inputs: VersionInput[]): DatasetVersion {
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
    inputs,
    ...(row.validation === null ? {} : { validation: JSON.parse(row.validation) as ValidationReport }),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toSuite(row: DataTables['data_suites']): SuiteVersion {
  return {
    workspace: row.workspace,
    name: row.name,
    version: Number(row.version),
    description: row.description,
    definition: JSON.parse(row.definition) as SuiteVersion['definition'],
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
        suite_name: dataset.suite?.name ?? null,
        suite_version: dataset.suite?.version ?? null,
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

  async updateDataset(
    dataset: Dataset,
    changes: Pick<Dataset, 'description' | 'tags' | 'updatedAt'>,
  ): Promise<Dataset> {
    await this.db
      .updateTable('data_datasets')
      .set({ description: changes.description, tags: JSON.stringify(changes.tags), updated_at: changes.updatedAt })
      .where('id', '=', dataset.id)
      .execute();
    return { ...dataset, ...changes };
  }

  async setSuite(dataset: Dataset, suite: SuiteAttachment | undefined, updatedAt: string): Promise<Dataset> {
    await this.db
      .updateTable('data_datasets')
      .set({ suite_name: suite?.name ?? null, suite_version: suite?.version ?? null, updated_at: updatedAt })
      .where('id', '=', dataset.id)
      .execute();
    const { suite: _previous, ...rest } = dataset;
    return suite === undefined ? { ...rest, updatedAt } : { ...rest, suite, updatedAt };
  }

  async appendVersion(version: NewVersion): Promise<DatasetVersion> {
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
            profile: version.profile === undefined ? null : JSON.stringify(version.profile),
            validation: version.validation === undefined ? null : JSON.stringify(version.validation),
          };
          await tx.insertInto('data_dataset_versions').values(row).execute();
          for (const input of version.inputs) {
            await tx
              .insertInto('data_version_inputs')
              .values({
                dataset_id: row.dataset_id,
                version: row.version,
                input_dataset_id: input.datasetId,
                input_version: input.version,
                role: input.role,
              })
              .execute();
          }
          return toVersion(
            row,
            version.datasetName,
            version.inputs.map(({ dataset, version: number, role }) => ({ dataset, version: number, role })),
          );
        });
      } catch (err) {
        if (attempt >= APPEND_ATTEMPTS || !isUniqueViolation(err)) throw err;
      }
    }
  }

  private async inputsOf(datasetId: string, versions: number[]): Promise<Map<number, VersionInput[]>> {
    const byVersion = new Map<number, VersionInput[]>();
    if (versions.length === 0) return byVersion;
    const rows = await this.db
      .selectFrom('data_version_inputs as i')
      .innerJoin('data_datasets as d', 'd.id', 'i.input_dataset_id')
      .select(['i.version', 'd.name', 'i.input_version', 'i.role'])
      .where('i.dataset_id', '=', datasetId)
      .where('i.version', 'in', versions)
      .orderBy('i.version')
      .orderBy('d.name')
      .orderBy('i.input_version')
      .execute();
    for (const row of rows) {
      const list = byVersion.get(Number(row.version)) ?? [];
      list.push({ dataset: row.name, version: Number(row.input_version), role: row.role });
      byVersion.set(Number(row.version), list);
    }
    return byVersion;
  }

  async getVersion(dataset: Dataset, version: number): Promise<DatasetVersion | undefined> {
    const row = await this.db
      .selectFrom('data_dataset_versions')
      .select(VERSION_COLUMNS)
      .where('dataset_id', '=', dataset.id)
      .where('version', '=', version)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const inputs = await this.inputsOf(dataset.id, [version]);
    return toVersion(row, dataset.name, inputs.get(version) ?? []);
  }

  async listVersions(dataset: Dataset): Promise<DatasetVersion[]> {
    const rows = await this.db
      .selectFrom('data_dataset_versions')
      .select(VERSION_COLUMNS)
      .where('dataset_id', '=', dataset.id)
      .orderBy('version')
      .execute();
    const derived = rows.filter((row) => row.source_kind !== 'path' && row.source_kind !== 'upload');
    const inputs = await this.inputsOf(
      dataset.id,
      derived.map((row) => Number(row.version)),
    );
    return rows.map((row) => toVersion(row, dataset.name, inputs.get(Number(row.version)) ?? []));
  }

  async listDerived(dataset: Dataset, version: number): Promise<DerivedVersion[]> {
    const rows = await this.db
      .selectFrom('data_version_inputs as i')
      .innerJoin('data_datasets as d', 'd.id', 'i.dataset_id')
      .select(['d.name', 'i.version', 'i.role'])
      .where('i.input_dataset_id', '=', dataset.id)
      .where('i.input_version', '=', version)
      .orderBy('d.name')
      .orderBy('i.version')
      .execute();
    return rows.map((row) => ({ dataset: row.name, version: Number(row.version), role: row.role }));
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

  async appendSuiteVersion(suite: Omit<SuiteVersion, 'version'>): Promise<SuiteVersion> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.database.transaction(async (trx) => {
          const tx = trx.withTables<DataTables>();
          const last = await tx
            .selectFrom('data_suites')
            .select((eb) => eb.fn.max('version').as('last'))
            .where('workspace', '=', suite.workspace)
            .where('name', '=', suite.name)
            .executeTakeFirst();
          const row: DataTables['data_suites'] = {
            workspace: suite.workspace,
            name: suite.name,
            version: Number(last?.last ?? 0) + 1,
            description: suite.description,
            definition: JSON.stringify(suite.definition),
            created_at: suite.createdAt,
            created_by: suite.createdBy,
          };
          await tx.insertInto('data_suites').values(row).execute();
          return toSuite(row);
        });
      } catch (err) {
        if (attempt >= APPEND_ATTEMPTS || !isUniqueViolation(err)) throw err;
      }
    }
  }

  async getSuite(workspace: string, name: string, version?: number): Promise<SuiteVersion | undefined> {
    let query = this.db
      .selectFrom('data_suites')
      .selectAll()
      .where('workspace', '=', workspace)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1);
    if (version !== undefined) query = query.where('version', '=', version);
    const row = await query.executeTakeFirst();
    return row === undefined ? undefined : toSuite(row);
  }

  async listSuites(workspace: string): Promise<SuiteVersion[]> {
    const rows = await this.db
      .selectFrom('data_suites as s')
      .selectAll('s')
      .where('s.workspace', '=', workspace)
      .where('s.version', '=', (eb) =>
        eb
          .selectFrom('data_suites as t')
          .select((inner) => inner.fn.max('t.version').as('v'))
          .whereRef('t.workspace', '=', 's.workspace')
          .whereRef('t.name', '=', 's.name'),
      )
      .orderBy('s.name')
      .execute();
    return rows.map(toSuite);
  }
}
