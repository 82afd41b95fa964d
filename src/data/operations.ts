/**
 * What the dataset service's use cases take and give: their inputs, options and pages, and the
 * blob key a source's Parquet is stored under.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DuckLimits } from './duck.js';
import { formatFromPath } from './ingest.js';
import type { CsvOptions, DataFormat, Dataset } from './model.js';
import type { PiiAction } from './pii.js';
import type { CategoricalLimits } from './schema.js';

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

export interface DatasetServiceOptions {
  categorical?: CategoricalLimits;
  /** Where copies of remote (S3) version files are cached; default `<tmpdir>/kiln-dataset-cache`. */
  cacheDir?: string;
  duck?: DuckLimits;
}

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
