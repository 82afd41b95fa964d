import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema, DatasetSchema, LogicalType, SchemaDiff } from './model.js';

/** Limits that decide when a string column is categorical rather than free text. */
export interface CategoricalLimits {
  /** At most this many distinct values; default 50. */
  maxDistinct: number;
  /** At most this share of the row count; default 0.05, so 20 rows cannot make 19 "categories". */
  maxShare: number;
}

export const DEFAULT_CATEGORICAL_LIMITS: CategoricalLimits = { maxDistinct: 50, maxShare: 0.05 };

/** Quotes an SQL identifier for DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal for DuckDB (file paths included). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Maps a DuckDB type name to a logical type; string columns are refined to categorical later. */
export function logicalTypeOf(duckType: string): LogicalType {
  const t = duckType.toUpperCase();
  if (/^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT))$/.test(t)) return 'integer';
  if (/^(FLOAT|DOUBLE|REAL|DECIMAL)/.test(t)) return 'float';
  if (t === 'BOOLEAN') return 'boolean';
  if (/^(DATE|TIME|TIMESTAMP)/.test(t)) return 'datetime';
  return 'string';
}

/**
 * Infers the schema of `relation` (a table name or a parenthesised query) with DuckDB: `DESCRIBE`
 * for the storage types, then one aggregate pass for null and distinct counts, then one small query
 * per categorical column for its domain. Rows never reach JS; only per-column aggregates do.
 *
 * @example
 * const schema = await inferSchema(connection, "read_parquet('/tmp/v1.parquet')", 344);
 */
export async function inferSchema(
  connection: DuckDBConnection,
  relation: string,
  rowCount: number,
  limits: CategoricalLimits = DEFAULT_CATEGORICAL_LIMITS,
): Promise<DatasetSchema> {
  const described = (await connection.runAndReadAll(`describe select * from ${relation}`)).getRowObjectsJson();
  const columns = described.map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  if (columns.length === 0) return { columns: [] };
  const aggregates = columns.flatMap((column, i) => {
    const id = quoteIdent(column.name);
    const parts = [`count(*) - count(${id}) as n${i}`];
    if (logicalTypeOf(column.type) === 'string') parts.push(`count(distinct ${id}) as d${i}`);
    return parts;
  });
  const stats =
    (await connection.runAndReadAll(`select ${aggregates.join(', ')} from ${relation}`)).getRowObjectsJson()[0] ?? {};
  const result: ColumnSchema[] = [];
  for (const [i, column] of columns.entries()) {
    const nulls = Number(stats[`n${i}`] ?? 0);
    let logicalType = logicalTypeOf(column.type);
    let domain: string[] | undefined;
    if (logicalType === 'string' && /^VARCHAR/i.test(column.type)) {
      const distinct = Number(stats[`d${i}`] ?? 0);
      if (distinct > 0 && distinct <= limits.maxDistinct && distinct <= rowCount * limits.maxShare) {
        logicalType = 'categorical';
        const id = quoteIdent(column.name);
        const rows = await connection.runAndReadAll(
          `select distinct ${id} as v from ${relation} where ${id} is not null order by v`,
        );
        domain = rows.getRowObjectsJson().map((row) => String(row.v));
      }
    }
    result.push({
      name: column.name,
      logicalType,
      physicalType: column.type,
      nullable: nulls > 0,
      ...(domain === undefined ? {} : { domain }),
    });
  }
  return { columns: result };
}

/**
 * Compares two schemas by column name: what a consumer of version `a` must know before reading `b`.
 * A categorical column whose domain changed is not retyped; profiles and validation report that.
 *
 * @example
 * const diff = diffSchemas(v1.schema, v2.schema); // { added: [...], removed: [], retyped: [...] }
 */
export function diffSchemas(a: DatasetSchema, b: DatasetSchema): SchemaDiff {
  const before = new Map(a.columns.map((column) => [column.name, column]));
  const after = new Map(b.columns.map((column) => [column.name, column]));
  const diff: SchemaDiff = { added: [], removed: [], retyped: [], nullabilityChanged: [] };
  for (const column of b.columns) if (!before.has(column.name)) diff.added.push(column);
  for (const column of a.columns) {
    const next = after.get(column.name);
    if (next === undefined) {
      diff.removed.push(column);
      continue;
    }
    if (next.logicalType !== column.logicalType) {
      diff.retyped.push({ name: column.name, from: column.logicalType, to: next.logicalType });
    }
    if (next.nullable !== column.nullable) diff.nullabilityChanged.push(column.name);
  }
  return diff;
}
