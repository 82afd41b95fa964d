import { KilnError } from '../core/index.js';
import type { DatasetSchema, LogicalType } from './model.js';
import { quoteIdent, quoteLiteral } from './schema.js';

/** How rows are assigned to parts; see {@link splitQueries}. */
export type SplitMethod = 'random' | 'stratified' | 'time';

/** Every {@link SplitMethod}, for validation at the boundary. */
export const SPLIT_METHODS: readonly SplitMethod[] = ['random', 'stratified', 'time'];

/** The three parts of a split, in the order rows are cut into them. */
export type SplitPart = 'train' | 'validation' | 'test';

/** Every {@link SplitPart}, in cut order. */
export const SPLIT_PARTS: readonly SplitPart[] = ['train', 'validation', 'test'];

/** A reproducible split of one dataset version: same file and spec, same rows in each part. */
export interface SplitSpec {
  method: SplitMethod;
  /** Share of rows per part; each in [0, 1], train > 0, summing to 1. */
  fractions: Record<SplitPart, number>;
  /** Integer that, with each row's position in the file, decides the random and stratified order. */
  seed: number;
  /** The stratum column (stratified) or the time column (time); unused by random. */
  column?: string;
}

/** Logical types a time split can order by. */
const ORDERED_TYPES: readonly LogicalType[] = ['datetime', 'integer', 'float'];

/** Fractions must sum to 1 within this, so 0.7 + 0.2 + 0.1 (0.9999999999999999) is accepted. */
const SUM_TOLERANCE = 1e-9;

function fail(field: string, message: string, details: Record<string, unknown> = {}): never {
  throw new KilnError('INVALID_PARAMETER_VALUE', message, { field, ...details });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFractions(value: unknown): Record<SplitPart, number> {
  if (!isRecord(value))
    fail('fractions', 'fractions must be an object like { train: 0.8, validation: 0.1, test: 0.1 }');
  for (const key of Object.keys(value)) {
    if (!(SPLIT_PARTS as readonly string[]).includes(key)) {
      fail(`fractions.${key}`, `fractions.${key} is not a part; parts are ${SPLIT_PARTS.join(', ')}`);
    }
  }
  const fractions = { train: 0, validation: 0, test: 0 };
  for (const part of SPLIT_PARTS) {
    const fraction = value[part] ?? (part === 'train' ? undefined : 0);
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
      fail(`fractions.${part}`, `fractions.${part} must be a number between 0 and 1, got ${JSON.stringify(fraction)}`);
    }
    fractions[part] = fraction;
  }
  if (fractions.train === 0) fail('fractions.train', 'fractions.train must be greater than 0');
  const sum = fractions.train + fractions.validation + fractions.test;
  if (Math.abs(sum - 1) > SUM_TOLERANCE) fail('fractions', `fractions must sum to 1, got ${sum}`);
  return fractions;
}

/**
 * Validates a split request against the version it will split, so a bad spec fails with a 400
 * naming the field (`method`, `fractions.train`, `seed`, `column`, …) before any query runs.
 * `validation` and `test` default to 0, `seed` to 0; unknown keys are rejected so a typo is not
 * silently ignored. `column` is required by stratified (any column) and time (a datetime, integer or
 * float column) and refused by random.
 *
 * @example
 * const spec = checkSplitSpec({ method: 'time', fractions: { train: 0.8, validation: 0.1, test: 0.1 }, column: 'date' }, schema);
 * // { method: 'time', fractions: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 0, column: 'date' }
 */
