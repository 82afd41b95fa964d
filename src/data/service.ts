import { createReadStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { hexId, KilnError, type RequestContext } from '../core/index.js';
import { type BlobStore, decodeKeysetToken, encodeKeysetToken, nowIso } from '../store/index.js';
import { type AppendColumnsInput, appendColumnsInSession, checkAppendInput, checkReadable } from './append-columns.js';
import {
  checkDescription,
  checkName,
  checkReadOptions,
  checkTags,
  DATASET_NAME_PATTERN,
  duckMessage,
  positive,
} from './checks.js';
import { type ColumnarTable, readColumns } from './columns.js';
import { parseDeriveQuery, rewriteReferences } from './derive.js';
import { describeParquet, type ParquetDescription } from './describe.js';
import { DEFAULT_DUCK_LIMITS, type DuckLimits, type DuckSession, withDuckSession } from './duck.js';
import { VersionFiles, writeLimited } from './files.js';
import { formatFromPath, type IngestOptions, ingestFile, sha256File } from './ingest.js';
import { type DataLineage, walkLineage } from './lineage.js';
import type {
  DataFormat,
  Dataset,
  DatasetProfile,
  DatasetVersion,
  SchemaDiff,
  SourceKind,
  SuiteAttachment,
} from './model.js';
import {
  type CreateDatasetInput,
  type DatasetPage,
  type DatasetServiceOptions,
  type DeriveVersionInput,
  datasetBlobKey,
  type IngestVersionInput,
  type ReadOptions,
  type UploadVersionInput,
} from './operations.js';
import { applyPiiPolicy, type PiiReport, scanPii } from './pii.js';
import { stepSource } from './provenance.js';
import {
  checkPage,
  convertParquet,
  DOWNLOAD_TYPES,
  type DownloadFormat,
  type RowsPage,
  readRows,
  type VersionDownload,
} from './reads.js';
import { diffSchemas, quoteLiteral } from './schema.js';
import { checkSplitSpec, type SplitPart, splitQueries } from './split.js';
import type { DatasetStore, NewVersion } from './store.js';
import { foreignReferences, runSuite, type SuiteDefinition, type ValidationReport } from './validation/index.js';

export const DEFAULT_DATASET_PAGE = 100;
export const MAX_DATASET_PAGE = 1000;

/** Made content, ready to be recorded as a version. */
interface Made {
  parquetPath: string;
  digest: string;
  blobKey: string;
  sourceKind: SourceKind;
  source: string;
  format: DataFormat;
  description: ParquetDescription;
  inputs: NewVersion['inputs'];
}

/**
 * Datasets and their content-addressed versions. Every way of making a version — ingesting a file
 * on the server, an upload, an SQL query over earlier versions, a split — ends in one place
 * ({@link DatasetService.record}) that validates the content against the dataset's attached suite,
 * stores its Parquet in the blob store only when no object holds that content yet, and records the
 * version with its lineage. If validation or recording fails, a blob this call created is removed
 * again, so a failed ingest leaves neither a version nor an orphan blob. Ingesting into a dataset
 * requires it to exist (a typo must not fork the history); derive and split create their targets.
 *
 * @example
 * const data = new DatasetService(new KyselyDatasetStore(database), blobs);
 * await data.create(ctx, { name: 'penguins' });
 * const v1 = await data.ingestVersion(ctx, 'penguins', { path: 'penguins.json' });
 * const adults = await data.derive(ctx, 'heavy-penguins', { sql: 'select * from dataset(\'penguins\', 1) where "Body Mass (g)" > 4000' });
 */
export class DatasetService {
  private readonly files: VersionFiles;
  private readonly duck: DuckLimits;

  constructor(
    private readonly store: DatasetStore,
    private readonly blobs: BlobStore,
    private readonly options: DatasetServiceOptions = {},
  ) {
    this.files = new VersionFiles(blobs, options.cacheDir ?? join(tmpdir(), 'kiln-dataset-cache'));
    this.duck = options.duck ?? DEFAULT_DUCK_LIMITS;
  }

  async create(ctx: RequestContext, input: CreateDatasetInput): Promise<Dataset> {
    const name = checkName(input.name);
    const description = checkDescription(input.description ?? '');
    const now = nowIso();
    const dataset: Dataset = {
      id: hexId(),
      workspace: ctx.workspace,
      name,
      description,
      tags: checkTags(input.tags),
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.store.insertDataset(dataset))) {
      throw new KilnError('RESOURCE_ALREADY_EXISTS', `dataset '${name}' already exists`, { name });
    }
    return dataset;
  }

  async get(ctx: RequestContext, name: string): Promise<Dataset> {
    const dataset = await this.store.getDataset(ctx.workspace, checkName(name));
    if (dataset === undefined)
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `dataset '${name}' does not exist`, { name });
    return dataset;
  }

  /** One page of the workspace's datasets in name order; pass `nextPageToken` back for the next. */
  async list(ctx: RequestContext, options: { maxResults?: number; pageToken?: string } = {}): Promise<DatasetPage> {
    const limit = options.maxResults ?? DEFAULT_DATASET_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DATASET_PAGE) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `max_results must be an integer from 1 to ${MAX_DATASET_PAGE}`, {
        field: 'max_results',
        value: limit,
      });
    }
    const after =
      options.pageToken === undefined
        ? undefined
        : decodeKeysetToken(options.pageToken, 'page_token', (name) => DATASET_NAME_PATTERN.test(name));
    // One row past the page tells whether another follows.
    const rows = await this.store.listDatasets(ctx.workspace, limit + 1, after);
    const datasets = rows.slice(0, limit);
    const last = datasets.at(-1);
    if (rows.length > limit && last !== undefined) return { datasets, nextPageToken: encodeKeysetToken(last.name) };
    return { datasets };
  }

  /** Changes a dataset's description and/or tags (tags are replaced as a whole); versions never change. */
  async update(
    ctx: RequestContext,
    name: string,
    changes: { description?: string; tags?: Record<string, string> },
  ): Promise<Dataset> {
    const dataset = await this.get(ctx, name);
    return this.store.updateDataset(dataset, {
      description: changes.description === undefined ? dataset.description : checkDescription(changes.description),
      tags: changes.tags === undefined ? dataset.tags : checkTags(changes.tags),
      updatedAt: nowIso(),
    });
  }

  /**
   * Attaches a validation suite (a pinned version, or always the latest when `version` is absent):
   * from now on every new version of the dataset is validated before it is recorded.
   */
  async attachSuite(ctx: RequestContext, name: string, suite: SuiteAttachment): Promise<Dataset> {
    const dataset = await this.get(ctx, name);
    const found = await this.store.getSuite(ctx.workspace, suite.name, suite.version);
    if (found === undefined) {
      const which = suite.version === undefined ? '' : ` version ${suite.version}`;
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `suite '${suite.name}'${which} does not exist`, {
        field: 'suite',
        suite: suite.name,
      });
    }
    return this.store.setSuite(dataset, suite, nowIso());
  }

  async detachSuite(ctx: RequestContext, name: string): Promise<Dataset> {
    return this.store.setSuite(await this.get(ctx, name), undefined, nowIso());
  }

  /** Reads a file on the server's file system as the next version. */
  async ingestVersion(ctx: RequestContext, name: string, input: IngestVersionInput): Promise<DatasetVersion> {
    const dataset = await this.get(ctx, name);
    if (typeof input.path !== 'string') {
      throw new KilnError('INVALID_PARAMETER_VALUE', 'path must be a string', { field: 'path' });
    }
    checkReadOptions(input);
    return this.ingestLocal(ctx, dataset, input.path, input, 'path', input.path);
  }

  /**
   * Streams an upload to a private temporary file, then ingests it like a file on the server.
   * The body never sits in memory whole; the temporary file is gone when this settles.
   */
  async ingestUpload(ctx: RequestContext, name: string, input: UploadVersionInput): Promise<DatasetVersion> {
    const dataset = await this.get(ctx, name);
    checkReadOptions(input);
    const filename = input.filename ?? 'upload';
    const format = input.format ?? formatFromPath(filename);
    if (format === undefined) {
      input.body.resume();
      throw new KilnError('INVALID_PARAMETER_VALUE', `cannot tell the format of '${filename}'; name it`, {
        field: 'format',
      });
    }
    const dir = await mkdtemp(join(tmpdir(), 'kiln-upload-'));
    try {
      const path = join(dir, `upload${extname(filename).toLowerCase() || `.${format}`}`);
      await writeLimited(input.body, path, input.maxBytes);
      return await this.ingestLocal(ctx, dataset, path, { ...input, format }, 'upload', filename);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async ingestLocal(
    ctx: RequestContext,
    dataset: Dataset,
    path: string,
    read: ReadOptions,
    sourceKind: SourceKind,
    source: string,
  ): Promise<DatasetVersion> {
    const options: IngestOptions = { duck: this.duck };
    if (read.format !== undefined) options.format = read.format;
    if (read.csv !== undefined) options.csv = read.csv;
    if (this.options.categorical !== undefined) options.categorical = this.options.categorical;
    const file = await ingestFile(path, options);
    try {
      return await this.record(ctx, dataset, {
        parquetPath: file.parquetPath,
        digest: file.digest,
        blobKey: datasetBlobKey(file.digest, sourceKind === 'upload' ? source : file.path, read),
        sourceKind,
        source: sourceKind === 'path' ? file.path : source,
        format: file.format,
        description: { rowCount: file.rowCount, schema: file.schema, profile: file.profile },
        inputs: [],
      });
    } finally {
      await file.dispose();
    }
  }

  /**
   * Runs an SQL query over earlier versions — `dataset('flights', 3)`, or `dataset('flights')` for
   * the latest — in a locked-down DuckDB session and records the result as the next version of
   * `target` (created when missing), with lineage to every version it read. An optional PII policy
   * masks, hashes or drops columns of the result before it is stored.
   */
  async derive(ctx: RequestContext, target: string, input: DeriveVersionInput): Promise<DatasetVersion> {
    checkName(target);
    const { sql, references } = parseDeriveQuery(input.sql);
    const resolved = await Promise.all(
      references.map(async (reference) => {
        const dataset = await this.get(ctx, reference.dataset);
        return { dataset, version: await this.resolveVersion(dataset, reference.version, 'sql') };
      }),
    );
    return withDuckSession(this.duck, async (session) => {
      for (const [i, { version }] of resolved.entries()) {
        await session.view(`kiln_input_${i}`, await this.files.path(version.blobKey));
      }
      await session.lockDown();
      const query = rewriteReferences(sql, references, (_reference, i) => `kiln_input_${i}`);
      let output = session.path('derived.parquet');
      try {
        // Newlines keep a trailing `-- comment` in the query from swallowing the closing parenthesis.
        await session.connection.run(`copy (\n${query}\n) to ${quoteLiteral(output)} (format parquet)`);
      } catch (err) {
        throw new KilnError('INVALID_PARAMETER_VALUE', `sql failed: ${duckMessage(err)}`, { field: 'sql' });
      }
      let description = await describeParquet(session.connection, output, this.options.categorical);
      if (input.pii !== undefined) {
        const treated = session.path('pii.parquet');
        if (await applyPiiPolicy(session.connection, output, description.schema, input.pii, treated)) output = treated;
        description = await describeParquet(session.connection, output, this.options.categorical);
      }
      const digest = await sha256File(output);
      const inputs = new Map<string, NewVersion['inputs'][number]>();
      for (const { dataset, version } of resolved) {
        const key = `${dataset.id}@${version.version}`;
        inputs.set(key, { datasetId: dataset.id, dataset: dataset.name, version: version.version, role: 'sql' });
      }
      return this.record(ctx, await this.getOrCreate(ctx, target), {
        parquetPath: output,
        digest,
        blobKey: `datasets/sha256/${digest}.parquet`,
        sourceKind: 'sql',
        source: sql,
        format: 'parquet',
        description,
        inputs: [...inputs.values()],
      });
    });
  }

  /**
   * Splits a version into train / validation / test parts, each recorded as the next version of
   * `<name>.train`, `<name>.validation` and `<name>.test` (created when missing) with lineage to
   * the source. The same source and spec always give the same rows, so the same digests.
   */
  async split(
    ctx: RequestContext,
    name: string,
    version: number,
    spec: unknown,
  ): Promise<Partial<Record<SplitPart, DatasetVersion>>> {
    const dataset = await this.get(ctx, name);
    const source = await this.resolveVersion(dataset, version, 'version');
    const checked = checkSplitSpec(spec, source.schema);
    const path = await this.files.path(source.blobKey);
    return withDuckSession(this.duck, async (session) => {
      await session.view('kiln_source', path);
      await session.lockDown();
      const queries = splitQueries(path, source.schema, checked);
      const made: Partial<Record<SplitPart, DatasetVersion>> = {};
      for (const part of ['train', 'validation', 'test'] as const) {
        if (checked.fractions[part] === 0) continue;
        const output = session.path(`${part}.parquet`);
        await session.connection.run(`copy (${queries[part]}) to ${quoteLiteral(output)} (format parquet)`);
        const description = await describeParquet(session.connection, output, this.options.categorical);
        const digest = await sha256File(output);
        made[part] = await this.record(ctx, await this.getOrCreate(ctx, `${name}.${part}`), {
          parquetPath: output,
          digest,
          blobKey: `datasets/sha256/${digest}.parquet`,
          sourceKind: 'split',
          source: JSON.stringify({ dataset: name, version: source.version, part, ...checked }),
          format: 'parquet',
          description,
          inputs: [{ datasetId: dataset.id, dataset: name, version: source.version, role: `split:${part}` }],
        });
      }
      return made;
    });
  }

  /**
   * Records version `input.version` of `input.dataset` with columns computed chunk by chunk (see
   * {@link AppendColumnsInput}) as the next version of `target` (created when missing), with lineage
   * to the input and the step's provenance as its source. Nothing is recorded if reading, computing
   * or validation fails. The Parquet leaves the DuckDB session before recording, so a suite check
   * never waits for a second session while this one is held.
   */
  async appendColumns(ctx: RequestContext, target: string, input: AppendColumnsInput): Promise<DatasetVersion> {
    checkName(target, 'target');
    checkAppendInput(input);
    const dataset = await this.get(ctx, input.dataset);
    const source = await this.resolveVersion(dataset, positive(input.version, 'version'), 'version');
    checkReadable(source.schema, input.read);
    const path = await this.files.path(source.blobKey);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-append-'));
    try {
      const parquetPath = join(dir, 'appended.parquet');
      const description = await withDuckSession(this.duck, async (session) => {
        await session.view('kiln_data', path);
        await session.lockDown();
        const output = session.path('appended.parquet');
        await appendColumnsInSession(session.connection, 'kiln_data', source.schema, input, output);
        const described = await describeParquet(session.connection, output, this.options.categorical);
        await rename(output, parquetPath);
        return described;
      });
      const digest = await sha256File(parquetPath);
      return await this.record(ctx, await this.getOrCreate(ctx, target), {
        parquetPath,
        digest,
        blobKey: `datasets/sha256/${digest}.parquet`,
        sourceKind: 'step',
        source: stepSource(input.provenance),
        format: 'parquet',
        description,
        inputs: [{ datasetId: dataset.id, dataset: dataset.name, version: source.version, role: input.role }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The one way a version comes to exist: validate against the attached suite (an `error`-level
   * failure rejects it with VALIDATION_FAILED and the report), store the Parquet once per content,
   * record the version with its profile, report and lineage.
   */
  private async record(ctx: RequestContext, dataset: Dataset, made: Made): Promise<DatasetVersion> {
    let validation: ValidationReport | undefined;
    if (dataset.suite !== undefined) {
      const suite = await this.store.getSuite(ctx.workspace, dataset.suite.name, dataset.suite.version);
      if (suite === undefined) {
        throw new KilnError(
          'INVALID_STATE',
          `dataset '${dataset.name}' has suite '${dataset.suite.name}' attached, which does not exist`,
          {
            suite: dataset.suite.name,
          },
        );
      }
      validation = await this.runSuiteOn(ctx, made.parquetPath, made.description, suite.definition);
      validation.suite_version = suite.version;
      if (!validation.success) {
        const failed = validation.results.filter((r) => !r.success && r.level === 'error').map((r) => r.type);
        throw new KilnError(
          'VALIDATION_FAILED',
          `new version of '${dataset.name}' failed ${validation.errors} error-level expectation(s) of suite '${suite.name}' (${failed.join(', ')}); nothing was recorded`,
          { dataset: dataset.name, report: validation },
        );
      }
    }
    const created = (await this.blobs.stat(made.blobKey)) === undefined;
    if (created) {
      await this.blobs.put(made.blobKey, createReadStream(made.parquetPath), { contentType: DOWNLOAD_TYPES.parquet });
    }
    let recorded: DatasetVersion;
    try {
      recorded = await this.store.appendVersion({
        datasetId: dataset.id,
        datasetName: dataset.name,
        digest: made.digest,
        blobKey: made.blobKey,
        sourceKind: made.sourceKind,
        source: made.source,
        format: made.format,
        rowCount: made.description.rowCount,
        columnCount: made.description.schema.columns.length,
        schema: made.description.schema,
        profile: made.description.profile,
        inputs: made.inputs,
        ...(validation === undefined ? {} : { validation }),
        createdAt: nowIso(),
        createdBy: ctx.actor,
      });
    } catch (err) {
      if (created && (await this.store.countBlobReferences(made.blobKey).catch(() => 1)) === 0) {
        await this.blobs.delete(made.blobKey).catch(() => false);
      }
      throw err;
    }
    // A concurrent ingest of the same bytes that failed to record may have removed the object this
    // version found in place; the local copy is still here, so put it back.
    if (!created && (await this.blobs.stat(made.blobKey)) === undefined) {
      await this.blobs.put(made.blobKey, createReadStream(made.parquetPath), { contentType: DOWNLOAD_TYPES.parquet });
    }
    return recorded;
  }

  /** Runs `suite` over a Parquet file in a locked-down session, with the datasets it refers to as views. */
  private async runSuiteOn(
    ctx: RequestContext,
    parquetPath: string,
    description: Pick<ParquetDescription, 'schema'>,
    suite: SuiteDefinition,
  ): Promise<ValidationReport> {
    const references = foreignReferences(suite);
    const foreignFiles = await Promise.all(
      references.map(async (reference) => {
        const dataset = await this.get(ctx, reference.dataset);
        const version = await this.resolveVersion(dataset, reference.version, 'suite');
        return this.files.path(version.blobKey);
      }),
    );
    return withDuckSession(this.duck, async (session) => {
      await session.view('kiln_data', parquetPath);
      for (const [i, path] of foreignFiles.entries()) await session.view(`kiln_foreign_${i}`, path);
      await session.lockDown();
      const views = new Map(references.map((reference, i) => [foreignKey(reference), `kiln_foreign_${i}`]));
      return runSuite(
        session.connection,
        {
          relation: 'kiln_data',
          schema: description.schema,
          foreign: (reference) => views.get(foreignKey(reference)) ?? 'kiln_missing_foreign',
        },
        suite,
      );
    });
  }

  /** Validates an existing version against a suite without recording anything. */
  async validate(
    ctx: RequestContext,
    name: string,
    version: number,
    suite: SuiteDefinition,
  ): Promise<ValidationReport> {
    const found = await this.getVersion(ctx, name, version);
    return this.runSuiteOn(ctx, await this.files.path(found.blobKey), found, suite);
  }

  /** Which string columns of a version look like personal data, and how much of each. */
  scanPii(ctx: RequestContext, name: string, version: number, threshold?: number): Promise<PiiReport> {
    return this.withVersion(ctx, name, version, ({ connection }, found) =>
      scanPii(connection, 'kiln_data', found.schema, threshold === undefined ? {} : { threshold }),
    );
  }

  /**
   * Columns of a version as typed arrays (see {@link readColumns}): what training loads, never
   * as row objects.
   */
  readColumns(
    ctx: RequestContext,
    name: string,
    version: number,
    options: { columns?: readonly string[]; maxCategories?: number } = {},
  ): Promise<ColumnarTable> {
    return this.withVersion(ctx, name, version, ({ connection }, found) =>
      readColumns(connection, 'kiln_data', found.schema, options),
    );
  }

  /** Rows `offset` to `offset + limit` of a version, in file order. */
  async preview(
    ctx: RequestContext,
    name: string,
    version: number,
    page: { offset?: number; limit?: number } = {},
  ): Promise<RowsPage> {
    const { offset, limit } = checkPage(page);
    return this.withVersion(ctx, name, version, async ({ connection }, found) => ({
      ...(await readRows(connection, 'kiln_data', offset, limit)),
      offset,
      total: found.rowCount,
    }));
  }

  /** A version's content: its stored Parquet as is, or converted to CSV or NDJSON by DuckDB. */
  async download(ctx: RequestContext, name: string, version: number, format: DownloadFormat): Promise<VersionDownload> {
    const found = await this.getVersion(ctx, name, version);
    const filename = `${found.datasetName}-v${found.version}.${format}`;
    if (DOWNLOAD_TYPES[format] === undefined) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `format must be one of ${Object.keys(DOWNLOAD_TYPES).join(', ')}`,
        {
          field: 'format',
        },
      );
    }
    if (format === 'parquet') {
      return { stream: await this.blobs.get(found.blobKey), contentType: DOWNLOAD_TYPES.parquet, filename };
    }
    return convertParquet(await this.files.path(found.blobKey), format, filename, this.duck);
  }

  /**
   * Runs `work` on a version's content as the view `kiln_data` of a locked-down session: every
   * read of a version (PII scan, columns, preview) goes through here.
   */
  private async withVersion<T>(
    ctx: RequestContext,
    name: string,
    version: number,
    work: (session: DuckSession, found: DatasetVersion) => Promise<T>,
  ): Promise<T> {
    const found = await this.getVersion(ctx, name, version);
    const path = await this.files.path(found.blobKey);
    return withDuckSession(this.duck, async (session) => {
      await session.view('kiln_data', path);
      await session.lockDown();
      return work(session, found);
    });
  }

  /**
   * The lineage of a version inside the data context: every version it was derived from (and
   * theirs), and every version derived from it (and from those), as nodes and edges.
   */
  async lineage(ctx: RequestContext, name: string, version: number): Promise<DataLineage> {
    return walkLineage(await this.getVersion(ctx, name, version), {
      version: (dataset, v) => this.getVersion(ctx, dataset, v),
      derived: async (dataset, v) => this.store.listDerived(await this.get(ctx, dataset), v),
    });
  }

  async getVersion(ctx: RequestContext, name: string, version: number): Promise<DatasetVersion> {
    const dataset = await this.get(ctx, name);
    return this.resolveVersion(dataset, positive(version, 'version'), 'version');
  }

  async listVersions(ctx: RequestContext, name: string): Promise<DatasetVersion[]> {
    return this.store.listVersions(await this.get(ctx, name));
  }

  /** The profile stored with a version; RESOURCE_DOES_NOT_EXIST for versions recorded before profiles. */
  async getProfile(ctx: RequestContext, name: string, version: number): Promise<DatasetProfile> {
    const dataset = await this.get(ctx, name);
    const found = await this.resolveVersion(dataset, positive(version, 'version'), 'version');
    const profile = await this.store.getProfile(dataset, found.version);
    if (profile === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `dataset '${name}' version ${version} has no profile`, {
        name,
        version,
      });
    }
    return profile;
  }

  /** The schema change from version `a` to version `b` of one dataset. */
  async diff(ctx: RequestContext, name: string, a: number, b: number): Promise<SchemaDiff> {
    const [from, to] = await Promise.all([this.getVersion(ctx, name, a), this.getVersion(ctx, name, b)]);
    return diffSchemas(from.schema, to.schema);
  }

  /** A version of `dataset`, or its latest when `version` is undefined; 404 naming `field` otherwise. */
  private async resolveVersion(dataset: Dataset, version: number | undefined, field: string): Promise<DatasetVersion> {
    const found =
      version === undefined
        ? (await this.store.listVersions(dataset)).at(-1)
        : await this.store.getVersion(dataset, version);
    if (found === undefined) {
      const which = version === undefined ? 'no versions' : `no version ${version}`;
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `dataset '${dataset.name}' has ${which}`, {
        field,
        name: dataset.name,
        ...(version === undefined ? {} : { version }),
      });
    }
    return found;
  }

  private async getOrCreate(ctx: RequestContext, name: string): Promise<Dataset> {
    const found = await this.store.getDataset(ctx.workspace, checkName(name));
    if (found !== undefined) return found;
    try {
      return await this.create(ctx, { name });
    } catch (err) {
      // Another request created it first.
      if (err instanceof KilnError && err.code === 'RESOURCE_ALREADY_EXISTS') return this.get(ctx, name);
      throw err;
    }
  }
}

function foreignKey(reference: { dataset: string; version?: number }): string {
  return `${reference.dataset}@${reference.version ?? 'latest'}`;
}
