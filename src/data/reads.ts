import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DuckDBConnection } from '@duckdb/node-api';
import { KilnError } from '../core/index.js';
import { type DuckLimits, withDuckSession } from './duck.js';
import { quoteLiteral } from './schema.js';

/** Most rows one preview page returns. */
export const MAX_PREVIEW_ROWS = 1000;

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

export const DOWNLOAD_TYPES: Record<DownloadFormat, string> = {
  parquet: 'application/vnd.apache.parquet',
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/** The page a preview asks for, defaulted and checked: a 400 naming `offset` or `limit`. */
export function checkPage(page: { offset?: number; limit?: number }): { offset: number; limit: number } {
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
  return { offset, limit };
}

/**
 * Rows `offset` to `offset + limit` of `relation` in file order, as JSON-safe objects with the
 * column names and DuckDB types.
 *
 * @example
 * const { columns, rows } = await readRows(connection, 'kiln_data', 0, 100);
 */
export async function readRows(
  connection: DuckDBConnection,
  relation: string,
  offset: number,
  limit: number,
): Promise<Pick<RowsPage, 'columns' | 'rows'>> {
  const result = await connection.runAndReadAll(`select * from ${relation} limit ${limit} offset ${offset}`);
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
  return { columns: names.map((column, i) => ({ name: column, type: types[i] ?? '' })), rows };
}

/**
 * Converts a Parquet file to CSV or NDJSON in a private temp directory and streams the result;
 * the directory goes when the stream closes (or at once when the conversion fails).
 *
 * @example
 * const { stream } = await convertParquet('/cache/ab.parquet', 'csv', 'flights-v3.csv');
 */
export async function convertParquet(
  parquetPath: string,
  format: Exclude<DownloadFormat, 'parquet'>,
  filename: string,
  duck?: DuckLimits,
): Promise<VersionDownload> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-download-'));
  const output = join(dir, filename);
  try {
    await withDuckSession(duck, async (session) => {
      const options = format === 'csv' ? '(format csv, header true)' : '(format json)';
      await session.connection.run(
        `copy (select * from read_parquet(${quoteLiteral(parquetPath)})) to ${quoteLiteral(output)} ${options}`,
      );
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stream = createReadStream(output);
  stream.once('close', () => void rm(dir, { recursive: true, force: true }));
  return { stream, contentType: DOWNLOAD_TYPES[format], filename };
}
