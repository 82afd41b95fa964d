import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { KilnError } from '../core/index.js';
import type { KilnClient } from './client.js';
import type {
  CsvOptions,
  DataFormat,
  DataSchema,
  Dataset,
  DatasetList,
  DatasetProfile,
  DatasetVersion,
  DatasetVersionSummary,
  Lineage,
  PiiReport,
  RowsPage,
  SchemaDiff,
  SplitResult,
  Suite,
  ValidationReport,
} from './types.js';

/**
 * Timeout of calls whose duration grows with the data (uploads, downloads, derive, split,
 * validate): none, since a 20 GB upload on a slow link is not a hung server. Cancel with `signal`.
 */
const UNLIMITED = 0;

/** How a file is read into a version; anything left out is inferred from the name and the content. */
export interface ReadFileOptions {
  format?: DataFormat;
  csv?: CsvOptions;
}

/** Options of {@link DataApi.uploadFile}. */
export interface UploadFileOptions extends ReadFileOptions {
  /** Called as bytes leave for the server, e.g. to draw a progress bar. */
  onProgress?: (sent: number, total: number) => void;
}

/** Options of {@link DataApi.listDatasets}. */
export interface ListDatasetsParams {
  /** 1 to 1000; default 100. */
  maxResults?: number;
  pageToken?: string;
}

/** How {@link DataApi.split} divides a version. Fractions sum to 1; a part of 0 is not made. */
export interface SplitSpec {
  /** `random`, `stratified` (by the label `column`) or `time` (ordered by the time `column`). */
  method: 'random' | 'stratified' | 'time';
  fractions: { train: number; validation: number; test: number };
  /** Random and stratified splits: the same seed gives the same rows. */
  seed?: number;
  column?: string;
}

/** Mask, hash or drop personal data in a derived version: the named columns, or those a scan flags. */
export interface PiiPolicy {
  action: 'mask' | 'hash' | 'drop';
  columns?: string[];
  /** Share of matching values from which the scan flags a column (0..1). */
  threshold?: number;
}

/** Which suite {@link DataApi.validate} runs: a saved one (latest, or `suiteVersion`) or an inline document. */
export type SuiteChoice = { suite: string; suiteVersion?: number } | { definition: unknown };

/** A suite document to save, as YAML text or as JSON; `name` supplies one the document lacks. */
export type SuiteDocument = { yaml: string; name?: string } | { definition: unknown; name?: string };

/** Options of {@link DataApi.download}. */
export interface DownloadOptions {
  /** `parquet` (the stored file, default), `csv` or `ndjson` (converted by the server). */
  format?: 'parquet' | 'csv' | 'ndjson';
  /** A local path, created or replaced (and removed again if the transfer fails), or a stream to write into. */
  to: string | Writable;
}

/**
 * `kiln.data`: datasets, their immutable content-addressed versions, validation suites and lineage
 * over `/api/v1/datasets` and `/api/v1/suites`. Uploads and downloads are streamed, so a file of
 * gigabytes never sits in memory on either side.
 *
 * @example
 * await kiln.data.createDataset('penguins', { description: 'Palmer penguins' });
 * const v = await kiln.data.uploadFile('penguins', 'data/penguins.json');
 * const { train, test } = await kiln.data.split('penguins', v.version, {
 *   method: 'stratified', column: 'Species', fractions: { train: 0.8, validation: 0, test: 0.2 }, seed: 7,
 * });
 * await kiln.data.download('penguins.train', train!.version, { format: 'csv', to: 'train.csv' });
 */
export class DataApi {
  constructor(private readonly client: KilnClient) {}

  async createDataset(
    name: string,
    options: { description?: string; tags?: Readonly<Record<string, string>> } = {},
  ): Promise<Dataset> {
    const body = { name, description: options.description, tags: options.tags };
    return (await this.client.request<{ dataset: Dataset }>('POST', '/api/v1/datasets', { body })).dataset;
  }

  /** Changes the description and/or replaces the tags of a dataset. */
  async updateDataset(
    name: string,
    changes: { description?: string; tags?: Readonly<Record<string, string>> },
  ): Promise<Dataset> {
    return (await this.client.request<{ dataset: Dataset }>('PATCH', datasetPath(name), { body: changes })).dataset;
  }

