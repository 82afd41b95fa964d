import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { hexId, KilnError, type RequestContext } from '../core/index.js';
import { type BlobStore, decodeKeysetToken, encodeKeysetToken, nowIso } from '../store/index.js';
import { formatFromPath, type IngestOptions, ingestFile } from './ingest.js';
import {
  type CsvOptions,
  DATA_FORMATS,
  type DataFormat,
  type Dataset,
  type DatasetProfile,
  type DatasetVersion,
  type SchemaDiff,
} from './model.js';
import { type CategoricalLimits, diffSchemas } from './schema.js';
import type { DatasetStore } from './store.js';

/** Dataset names: safe in URLs, CLI arguments and blob keys. */
export const DATASET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const DEFAULT_DATASET_PAGE = 100;
export const MAX_DATASET_PAGE = 1000;

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

/** A local file to register as the next version. */
export interface IngestVersionInput {
  path: string;
  format?: DataFormat;
  csv?: CsvOptions;
}

/**
 * The blob key of a source's Parquet form. Identical bytes read the same way share one key; reading
 * them another way (explicit format or CSV overrides) can produce different Parquet, so those
 * readings get a suffix instead of silently reusing the first reading's columns.
 */
export function datasetBlobKey(
  digest: string,
  path: string,
  input: Pick<IngestVersionInput, 'format' | 'csv'>,
): string {
  const implicit = (input.format === undefined || input.format === formatFromPath(path)) && input.csv === undefined;
  if (implicit) return `datasets/sha256/${digest}.parquet`;
  const reading = JSON.stringify({ format: input.format ?? formatFromPath(path), csv: input.csv ?? null });
  const suffix = createHash('sha256').update(reading).digest('hex').slice(0, 16);
  return `datasets/sha256/${digest}-${suffix}.parquet`;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !DATASET_NAME_PATTERN.test(name)) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `dataset name must match ${DATASET_NAME_PATTERN}, got '${String(name)}'`,
      {
        field: 'name',
        value: name,
      },
    );
  }
  return name;
}

function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', 'tags must be an object of strings', { field: 'tags' });
  }
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== 'string') {
      throw new KilnError('INVALID_PARAMETER_VALUE', `tag '${key}' must be a string`, { field: `tags.${key}` });
    }
  }
  return { ...(tags as Record<string, string>) };
}

/**
 * Datasets and their content-addressed versions. A version's Parquet is written to the blob store
 * only after DuckDB has read the source completely, and only when no object holds that content yet;
 * if recording the version then fails, a blob this call created is removed again, so a failed
 * ingest leaves neither a version nor an orphan blob. Ingesting into a dataset requires it to exist:
 * creating on first ingest would let a typo in a name fork the history silently.
 *
 * @example
 * const data = new DatasetService(new KyselyDatasetStore(database), blobs);
 * await data.create(ctx, { name: 'penguins' });
 * const v1 = await data.ingestVersion(ctx, 'penguins', { path: 'penguins.json' });
 */
export class DatasetService {
  constructor(
    private readonly store: DatasetStore,
    private readonly blobs: BlobStore,
    private readonly categorical?: CategoricalLimits,
  ) {}

  async create(ctx: RequestContext, input: CreateDatasetInput): Promise<Dataset> {
    const name = checkName(input.name);
    const description = input.description ?? '';
    if (typeof description !== 'string' || description.length > 4096) {
      throw new KilnError('INVALID_PARAMETER_VALUE', 'description must be a string of at most 4096 characters', {
        field: 'description',
      });
    }
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

  async ingestVersion(ctx: RequestContext, name: string, input: IngestVersionInput): Promise<DatasetVersion> {
    const dataset = await this.get(ctx, name);
    if (typeof input.path !== 'string') {
      throw new KilnError('INVALID_PARAMETER_VALUE', 'path must be a string', { field: 'path' });
    }
    if (input.format !== undefined && !DATA_FORMATS.includes(input.format)) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `format must be one of ${DATA_FORMATS.join(', ')}`, {
        field: 'format',
        value: input.format,
      });
    }
    const options: IngestOptions = {};
    if (input.format !== undefined) options.format = input.format;
    if (input.csv !== undefined) options.csv = input.csv;
    if (this.categorical !== undefined) options.categorical = this.categorical;
    const file = await ingestFile(input.path, options);
    try {
      const blobKey = datasetBlobKey(file.digest, file.path, input);
      const created = (await this.blobs.stat(blobKey)) === undefined;
      if (created)
        await this.blobs.put(blobKey, createReadStream(file.parquetPath), {
          contentType: 'application/vnd.apache.parquet',
        });
      try {
        return await this.store.appendVersion(
          {
            datasetId: dataset.id,
            datasetName: dataset.name,
            digest: file.digest,
            blobKey,
            sourceKind: 'path',
            source: file.path,
            format: file.format,
            rowCount: file.rowCount,
            columnCount: file.columnCount,
            schema: file.schema,
            createdAt: nowIso(),
            createdBy: ctx.actor,
          },
          file.profile,
        );
      } catch (err) {
        if (created && (await this.store.countBlobReferences(blobKey).catch(() => 1)) === 0) {
          await this.blobs.delete(blobKey).catch(() => false);
        }
        throw err;
      }
    } finally {
      await file.dispose();
    }
  }

  async getVersion(ctx: RequestContext, name: string, version: number): Promise<DatasetVersion> {
    const dataset = await this.get(ctx, name);
    if (!Number.isInteger(version) || version < 1) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `version must be a positive integer, got ${version}`, {
        field: 'version',
        value: version,
      });
    }
    const found = await this.store.getVersion(dataset, version);
    if (found === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `dataset '${name}' has no version ${version}`, { name, version });
    }
    return found;
  }

  async listVersions(ctx: RequestContext, name: string): Promise<DatasetVersion[]> {
    return this.store.listVersions(await this.get(ctx, name));
  }

  /** The profile stored with a version; RESOURCE_DOES_NOT_EXIST for versions recorded before profiles. */
  async getProfile(ctx: RequestContext, name: string, version: number): Promise<DatasetProfile> {
    const found = await this.getVersion(ctx, name, version);
    const profile = await this.store.getProfile(await this.get(ctx, name), found.version);
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
}
