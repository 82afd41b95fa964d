import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { KilnError } from '../core/index.js';
import type { CsvOptions, DataFormat, DatasetProfile, DatasetSchema } from './model.js';
import { profileParquet } from './profile.js';
import { type CategoricalLimits, DEFAULT_CATEGORICAL_LIMITS, inferSchema, quoteLiteral } from './schema.js';

/** What to read and how. */
export interface IngestOptions {
  /** Detected from the extension when absent. */
  format?: DataFormat;
  /** CSV overrides; only with format `csv`. */
  csv?: CsvOptions;
  categorical?: CategoricalLimits;
}

/**
 * A source file read into typed Parquet in a private temp directory. Call `dispose` when the
 * Parquet has been stored (or abandoned); until then nothing outside the temp directory exists.
 */
export interface IngestedFile {
  /** Absolute path of the source. */
  path: string;
  format: DataFormat;
  /** Hex SHA-256 over every byte of the source. */
  digest: string;
  size: number;
  parquetPath: string;
  rowCount: number;
  columnCount: number;
  schema: DatasetSchema;
  /** Computed on the same connection and Parquet as the schema, so the file is read once more, not re-ingested. */
  profile: DatasetProfile;
  dispose(): Promise<void>;
}

const EXTENSIONS: Record<string, DataFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
};

/** The format an extension implies, or undefined when it implies none. */
export function formatFromPath(path: string): DataFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/** Streams the whole file through SHA-256: the digest covers all content, never a sample. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function checkCsvOptions(csv: CsvOptions): string[] {
  const args: string[] = [];
  const oneChar = (field: string, value: string) => {
    if (value.length !== 1) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `csv.${field} must be one character, got '${value}'`, {
        field: `csv.${field}`,
        value,
      });
    }
  };
  if (csv.delimiter !== undefined) {
    oneChar('delimiter', csv.delimiter);
    args.push(`delim=${quoteLiteral(csv.delimiter)}`);
  }
  if (csv.quote !== undefined) {
    oneChar('quote', csv.quote);
    args.push(`quote=${quoteLiteral(csv.quote)}`);
  }
  if (csv.header !== undefined) args.push(`header=${csv.header ? 'true' : 'false'}`);
  return args;
}

/** The DuckDB table function that reads `path` as `format`. */
export function readerSql(path: string, format: DataFormat, csv: CsvOptions = {}): string {
  const file = quoteLiteral(path);
  switch (format) {
    case 'csv':
      return `read_csv(${[file, 'auto_detect=true', ...checkCsvOptions(csv)].join(', ')})`;
    case 'parquet':
      return `read_parquet(${file})`;
    case 'json':
      return `read_json_auto(${file})`;
    case 'ndjson':
      return `read_json_auto(${file}, format='newline_delimited')`;
    case 'arrow':
      // The npm build links only parquet/json/icu statically and cannot install extensions offline.
      throw new KilnError('NOT_IMPLEMENTED', 'Arrow IPC ingest needs a DuckDB build with the arrow extension', {
        format,
      });
  }
}

/** Turns a DuckDB read failure into a 400 that names the file and, when known, the line. */
function readError(path: string, format: DataFormat, cause: string, knownLine?: number): KilnError {
  const first = cause.split('\n')[0] ?? cause;
  const parsed = /\bLine:\s*(\d+)/.exec(cause)?.[1];
  const line = knownLine ?? (parsed === undefined ? undefined : Number(parsed));
  const where = line === undefined ? path : `${path}, line ${line}`;
  const details: Record<string, unknown> = { path, format, cause: first };
  if (line !== undefined) details.line = line;
  return new KilnError('INVALID_PARAMETER_VALUE', `cannot read ${where} as ${format}: ${first}`, details);
}

const CSV_DELIMITERS = [',', ';', '|', '\t'];

/**
 * DuckDB's sniffer, given a CSV with a ragged row, falls back to one VARCHAR column named after the
 * whole header line instead of failing. This spots that fallback and returns the delimiter the
 * header really uses, so the caller can re-read strictly and report the offending line.
 */
function sniffedFallbackDelimiter(schema: DatasetSchema, csv: CsvOptions): string | undefined {
  if (csv.delimiter !== undefined || csv.header === false || schema.columns.length !== 1) return undefined;
  const name = schema.columns[0]?.name ?? '';
  return CSV_DELIMITERS.find((d) => name.includes(d));
}

