import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnProfile, DatasetProfile, DatasetSchema, NumericQuantiles } from './model.js';
import { quoteIdent, quoteLiteral } from './schema.js';

/** Equal-width bins per numeric histogram: fine enough for drift tests, small enough to store per version. */
export const HISTOGRAM_BINS = 20;
/** Most frequent values kept per categorical column; the rest are summed into `other`. */
export const TOP_K = 20;

/** Quantile levels, in the order of {@link NumericQuantiles}' keys. */
const QUANTILES: readonly [keyof NumericQuantiles, number][] = [
  ['p01', 0.01],
  ['p05', 0.05],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
  ['p99', 0.99],
];

type Row = Record<string, unknown>;

/** DuckDB's JSON rows render BIGINT counts as strings; counts always fit a double exactly enough. */
function count(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** A double, or null for SQL NULL. `'NaN'` / `'Infinity'` strings from DuckDB become the JS values. */
function double(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/**
 * An integer min / max kept exact: a number when it is a safe integer, else DuckDB's decimal
 * string, so a BIGINT id near 2^63 is not silently rounded to a different id.
 */
function integer(value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : String(value);
}

/** A number as a DuckDB DOUBLE literal; quoting keeps `1e+21` and `-0` exact and parseable. */
function doubleLiteral(n: number): string {
  return `${quoteLiteral(String(n))}::double`;
}

type Kind = 'numeric' | 'categorical' | 'datetime';

function kindOf(logicalType: string): Kind {
  if (logicalType === 'integer' || logicalType === 'float') return 'numeric';
  if (logicalType === 'datetime') return 'datetime';
  return 'categorical';
}

/** The aggregate expressions of column `i`, aliased `<stat><i>` so one SELECT can carry all columns. */
function aggregatesOf(id: string, i: number, kind: Kind, logicalType: string): string[] {
  const parts = [`count(${id}) as c${i}`, `approx_count_distinct(${id}) as d${i}`];
  if (kind === 'numeric') {
    const x = `${id}::double`;
    // Integer extremes stay in their own type so BIGINT values keep every digit.
    const extreme = logicalType === 'integer' ? id : x;
    const levels = QUANTILES.map(([, q]) => String(q)).join(', ');
    parts.push(
      `min(${extreme}) as mn${i}`,
      `max(${extreme}) as mx${i}`,
      `avg(${x}) as av${i}`,
      `stddev_samp(${x}) as sd${i}`,
      // On the column's own type: casting 3M values to DOUBLE first makes this the slowest aggregate by far.
      `quantile_cont(${id}, [${levels}]) as q${i}`,
      // Histogram range over finite values: one Infinity would make every bin width infinite.
      `min(${x}) filter (where isfinite(${x})) as hl${i}`,
      `max(${x}) filter (where isfinite(${x})) as hh${i}`,
      `count(*) filter (where isfinite(${x})) as hc${i}`,
    );
  } else if (kind === 'datetime') {
    // DuckDB renders timestamps as `YYYY-MM-DD hh:mm:ss`; the T makes them ISO 8601.
    parts.push(`replace(min(${id})::varchar, ' ', 'T') as mn${i}`, `replace(max(${id})::varchar, ' ', 'T') as mx${i}`);
  }
  return parts;
}

/**
 * Counts per equal-width bin between the finite min and max, in one GROUP BY over the bin index.
 * The top edge belongs to the last bin (`least`); a constant column is one bin of width 0 and
 * needs no query, which is also what keeps 0/0 from ever producing NaN.
 */
async function histogram(
  connection: DuckDBConnection,
  relation: string,
  id: string,
  low: number | null,
  high: number | null,
  finite: number,
): Promise<{ min: number; max: number; width: number; counts: number[] } | null> {
  if (low === null || high === null || finite === 0) return null;
  if (low === high) return { min: low, max: high, width: 0, counts: [finite] };
  const x = `${id}::double`;
  const lo = doubleLiteral(low);
  const span = `(${doubleLiteral(high)} - ${lo})`;
  const bin = `least(floor((${x} - ${lo}) / ${span} * ${HISTOGRAM_BINS}), ${HISTOGRAM_BINS - 1})::integer`;
  // Positional GROUP BY / ORDER BY: an alias like `b` would bind to a data column of that name first.
  const rows = (
    await connection.runAndReadAll(`select ${bin} as b, count(*) as n from ${relation} where isfinite(${x}) group by 1`)
  ).getRowObjectsJson();
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const row of rows) counts[Number(row.b)] = count(row.n);
  return { min: low, max: high, width: (high - low) / HISTOGRAM_BINS, counts };
}

/** The `TOP_K` most frequent non-null values (ties by value, so the order is reproducible). */
async function topValues(
  connection: DuckDBConnection,
  relation: string,
  id: string,
): Promise<{ value: string; count: number }[]> {
  const rows = (
    await connection.runAndReadAll(
      `select ${id}::varchar as v, count(*) as n from ${relation} where ${id} is not null group by 1 order by 2 desc, 1 limit ${TOP_K}`,
    )
  ).getRowObjectsJson();
  return rows.map((row) => ({ value: String(row.v), count: count(row.n) }));
}

function numericStats(stats: Row, i: number, integerColumn: boolean) {
  const q = stats[`q${i}`];
  const levels = Array.isArray(q) ? q : undefined;
  const quantiles =
    levels === undefined
      ? null
      : (Object.fromEntries(QUANTILES.map(([key], j) => [key, double(levels[j])])) as unknown as NumericQuantiles);
  return {
    min: integerColumn ? integer(stats[`mn${i}`]) : double(stats[`mn${i}`]),
    max: integerColumn ? integer(stats[`mx${i}`]) : double(stats[`mx${i}`]),
    mean: double(stats[`av${i}`]),
    std: double(stats[`sd${i}`]),
    quantiles,
  };
}

/**
 * Profiles the Parquet at `parquetPath` inside DuckDB: one aggregate query for the scalar
 * statistics of every column, then one GROUP BY per numeric column (histogram) and per
 * categorical / string / boolean column (top-k). Only aggregates cross into JS, so the cost is
 * DuckDB's scan, not the heap. `count` is the non-null count; `rowCount - count === nulls`.
 * The profile is stored with the version and is the reference that monitoring compares against.
 *
 * @example
 * const profile = await profileParquet(connection, '/tmp/kiln-ingest-x/data.parquet', schema);
 * profile.columns.bill_length_mm.quantiles?.p50; // 44.45
 */
export async function profileParquet(
  connection: DuckDBConnection,
  parquetPath: string,
  schema: DatasetSchema,
): Promise<DatasetProfile> {
  const relation = `read_parquet(${quoteLiteral(parquetPath)})`;
  const kinds = schema.columns.map((column) => kindOf(column.logicalType));
  const aggregates = schema.columns.flatMap((column, i) =>
    aggregatesOf(quoteIdent(column.name), i, kinds[i] ?? 'categorical', column.logicalType),
  );
  const stats =
    (
      await connection.runAndReadAll(`select ${['count(*) as rows', ...aggregates].join(', ')} from ${relation}`)
    ).getRowObjectsJson()[0] ?? {};
  const rowCount = count(stats.rows);
  const columns: Record<string, ColumnProfile> = {};
  for (const [i, column] of schema.columns.entries()) {
    const id = quoteIdent(column.name);
    const nonNull = count(stats[`c${i}`]);
    const base = { logicalType: column.logicalType, count: nonNull, nulls: rowCount - nonNull };
    // approx_count_distinct can overshoot on tiny columns; more distinct values than values is impossible.
    const distinct = Math.min(count(stats[`d${i}`]), nonNull);
    const kind = kinds[i];
    if (kind === 'numeric') {
      const numeric = numericStats(stats, i, column.logicalType === 'integer');
      const low = double(stats[`hl${i}`]);
      const high = double(stats[`hh${i}`]);
      const hist = await histogram(connection, relation, id, low, high, count(stats[`hc${i}`]));
      columns[column.name] = { kind, ...base, distinct, ...numeric, histogram: hist };
    } else if (kind === 'datetime') {
      const iso = (v: unknown) => (v === null || v === undefined ? null : String(v));
      columns[column.name] = { kind, ...base, distinct, min: iso(stats[`mn${i}`]), max: iso(stats[`mx${i}`]) };
    } else {
      const top = nonNull === 0 ? [] : await topValues(connection, relation, id);
      const other = nonNull - top.reduce((sum, entry) => sum + entry.count, 0);
      columns[column.name] = { kind: 'categorical', ...base, distinct, top, other };
    }
  }
  return { rowCount, columns };
}