export function checkSplitSpec(value: unknown, schema: DatasetSchema): SplitSpec {
  if (!isRecord(value)) fail('split', 'a split must be an object with method, fractions, seed and column');
  for (const key of Object.keys(value)) {
    if (!['method', 'fractions', 'seed', 'column'].includes(key)) {
      fail(key, `${key} is not a split option; options are method, fractions, seed, column`);
    }
  }
  const { method, seed = 0, column } = value;
  if (typeof method !== 'string' || !(SPLIT_METHODS as readonly string[]).includes(method)) {
    fail('method', `method must be one of ${SPLIT_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
  const fractions = checkFractions(value.fractions);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    fail('seed', `seed must be an integer, got ${JSON.stringify(seed)}`);
  }
  const spec: SplitSpec = { method: method as SplitMethod, fractions, seed };
  if (method === 'random') {
    if (column !== undefined) fail('column', 'column is used only by stratified and time splits');
    return spec;
  }
  if (typeof column !== 'string') fail('column', `a ${method} split needs a column`);
  const found = schema.columns.find((c) => c.name === column);
  if (found === undefined) fail('column', `column ${JSON.stringify(column)} is not in the dataset`, { column });
  if (method === 'time' && !ORDERED_TYPES.includes(found.logicalType)) {
    fail('column', `a time split orders by a datetime, integer or float column; ${column} is ${found.logicalType}`, {
      column,
    });
  }
  return { ...spec, column };
}

/** A number as a DuckDB DOUBLE literal; quoting keeps `1e-7` exact and parseable. */
function doubleLiteral(n: number): string {
  return `${quoteLiteral(String(n))}::double`;
}

/**
 * The SELECT of each part of a split of one Parquet file, to run, copy or stream as the caller likes.
 * Each reads `read_parquet(path, file_row_number=true)`, returns exactly the schema's columns in
 * order, and lists its rows in file order. Rows are ranked, then cut at `round(n × train)` and
 * `round(n × (train + validation))` of the ranks, so part sizes are exact and sum to the row count:
 *
 * - `random`: ranked by `hash(seed, file_row_number)`;
 * - `stratified`: ranked the same way within each value of `column` (null is a stratum of its own)
 *   and cut per stratum, so every part keeps each stratum's share to within one row;
 * - `time`: ranked by `column` then `file_row_number`, earliest rows in train, latest in test;
 *   rows with equal times at a cut are split by row number (earlier rows in the earlier part), so
 *   `max(train) <= min(validation)` but not strictly; rows with a null time sort last, into test.
 *
 * The ranking is a total order on the file's rows, so the same file and spec give the same parts on
 * every run and at any thread count (with the same DuckDB version, which fixes `hash`). A dataset
 * with its own `file_row_number` column cannot be split this way (NOT_IMPLEMENTED).
 *
 * @example
 * const spec = checkSplitSpec(body, version.schema);
 * const parts = splitQueries('/tmp/v3.parquet', version.schema, spec);
 * await connection.run(`copy (${parts.train}) to '/tmp/train.parquet'`);
 */
export function splitQueries(parquetPath: string, schema: DatasetSchema, spec: SplitSpec): Record<SplitPart, string> {
  if (schema.columns.some((c) => c.name.toLowerCase() === 'file_row_number')) {
    throw new KilnError('NOT_IMPLEMENTED', 'a dataset with a column named file_row_number cannot be split yet', {
      column: 'file_row_number',
    });
  }
  const { train, validation, test } = spec.fractions;
  // Dividing by the sum makes the last cut exactly 1 and an empty part's two cuts exactly equal.
  const sum = train + validation + test;
  const firstCut = train / sum;
  const secondCut = (train + validation) / sum;

  const random = `hash(${quoteLiteral(String(spec.seed))}::bigint, file_row_number), file_row_number`;
  const column = spec.column === undefined ? '' : quoteIdent(spec.column);
  const [partition, order] =
    spec.method === 'random'
      ? ['', random]
      : spec.method === 'stratified'
        ? [`partition by ${column}`, random]
        : ['', `${column} asc nulls last, file_row_number`];
  const rank = `row_number() over (${partition} order by ${order})`;
  const rows = `count(*) over (${partition})`;
  const cut = (fraction: number) => `round(${rows} * ${doubleLiteral(fraction)})`;

  // Only row numbers go through the window sort; the part's rows are read by them afterwards,
  // which is several times faster than sorting every column along.
  const source = `read_parquet(${quoteLiteral(parquetPath)}, file_row_number=true)`;
  const select = (qualify: string) =>
    `select ${schema.columns.map((c) => quoteIdent(c.name)).join(', ')} from ${source}
    where file_row_number in (select file_row_number from ${source} qualify ${qualify})
    order by file_row_number`;
  return {
    train: select(`${rank} <= ${cut(firstCut)}`),
    validation: select(`${rank} > ${cut(firstCut)} and ${rank} <= ${cut(secondCut)}`),
    test: select(`${rank} > ${cut(secondCut)}`),
  };
}
