import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { hexId, KilnError, type RequestContext } from '../core/index.js';
import { type BlobStore, decodeKeysetToken, encodeKeysetToken, nowIso } from '../store/index.js';
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
  CsvOptions,
  DataFormat,
  Dataset,
  DatasetProfile,
  DatasetVersion,
  SchemaDiff,
  SourceKind,
  SuiteAttachment,
} from './model.js';
import { type PiiAction, type PiiReport, piiProjection, scanPii } from './pii.js';
import { type CategoricalLimits, diffSchemas, quoteLiteral } from './schema.js';
import { checkSplitSpec, type SplitPart, splitQueries } from './split.js';
import type { DatasetStore, NewVersion } from './store.js';
import { foreignReferences, runSuite, type SuiteDefinition, type ValidationReport } from './validation/index.js';

export const DEFAULT_DATASET_PAGE = 100;
export const MAX_DATASET_PAGE = 1000;
/** Most rows one preview page returns. */
export const MAX_PREVIEW_ROWS = 1000;

/** A page of {@link DatasetService.list}. */
export interface DatasetPage {
  datasets: Dataset[];
  /** Present when more datasets follow. */
  nextPageToken?: string;
}

export interface CreateDatasetInput {
  name: string;
  description?: string;
  tags?: Record<string, string>;
}

/** How to read a source file; anything left out is inferred. */
export interface ReadOptions {
  format?: DataFormat;
  csv?: CsvOptions;
}

/** A local file to register as the next version. */
export interface IngestVersionInput extends ReadOptions {
  path: string;
}

/** An upload to register as the next version: the body is streamed to disk, never held in memory. */
export interface UploadVersionInput extends ReadOptions {
  body: Readable;
  /** The client's file name: recorded as the source and, without `format`, tells the format. */
  filename?: string;
  /** Bytes beyond this abort the upload with PAYLOAD_TOO_LARGE. */
  maxBytes: number;
}

/** A PII policy applied to a derived version: mask, hash or drop the named (or the flagged) columns. */
export interface PiiPolicy {
  action: PiiAction;
  /** Columns to treat; when absent, every column the scan flags. */
  columns?: string[];
  /** Share of matching values from which the scan flags a column; default that of {@link scanPii}. */
  threshold?: number;
}

/** An SQL query over earlier versions whose result becomes the next version of the target dataset. */
export interface DeriveVersionInput {
  sql: string;
  pii?: PiiPolicy;
}

/** One page of rows of a version, in file order. */
export interface RowsPage {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  offset: number;
  total: number;
}

/** Formats a version can be downloaded in: its stored Parquet, or a conversion. */
export type DownloadFormat = 'parquet' | 'csv' | 'ndjson';

/** A download: a stream of the file and how to describe it. */
export interface VersionDownload {
  stream: Readable;
  contentType: string;
  filename: string;
}

export interface DatasetServiceOptions {
  categorical?: CategoricalLimits;
  /** Where copies of remote (S3) version files are cached; default `<tmpdir>/kiln-dataset-cache`. */
  cacheDir?: string;
  duck?: DuckLimits;
}

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

