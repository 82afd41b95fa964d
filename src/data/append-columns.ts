/**
 * Versions made by computing new columns from an existing version, chunk by chunk (batch scoring):
 * the input's columns are read a chunk at a time into typed arrays, the caller computes its
 * columns for the chunk, and they are appended to a DuckDB table at once, so neither the input nor
 * the computed values are ever whole in the JS heap. The output Parquet is the input's columns with
 * the computed ones appended, joined by position in DuckDB.
 */
import {
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBVector,
  INTEGER,
} from '@duckdb/node-api';
import { invalidParameter, KilnError } from '../core/index.js';
import type { ColumnarTable } from './columns.js';
import type { DatasetSchema, LogicalType } from './model.js';
import type { StepProvenance } from './provenance.js';
import { quoteIdent, quoteLiteral } from './schema.js';

/** The typed-array kind a column is read as: numbers, category codes, or epoch milliseconds. */
export type ChunkColumnKind = 'float' | 'categorical' | 'datetime';

/** A column the computation reads, and the kind it needs it as. */
export interface ChunkColumn {
  name: string;
  kind: ChunkColumnKind;
}

/**
 * A column the computation adds: numbers (NaN is stored as null), or labels from a closed set of
 * `categories` (a classifier's classes), computed as codes into it and stored as text.
 */
export type AppendedColumn =
  | { name: string; type: 'double' }
  | { name: string; type: 'category'; categories: readonly string[] };

/**
 * One chunk's values of the appended columns, in their declared order, one per row: a Float64Array
 * for a `double` column, an Int32Array of codes into `categories` (-1 for none) for a `category` one.
 */
export type AppendedValues = readonly (Float64Array | Int32Array)[];

/** How far an {@link AppendColumnsInput} has come. */
export interface AppendProgress {
  rows: number;
  chunks: number;
  totalRows: number;
  totalChunks: number;
}

/** Most rows one chunk may have: a chunk is held in memory whole, as typed arrays. */
export const MAX_CHUNK_ROWS = 1_000_000;

/**
 * A version of dataset `dataset` with columns appended, computed chunk by chunk, to be recorded as
 * the next version of a target dataset with lineage to the input version and `provenance` as its source.
 */
export interface AppendColumnsInput {
  dataset: string;
  version: number;
  /** Columns handed to `compute`, in this order. */
  read: readonly ChunkColumn[];
  /** Rows per chunk, 1 to {@link MAX_CHUNK_ROWS}; the last chunk may be shorter. */
  chunkRows: number;
  /** The columns `compute` returns. An input column of the same name (ignoring case) is replaced. */
  append: readonly AppendedColumn[];
  /** Computes the appended columns for one chunk; `offset` is the chunk's first row in the version. */
  compute(chunk: ColumnarTable, offset: number): Promise<AppendedValues>;
  /** Lineage role of the edge from the input version, e.g. `predict`. */
  role: string;
  /** What computed the columns: recorded as the version's source (source kind `step`). */
  provenance: StepProvenance;
  /** Checked between chunks: an abort stops the work and records nothing. */
  signal?: AbortSignal;
  /** Called after every chunk. */
  onProgress?(progress: AppendProgress): void | Promise<void>;
}

/** Logical types each read kind accepts (the casts training's column reads make too). */
const READABLE: Record<ChunkColumnKind, readonly LogicalType[]> = {
  float: ['integer', 'float'],
  datetime: ['datetime'],
  categorical: ['string', 'categorical', 'boolean', 'integer', 'float'],
};

const KIND_WORDS: Record<ChunkColumnKind, string> = {
  float: 'numbers',
  datetime: 'dates or timestamps',
  categorical: 'categories (text, booleans or integers)',
};

/**
 * Checks that `schema` has every column of `read` with a type readable as its kind: a 400 naming
 * the column otherwise (details `column`, `field` as given), before any work is done.
 *
 * @example
 * checkReadable(version.schema, [{ name: 'distance', kind: 'float' }], 'data');
 */
