import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetProfile, DatasetSchema } from './model.js';
import { profileParquet } from './profile.js';
import { type CategoricalLimits, DEFAULT_CATEGORICAL_LIMITS, inferSchema, quoteLiteral } from './schema.js';

/** What Kiln records about a Parquet file's content: its size in rows, its schema and its profile. */
export interface ParquetDescription {
  rowCount: number;
  schema: DatasetSchema;
  profile: DatasetProfile;
}

/**
 * Counts, infers the schema of and profiles a Parquet file, all inside DuckDB: the one description
 * every version gets, however it was made (ingested file, upload, SQL, split).
 *
 * @example
 * const { rowCount, schema, profile } = await describeParquet(connection, '/tmp/out.parquet');
 */
export async function describeParquet(
  connection: DuckDBConnection,
  parquetPath: string,
  limits: CategoricalLimits = DEFAULT_CATEGORICAL_LIMITS,
): Promise<ParquetDescription> {
  const relation = `read_parquet(${quoteLiteral(parquetPath)})`;
  const counted = (await connection.runAndReadAll(`select count(*) as n from ${relation}`)).getRowObjectsJson();
  const rowCount = Number(counted[0]?.n ?? 0);
  const schema = await inferSchema(connection, relation, rowCount, limits);
  const profile = await profileParquet(connection, parquetPath, schema);
  return { rowCount, schema, profile };
}