const DOWNLOAD_TYPES: Record<DownloadFormat, string> = {
  parquet: 'application/vnd.apache.parquet',
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/**
 * The blob key of a source's Parquet form. Identical bytes read the same way share one key; reading
 * them another way (explicit format or CSV overrides) can produce different Parquet, so those
 * readings get a suffix instead of silently reusing the first reading's columns.
 */
export function datasetBlobKey(digest: string, path: string, input: ReadOptions): string {
  const implicit = (input.format === undefined || input.format === formatFromPath(path)) && input.csv === undefined;
  if (implicit) return `datasets/sha256/${digest}.parquet`;
  const reading = JSON.stringify({ format: input.format ?? formatFromPath(path), csv: input.csv ?? null });
  const suffix = createHash('sha256').update(reading).digest('hex').slice(0, 16);
  return `datasets/sha256/${digest}-${suffix}.parquet`;
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
        output = await this.applyPiiPolicy(session, output, description, input.pii);
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

  private async applyPiiPolicy(
    session: DuckSession,
    parquetPath: string,
    description: ParquetDescription,
    policy: PiiPolicy,
  ): Promise<string> {
    let columns = policy.columns;
    if (columns === undefined) {
      const relation = `read_parquet(${quoteLiteral(parquetPath)})`;
      const options = policy.threshold === undefined ? {} : { threshold: policy.threshold };
      const report = await scanPii(session.connection, relation, description.schema, options);
      columns = [...new Set(report.columns.filter((finding) => finding.flagged).map((finding) => finding.column))];
      if (columns.length === 0) return parquetPath;
    }
    const projection = piiProjection(description.schema, { action: policy.action, columns });
    const output = session.path('pii.parquet');
    await session.connection.run(
      `copy (select ${projection} from read_parquet(${quoteLiteral(parquetPath)})) to ${quoteLiteral(output)} (format parquet)`,
    );
    return output;
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
  async scanPii(ctx: RequestContext, name: string, version: number, threshold?: number): Promise<PiiReport> {
    const found = await this.getVersion(ctx, name, version);
    const path = await this.files.path(found.blobKey);
    return withDuckSession(this.duck, async (session) => {
      await session.view('kiln_data', path);
      await session.lockDown();
      return scanPii(session.connection, 'kiln_data', found.schema, threshold === undefined ? {} : { threshold });
    });
  }

  /**
   * Columns of a version as typed arrays (see {@link readColumns}): what training loads, never
   * as row objects. Reads run in a locked-down session like every other read.
   */
  async readColumns(
    ctx: RequestContext,
    name: string,
    version: number,
    options: { columns?: readonly string[]; maxCategories?: number } = {},
  ): Promise<ColumnarTable> {
    const found = await this.getVersion(ctx, name, version);
    const path = await this.files.path(found.blobKey);
    return withDuckSession(this.duck, async (session) => {
      await session.view('kiln_data', path);
      await session.lockDown();
      return readColumns(session.connection, 'kiln_data', found.schema, options);
    });
  }

  /** Rows `offset` to `offset + limit` of a version, in file order. */
  async preview(
    ctx: RequestContext,
    name: string,
    version: number,
    page: { offset?: number; limit?: number } = {},
  ): Promise<RowsPage> {
    const offset = page.offset ?? 0;
    const limit = page.limit ?? 100;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `offset must be a non-negative integer, got ${offset}`, {
        field: 'offset',
      });
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW_ROWS) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `limit must be an integer from 1 to ${MAX_PREVIEW_ROWS}`, {
        field: 'limit',
      });
    }
    const found = await this.getVersion(ctx, name, version);
    const path = await this.files.path(found.blobKey);
    return withDuckSession(this.duck, async (session) => {
      await session.view('kiln_data', path);
      await session.lockDown();
      const result = await session.connection.runAndReadAll(`select * from kiln_data limit ${limit} offset ${offset}`);
      const names = result.columnNames();
      const types = result.columnTypes().map(String);
      // DuckDB renders 64-bit integers as strings to stay exact; safe ones read better as numbers.
      const integers = names.filter((_, i) => /^U?(BIGINT|HUGEINT)$/.test(types[i] ?? ''));
      const rows = result.getRowObjectsJson() as Record<string, unknown>[];
      for (const row of rows) {
        for (const column of integers) {
          const value = row[column];
          if (typeof value === 'string' && Number.isSafeInteger(Number(value))) row[column] = Number(value);
        }
      }
      return {
        columns: names.map((column, i) => ({ name: column, type: types[i] ?? '' })),
        rows,
        offset,
        total: found.rowCount,
      };
    });
  }

  /** A version's content: its stored Parquet as is, or converted to CSV or NDJSON by DuckDB. */
  async download(ctx: RequestContext, name: string, version: number, format: DownloadFormat): Promise<VersionDownload> {
    const found = await this.getVersion(ctx, name, version);
    const filename = `${found.datasetName}-v${found.version}.${format}`;
    const contentType = DOWNLOAD_TYPES[format];
    if (contentType === undefined) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `format must be one of ${Object.keys(DOWNLOAD_TYPES).join(', ')}`,
        {
          field: 'format',
        },
      );
    }
    if (format === 'parquet') return { stream: await this.blobs.get(found.blobKey), contentType, filename };
    const path = await this.files.path(found.blobKey);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-download-'));
    const output = join(dir, filename);
    try {
      await withDuckSession(this.duck, async (session) => {
        const options = format === 'csv' ? '(format csv, header true)' : '(format json)';
        await session.connection.run(
          `copy (select * from read_parquet(${quoteLiteral(path)})) to ${quoteLiteral(output)} ${options}`,
        );
      });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const stream = createReadStream(output);
    stream.once('close', () => void rm(dir, { recursive: true, force: true }));
    return { stream, contentType, filename };
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