export function checkReadable(schema: DatasetSchema, read: readonly ChunkColumn[], field = 'read'): void {
  for (const column of read) {
    const found = schema.columns.find((c) => c.name === column.name);
    if (found === undefined) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `${field}: the dataset has no column '${column.name}'`, {
        field,
        column: column.name,
        known: schema.columns.map((c) => c.name),
      });
    }
    if (!READABLE[column.kind].includes(found.logicalType)) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `${field}: column '${column.name}' is ${found.logicalType}; it is needed as ${KIND_WORDS[column.kind]}`,
        { field, column: column.name, logicalType: found.logicalType, kind: column.kind },
      );
    }
  }
}

/** Most categories an appended `category` column may declare (a classifier's classes are far fewer). */
const MAX_CATEGORIES = 100_000;

/** Checks what {@link AppendColumnsInput} declares, apart from the data it reads. */
export function checkAppendInput(input: Pick<AppendColumnsInput, 'chunkRows' | 'append' | 'role'>): void {
  if (!(Number.isInteger(input.chunkRows) && input.chunkRows >= 1 && input.chunkRows <= MAX_CHUNK_ROWS)) {
    throw invalidParameter('chunkRows', `must be a whole number from 1 to ${MAX_CHUNK_ROWS}`, input.chunkRows);
  }
  if (input.append.length === 0) throw invalidParameter('append', 'names no column to add');
  const seen = new Set<string>();
  for (const [i, column] of input.append.entries()) {
    const key = column.name.toLowerCase();
    if (column.name.length === 0 || column.name.length > 255 || seen.has(key)) {
      throw invalidParameter(`append[${i}].name`, 'must be 1 to 255 characters and unique ignoring case', column.name);
    }
    seen.add(key);
    if (column.type === 'category') {
      const { categories } = column;
      if (
        !Array.isArray(categories) ||
        categories.length > MAX_CATEGORIES ||
        categories.some((c) => typeof c !== 'string')
      ) {
        throw invalidParameter(`append[${i}].categories`, `must be at most ${MAX_CATEGORIES} strings`);
      }
    } else if (column.type !== 'double') {
      throw invalidParameter(`append[${i}].type`, "must be 'double' or 'category'", (column as { type: unknown }).type);
    }
  }
  if (typeof input.role !== 'string' || input.role.length === 0 || input.role.length > 200) {
    throw invalidParameter('role', 'must be 1 to 200 characters', input.role);
  }
}

/** The SQL expression that reads `name` as a DOUBLE, epoch milliseconds, or a code of enum `dictionary`. */
function readExpression(name: string, kind: ChunkColumnKind, dictionary: string | undefined): string {
  const id = quoteIdent(name);
  if (kind === 'float') return `${id}::double`;
  if (kind === 'datetime') return `epoch_ms(${id}::timestamp)::double`;
  // An all-null column has no values to make an ENUM of: every code is missing.
  if (dictionary === undefined) return 'null::integer';
  return `enum_code(${id}::varchar::${dictionary})::integer`;
}

/**
 * Makes an ENUM of each categorical column's distinct values (as text) and answers the values in
 * enum order: the dictionary every chunk's codes index, so text crosses into JS once per distinct
 * value rather than once per row.
 */
async function dictionaries(
  connection: DuckDBConnection,
  relation: string,
  read: readonly ChunkColumn[],
): Promise<Map<number, { type: string; values: string[] }>> {
  const made = new Map<number, { type: string; values: string[] }>();
  for (const [i, column] of read.entries()) {
    if (column.kind !== 'categorical') continue;
    const id = quoteIdent(column.name);
    const type = `kiln_dictionary_${i}`;
    await connection.run(
      `create type ${type} as enum (select distinct ${id}::varchar from ${relation} where ${id} is not null order by 1)`,
    );
    const listed = await connection.runAndReadAll(`select unnest(enum_range(null::${type}))::varchar`);
    const values = (listed.getColumnsJS()[0] ?? []).map(String);
    if (values.length > 0) made.set(i, { type, values });
  }
  return made;
}