/** The first line DuckDB rejects when reading strictly with `delimiter` (via its rejects table), if any. */
async function firstRejectedLine(
  connection: DuckDBConnection,
  path: string,
  delimiter: string,
): Promise<{ line?: number; message: string } | undefined> {
  try {
    await connection.run(
      `create or replace temp table kiln_probe as select * from read_csv(${quoteLiteral(path)}, delim=${quoteLiteral(delimiter)}, header=true, store_rejects=true)`,
    );
    const rows = (
      await connection.runAndReadAll('select line, error_type, error_message from reject_errors order by line limit 1')
    ).getRowObjectsJson();
    const row = rows[0];
    if (row === undefined) return undefined;
    return { line: Number(row.line), message: `${String(row.error_type)}: ${String(row.error_message)}` };
  } catch (err) {
    return { message: err instanceof Error ? err.message : String(err) };
  }
}

async function checkFile(path: string): Promise<number> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `file '${path}' does not exist`, { path });
    }
    throw new KilnError('INVALID_PARAMETER_VALUE', `cannot open '${path}': ${err.message}`, { path });
  });
  if (!info.isFile()) throw new KilnError('INVALID_PARAMETER_VALUE', `'${path}' is not a regular file`, { path });
  if (info.size === 0) throw new KilnError('INVALID_PARAMETER_VALUE', `file '${path}' is empty`, { path });
  return info.size;
}

/**
 * Reads a local file with DuckDB and rewrites it as typed Parquet, with its digest, counts and
 * schema. Everything happens in SQL inside DuckDB; rows never become JS values, so a file of
 * millions of rows costs DuckDB's streaming memory, not the heap. On failure nothing is left.
 *
 * @example
 * const file = await ingestFile('data/penguins.json');
 * try { await blobs.put(key, createReadStream(file.parquetPath)); } finally { await file.dispose(); }
 */
export async function ingestFile(source: string, options: IngestOptions = {}): Promise<IngestedFile> {
  if (source.length === 0 || source.includes('\0')) {
    throw new KilnError('INVALID_PARAMETER_VALUE', 'path must be a non-empty file path', { field: 'path' });
  }
  const path = resolve(source);
  const format = options.format ?? formatFromPath(path);
  if (format === undefined) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `cannot tell the format of '${path}' from its extension; name it`, {
      path,
      field: 'format',
    });
  }
  if (options.csv !== undefined && format !== 'csv') {
    throw new KilnError('INVALID_PARAMETER_VALUE', `csv options apply only to format csv, not ${format}`, {
      field: 'csv',
    });
  }
  const reader = readerSql(path, format, options.csv);
  const size = await checkFile(path);
  const digest = await sha256File(path);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-ingest-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const parquetPath = join(dir, 'data.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      try {
        await connection.run(`copy (select * from ${reader}) to ${quoteLiteral(parquetPath)} (format parquet)`);
      } catch (err) {
        const cause = err instanceof Error ? err.message : String(err);
        const delimiter = options.csv?.delimiter ?? ',';
        const probe = format === 'csv' ? await firstRejectedLine(connection, path, delimiter) : undefined;
        throw readError(path, format, cause, probe?.line);
      }
      const stored = `read_parquet(${quoteLiteral(parquetPath)})`;
      const counted = (await connection.runAndReadAll(`select count(*) as n from ${stored}`)).getRowObjectsJson();
      const rowCount = Number(counted[0]?.n ?? 0);
      const schema = await inferSchema(connection, stored, rowCount, options.categorical ?? DEFAULT_CATEGORICAL_LIMITS);
      const fallback = format === 'csv' ? sniffedFallbackDelimiter(schema, options.csv ?? {}) : undefined;
      if (fallback !== undefined) {
        // A genuine one-column file whose header holds a quoted delimiter reads strictly without rejects.
        const probe = await firstRejectedLine(connection, path, fallback);
        if (probe !== undefined) throw readError(path, format, probe.message, probe.line);
      }
      const profile = await profileParquet(connection, parquetPath, schema);
      const columnCount = schema.columns.length;
      return { path, format, digest, size, parquetPath, rowCount, columnCount, schema, profile, dispose };
    } finally {
      connection.closeSync();
    }
  } catch (err) {
    await dispose();
    throw err;
  } finally {
    instance.closeSync();
  }
}
