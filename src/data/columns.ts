import type { DuckDBConnection } from '@duckdb/node-api';
import { KilnError } from '../core/index.js';
import type { DatasetSchema, LogicalType } from './model.js';
import { quoteIdent } from './schema.js';

/**
 * A table read column by column into typed arrays: the shape learners train on. It matches
 * `Frame` of the learn context field for field (learn imports only core, so the two contexts share
 * the shape, not a type): floats and datetimes as Float64Array with NaN for missing, categoricals
 * as Int32Array codes into a sorted dictionary with -1 for missing.
 */
export interface ColumnarTable {
  rows: number;
  columns: (
    | { kind: 'float'; name: string; values: Float64Array }
    | { kind: 'datetime'; name: string; values: Float64Array }
    | { kind: 'categorical'; name: string; codes: Int32Array; dictionary: string[] }
  )[];
}

type Kind = ColumnarTable['columns'][number]['kind'];

function kindOf(logicalType: LogicalType): Kind {
  if (logicalType === 'integer' || logicalType === 'float') return 'float';
  if (logicalType === 'datetime') return 'datetime';
  return 'categorical';
}

/** The SQL expression that yields column `name` as a DOUBLE (float, datetime) or an INTEGER code. */
function selectExpression(name: string, kind: Kind, dictionaryType: string | undefined): string {
  const id = quoteIdent(name);
  if (kind === 'float') return `${id}::double`;
  // Dates and timestamps as epoch milliseconds, UTC.
  if (kind === 'datetime') return `epoch_ms(${id}::timestamp)::double`;
  // An all-null column has no values to make an ENUM of: every code is missing.
  if (dictionaryType === undefined) return 'null::integer';
  return `enum_code(${id}::varchar::${dictionaryType})::integer`;
}

/**
 * Reads `columns` (all of them by default) of `relation` into typed arrays, one DuckDB data chunk
 * at a time: numbers cross as doubles straight out of DuckDB's vectors and categoricals as codes
 * of an ENUM built from their distinct values, so no row object and no per-row string is ever
 * made. A string column with more than `maxCategories` distinct values is refused, naming it:
 * free text is not a feature until something encodes it.
 *
 * @example
 * const table = await readColumns(connection, 'kiln_data', version.schema, { columns: ['delay', 'origin'] });
 * table.columns[0].values; // Float64Array(3000000)
 */
export async function readColumns(
  connection: DuckDBConnection,
  relation: string,
  schema: DatasetSchema,
  options: { columns?: readonly string[]; maxCategories?: number } = {},
): Promise<ColumnarTable> {
  const wanted = options.columns ?? schema.columns.map((c) => c.name);
  const maxCategories = options.maxCategories ?? 100_000;
  const chosen = wanted.map((name, i) => {
    const found = schema.columns.find((c) => c.name === name);
    if (found === undefined) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `the dataset has no column '${name}'`, {
        field: `columns[${i}]`,
        known: schema.columns.map((c) => c.name),
      });
    }
    return { name, kind: kindOf(found.logicalType) };
  });
  const dictionaries = new Map<string, string[]>();
  for (const [i, column] of chosen.entries()) {
    if (column.kind !== 'categorical') continue;
    const id = quoteIdent(column.name);
    const distinct = await connection.runAndReadAll(
      `select distinct ${id}::varchar as v from ${relation} where ${id} is not null order by v limit ${maxCategories + 1}`,
    );
    const values = distinct.getColumnsJS()[0]?.map(String) ?? [];
    if (values.length > maxCategories) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `column '${column.name}' has more than ${maxCategories} distinct values; it cannot be read as a categorical`,
        { field: `columns[${i}]`, column: column.name },
      );
    }
    dictionaries.set(column.name, values);
    if (values.length === 0) continue;
    const literals = values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
    await connection.run(`create or replace type kiln_enum_${i} as enum (${literals})`);
  }
  const counted = await connection.runAndReadAll(`select count(*) as n from ${relation}`);
  const rows = Number(counted.getColumnsJS()[0]?.[0] ?? 0);
  const arrays = chosen.map((column) =>
    column.kind === 'categorical' ? new Int32Array(rows).fill(-1) : new Float64Array(rows).fill(Number.NaN),
  );
  if (chosen.length > 0 && rows > 0) {
    const enumOf = (name: string, i: number) =>
      (dictionaries.get(name)?.length ?? 0) > 0 ? `kiln_enum_${i}` : undefined;
    const select = chosen.map((c, i) => `${selectExpression(c.name, c.kind, enumOf(c.name, i))} as c${i}`).join(', ');
    const result = await connection.stream(`select ${select} from ${relation}`);
    let offset = 0;
    for (
      let chunk = await result.fetchChunk();
      chunk !== null && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      const n = chunk.rowCount;
      for (let c = 0; c < chosen.length; c++) {
        const vector = chunk.getColumnVector(c);
        const target = arrays[c] as Float64Array | Int32Array;
        for (let r = 0; r < n; r++) {
          const value = vector.getItem(r);
          if (value !== null) target[offset + r] = Number(value);
        }
      }
      offset += n;
    }
  }
  return {
    rows,
    columns: chosen.map((column, i) =>
      column.kind === 'categorical'
        ? {
            kind: 'categorical' as const,
            name: column.name,
            codes: arrays[i] as Int32Array,
            dictionary: dictionaries.get(column.name) ?? [],
          }
        : { kind: column.kind, name: column.name, values: arrays[i] as Float64Array },
    ),
  };
}