type ReadVector = { getItem(i: number): unknown };

// One loop per target type keeps each call site monomorphic: reading 3 million rows stays well under a second.
function readNumbers(vector: ReadVector, rows: number, into: Float64Array, at: number): void {
  for (let r = 0; r < rows; r++) {
    const value = vector.getItem(r);
    if (value !== null) into[at + r] = value as number;
  }
}

function readCodes(vector: ReadVector, rows: number, into: Int32Array, at: number): void {
  for (let r = 0; r < rows; r++) {
    const value = vector.getItem(r);
    if (value !== null) into[at + r] = value as number;
  }
}

/** One chunk's rows as typed arrays; categorical codes index the column's dictionary. */
function chunkTable(
  result: { chunkCount: number; getChunk(i: number): DuckDBDataChunk },
  read: readonly ChunkColumn[],
  dictionaryOf: Map<number, { values: string[] }>,
  rows: number,
): ColumnarTable {
  const columns: ColumnarTable['columns'] = read.map((column, i) =>
    column.kind === 'categorical'
      ? {
          kind: 'categorical',
          name: column.name,
          codes: new Int32Array(rows).fill(-1),
          dictionary: dictionaryOf.get(i)?.values ?? [],
        }
      : { kind: column.kind, name: column.name, values: new Float64Array(rows).fill(Number.NaN) },
  );
  let at = 0;
  for (let k = 0; k < result.chunkCount; k++) {
    const chunk = result.getChunk(k);
    const n = chunk.rowCount;
    for (const [c, column] of columns.entries()) {
      const vector = chunk.getColumnVector(c);
      if (column.kind === 'categorical') readCodes(vector, n, column.codes, at);
      else readNumbers(vector, n, column.values, at);
    }
    at += n;
  }
  return { rows: at, columns };
}

/** Checks one chunk's computed values against the declaration: the computation's contract, not user input. */
function checkComputed(values: AppendedValues, append: readonly AppendedColumn[], rows: number): void {
  if (values.length !== append.length) {
    throw new KilnError('INTERNAL_ERROR', `computed ${values.length} columns for ${append.length} declared`);
  }
  for (const [i, column] of append.entries()) {
    const computed = values[i] as Float64Array | Int32Array;
    const expected = column.type === 'double' ? Float64Array : Int32Array;
    if (computed.length !== rows || !(computed instanceof expected)) {
      throw new KilnError(
        'INTERNAL_ERROR',
        `computed column '${column.name}' must be a ${expected.name} of ${rows} values; got ${computed.length}`,
      );
    }
    if (column.type === 'category') {
      const k = column.categories.length;
      for (const code of computed as Int32Array) {
        if (code < -1 || code >= k) {
          throw new KilnError('INTERNAL_ERROR', `computed column '${column.name}' has code ${code} of ${k} categories`);
        }
      }
    }
  }
}

type SetVector = { setItem(i: number, value: number | null): void; flush(): void };

function writeNumbers(vector: SetVector, values: Float64Array, from: number, count: number): void {
  for (let r = 0; r < count; r++) {
    const v = values[from + r] as number;
    vector.setItem(r, Number.isNaN(v) ? null : v);
  }
  vector.flush();
}

function writeCodes(vector: SetVector, codes: Int32Array, from: number, count: number): void {
  for (let r = 0; r < count; r++) {
    const code = codes[from + r] as number;
    vector.setItem(r, code < 0 ? null : code);
  }
  vector.flush();
}

