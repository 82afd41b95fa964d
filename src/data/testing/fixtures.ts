import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

/** Real files from the `vega-datasets` dev dependency. */
export const VEGA_DATA = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/', import.meta.url));
export const PENGUINS_JSON = `${VEGA_DATA}penguins.json`;
export const SEATTLE_CSV = `${VEGA_DATA}seattle-weather.csv`;

/** Asks DuckDB directly, outside the code under test: the independent answer tests compare with. */
export async function duckdbAnswer(query: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(query)).getRowObjectsJson() as Record<string, unknown>[];
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