  async getDataset(name: string): Promise<Dataset> {
    return (await this.client.request<{ dataset: Dataset }>('GET', datasetPath(name))).dataset;
  }

  /** One page of datasets in name order. */
  listDatasets(params: ListDatasetsParams = {}): Promise<DatasetList> {
    return this.client.request<DatasetList>('GET', '/api/v1/datasets', {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Every version of a dataset in ascending order, without schemas. */
  async listVersions(name: string): Promise<DatasetVersionSummary[]> {
    const path = `${datasetPath(name)}/versions`;
    return (await this.client.request<{ versions: DatasetVersionSummary[] }>('GET', path)).versions;
  }

  async getVersion(name: string, version: number): Promise<DatasetVersion> {
    return (await this.client.request<{ version: DatasetVersion }>('GET', versionPath(name, version))).version;
  }

  /**
   * Uploads a local file as the next version of dataset `name` (which must exist), streamed from
   * disk as the request body; the file's base name tells the server the format unless `format`
   * does. Never retried: a POST that may have been stored must not be sent twice. Rejects with
   * VALIDATION_FAILED, the report in `details.report`, when the dataset's suite refuses it.
   */
  async uploadFile(name: string, localPath: string, options: UploadFileOptions = {}): Promise<DatasetVersion> {
    const total = await requireFile(localPath);
    const query = {
      filename: basename(localPath),
      format: options.format,
      delimiter: options.csv?.delimiter,
      header: options.csv?.header,
      quote: options.csv?.quote,
    };
    const created = await this.client.request<{ version: DatasetVersion }>(
      'POST',
      `${datasetPath(name)}/versions/upload`,
      {
        query,
        raw: {
          contentType: 'application/octet-stream',
          open: () => {
            const file = createReadStream(localPath);
            let sent = 0;
            if (options.onProgress !== undefined) {
              const report = options.onProgress;
              file.on('data', (chunk: Buffer | string) => {
                sent += chunk.length;
                report(sent, total);
              });
            }
            return Readable.toWeb(file) as ReadableStream<Uint8Array>;
          },
        },
        idempotent: false,
        timeoutMs: UNLIMITED,
      },
    );
    return created.version;
  }

  /** Ingests a file on the server's own file system as the next version; needs the `admin` permission. */
  async ingestServerPath(name: string, path: string, options: ReadFileOptions = {}): Promise<DatasetVersion> {
    const body = { path, format: options.format, csv: options.csv };
    const created = await this.client.request<{ version: DatasetVersion }>('POST', `${datasetPath(name)}/versions`, {
      body,
      timeoutMs: UNLIMITED,
    });
    return created.version;
  }

  /**
   * Records the result of one SELECT over earlier versions — `dataset('flights', 3)`, or
   * `dataset('flights')` for the latest — as the next version of `target`, created when missing.
   */
  async derive(target: string, sql: string, options: { pii?: PiiPolicy } = {}): Promise<DatasetVersion> {
    const path = `${datasetPath(target)}/derive`;
    const body = { sql, pii: options.pii };
    return (await this.client.request<{ version: DatasetVersion }>('POST', path, { body, timeoutMs: UNLIMITED }))
      .version;
  }

  /** Splits a version into the next versions of `<name>.train`, `<name>.validation` and `<name>.test`. */
  split(name: string, version: number, spec: SplitSpec): Promise<SplitResult> {
    return this.client.request<SplitResult>('POST', `${versionPath(name, version)}/split`, {
      body: spec,
      timeoutMs: UNLIMITED,
    });
  }

  async schema(name: string, version: number): Promise<DataSchema> {
    const path = `${versionPath(name, version)}/schema`;
    return (await this.client.request<{ schema: DataSchema }>('GET', path)).schema;
  }

  /** The per-column statistics computed when the version was recorded. */
  async profile(name: string, version: number): Promise<DatasetProfile> {
    const path = `${versionPath(name, version)}/profile`;
    return (await this.client.request<{ profile: DatasetProfile }>('GET', path)).profile;
  }

  /** Columns added, removed, retyped or changed in nullability from version `from` to `to`. */
  async diff(name: string, from: number, to: number): Promise<SchemaDiff> {
    const path = `${datasetPath(name)}/diff`;
    return (await this.client.request<{ diff: SchemaDiff }>('GET', path, { query: { from, to } })).diff;
  }

  /** One page of rows in file order (default the first 100; at most 1000 a page). */
  preview(name: string, version: number, page: { offset?: number; limit?: number } = {}): Promise<RowsPage> {
    return this.client.request<RowsPage>('GET', `${versionPath(name, version)}/rows`, {
      query: { offset: page.offset, limit: page.limit },
    });
  }

  /** Streams a version to a local file or a stream; resolves the bytes written. */
  async download(name: string, version: number, options: DownloadOptions): Promise<number> {
    const response = await this.client.stream('GET', `${versionPath(name, version)}/download`, {
      query: { format: options.format },
      timeoutMs: UNLIMITED,
    });
    const destination = typeof options.to === 'string' ? createWriteStream(options.to) : options.to;
    let bytes = 0;
    try {
      if (response.body !== null) {
        const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
        source.on('data', (chunk: Buffer) => {
          bytes += chunk.byteLength;
        });
        await pipeline(source, destination);
      } else destination.end();
    } catch (error) {
      if (typeof options.to === 'string') await rm(options.to, { force: true });
      throw error;
    }
    return bytes;
  }

  /** Runs a saved or inline suite against a version; nothing is recorded. */
  async validate(name: string, version: number, choice: SuiteChoice): Promise<ValidationReport> {
    const body =
      'suite' in choice
        ? { suite: choice.suite, suite_version: choice.suiteVersion }
        : { definition: choice.definition };
    const path = `${versionPath(name, version)}/validate`;
    const options = { body, idempotent: true, timeoutMs: UNLIMITED };
    return (await this.client.request<{ report: ValidationReport }>('POST', path, options)).report;
  }

  /** Which columns look like personal data; `threshold` (0..1) is the share from which one is flagged. */
  async scanPii(name: string, version: number, options: { threshold?: number } = {}): Promise<PiiReport> {
    const path = `${versionPath(name, version)}/pii`;
    return (await this.client.request<{ pii: PiiReport }>('GET', path, { query: { threshold: options.threshold } }))
      .pii;
  }

  /** Versions this one came from and was made into, the runs that used any of them, the models those produced. */
  async lineage(name: string, version: number): Promise<Lineage> {
    const path = `${versionPath(name, version)}/lineage`;
    return (await this.client.request<{ lineage: Lineage }>('GET', path)).lineage;
  }

  /**
   * Attaches a saved suite: every later version must pass its error-level expectations. Without
   * `version`, the suite's latest version at each ingest.
   */
  async attachSuite(name: string, suite: string, version?: number): Promise<Dataset> {
    const path = `${datasetPath(name)}/suite`;
    return (await this.client.request<{ dataset: Dataset }>('PUT', path, { body: { name: suite, version } })).dataset;
  }

  async detachSuite(name: string): Promise<Dataset> {
    return (await this.client.request<{ dataset: Dataset }>('DELETE', `${datasetPath(name)}/suite`)).dataset;
  }

  /** Saves a suite document as the next version of its suite. */
  async saveSuite(document: SuiteDocument): Promise<Suite> {
    return (await this.client.request<{ suite: Suite }>('POST', '/api/v1/suites', { body: document })).suite;
  }

  /** A suite's latest version, or `version`. */
  async getSuite(name: string, version?: number): Promise<Suite> {
    const path = `/api/v1/suites/${encodeURIComponent(name)}`;
    return (await this.client.request<{ suite: Suite }>('GET', path, { query: { version } })).suite;
  }

  /** The latest version of every suite, in name order. */
  async listSuites(): Promise<Suite[]> {
    return (await this.client.request<{ suites: Suite[] }>('GET', '/api/v1/suites')).suites;
  }
}

function datasetPath(name: string): string {
  return `/api/v1/datasets/${encodeURIComponent(name)}`;
}

function versionPath(name: string, version: number): string {
  return `${datasetPath(name)}/versions/${encodeURIComponent(String(version))}`;
}

/** The file's size; a 400 naming the path when it is missing or not a file. */
async function requireFile(localPath: string): Promise<number> {
  const info = await stat(localPath).catch((error: NodeJS.ErrnoException) => {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${localPath}: ${error.code ?? error.message}`, { path: localPath });
  });
  if (!info.isFile()) throw new KilnError('INVALID_PARAMETER_VALUE', `${localPath}: not a file`, { path: localPath });
  return info.size;
}