/** Appends one chunk's computed values through DuckDB data chunks of the standard vector size. */
function appendChunk(
  appender: DuckDBAppender,
  append: readonly AppendedColumn[],
  values: AppendedValues,
  rows: number,
): void {
  const types = append.map((c) => (c.type === 'double' ? DOUBLE : INTEGER));
  const size = DuckDBVector.standardSize();
  for (let from = 0; from < rows; from += size) {
    const count = Math.min(size, rows - from);
    const chunk = DuckDBDataChunk.create(types, count);
    for (const [c, column] of append.entries()) {
      const vector = chunk.getColumnVector(c) as unknown as SetVector;
      if (column.type === 'double') writeNumbers(vector, values[c] as Float64Array, from, count);
      else writeCodes(vector, values[c] as Int32Array, from, count);
    }
    appender.appendDataChunk(chunk);
  }
}

/** The SQL that turns an appended column as stored (a double, or a code) into its output value. */
function outputExpression(column: AppendedColumn): string {
  const stored = `kiln_appended.${quoteIdent(column.name)}`;
  if (column.type === 'double') return stored;
  if (column.categories.length === 0) return `null::varchar as ${quoteIdent(column.name)}`;
  // DuckDB lists are 1-based; code -1 (none) reads index 0, which is null.
  return `[${column.categories.map(quoteLiteral).join(', ')}][${stored} + 1] as ${quoteIdent(column.name)}`;
}

/**
 * Runs {@link AppendColumnsInput} inside a session whose view `relation` is the input version and
 * writes the result to `outputPath` as Parquet; answers the number of rows. The columns read are
 * first copied to a table in file order (categoricals as codes of an ENUM of their values), which
 * each chunk then selects by row id, so the session can run the appends between chunks; the
 * computed values wait in a DuckDB table (spilling to disk past the memory limit), joined to the
 * input by position at the end.
 */
export async function appendColumnsInSession(
  connection: DuckDBConnection,
  relation: string,
  schema: DatasetSchema,
  input: AppendColumnsInput,
  outputPath: string,
): Promise<number> {
  const { read, append, chunkRows } = input;
  const dictionaryOf = await dictionaries(connection, relation, read);
  const select =
    read.length === 0
      ? 'null::integer as kiln_none'
      : read.map((c, i) => `${readExpression(c.name, c.kind, dictionaryOf.get(i)?.type)} as c${i}`).join(', ');
  await connection.run(`create table kiln_read as select ${select} from ${relation}`);
  const counted = await connection.runAndReadAll('select count(*) from kiln_read');
  const totalRows = Number(counted.getColumnsJS()[0]?.[0] ?? 0);
  const totalChunks = Math.ceil(totalRows / chunkRows);
  const columns = append.map((c) => `${quoteIdent(c.name)} ${c.type === 'double' ? 'double' : 'integer'}`);
  await connection.run(`create table kiln_appended (${columns.join(', ')})`);
  const appender = await connection.createAppender('kiln_appended');
  try {
    for (let chunks = 0; chunks < totalChunks; chunks++) {
      input.signal?.throwIfAborted();
      const from = chunks * chunkRows;
      const rows = Math.min(chunkRows, totalRows - from);
      const result = await connection.run(
        `select * from kiln_read where rowid >= ${from} and rowid < ${from + rows} order by rowid`,
      );
      const table = chunkTable(result, read, dictionaryOf, rows);
      if (table.rows !== rows) {
        throw new KilnError('INTERNAL_ERROR', `the chunk at row ${from} read ${table.rows} of ${rows} rows`);
      }
      const values = await input.compute(table, from);
      checkComputed(values, append, rows);
      appendChunk(appender, append, values, rows);
      await input.onProgress?.({ rows: from + rows, chunks: chunks + 1, totalRows, totalChunks });
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const replaced = new Set(append.map((c) => c.name.toLowerCase()));
  const kept = schema.columns
    .filter((c) => !replaced.has(c.name.toLowerCase()))
    .map((c) => `${relation}.${quoteIdent(c.name)}`);
  const added = append.map(outputExpression);
  await connection.run(
    `copy (select ${[...kept, ...added].join(', ')} from ${relation} positional join kiln_appended) to ${quoteLiteral(outputPath)} (format parquet)`,
  );
  return totalRows;
}
