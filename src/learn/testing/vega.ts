import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CategoricalColumn, FloatColumn, Frame } from '../frame.js';

/**
 * The real files of the `vega-datasets` dev dependency (the same directory as src/data/testing's
 * VEGA_DATA, which src/learn may not import).
 */
export const VEGA_DATA = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/', import.meta.url));
export const PENGUINS_JSON = `${VEGA_DATA}penguins.json`;

/** A float column from numbers, null for missing. */
export function floatColumn(name: string, values: readonly (number | null)[]): FloatColumn {
  return { kind: 'float', name, values: Float64Array.from(values, (v) => v ?? Number.NaN) };
}

/** A categorical column from strings, null for missing; dictionary in order of first appearance. */
export function categoricalColumn(name: string, values: readonly (string | null)[]): CategoricalColumn {
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const codes = Int32Array.from(values, (v) => {
    if (v === null) return -1;
    let code = index.get(v);
    if (code === undefined) {
      code = dictionary.length;
      index.set(v, code);
      dictionary.push(v);
    }
    return code;
  });
  return { kind: 'categorical', name, codes, dictionary };
}

/** penguins.json as raw records: Species, Island, Sex (null and '.' included) and four measurements. */
export type PenguinRecord = Record<string, string | number | null>;

export const PENGUIN_NUMBERS = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
export const PENGUIN_CATEGORIES = ['Species', 'Island', 'Sex'];

export function penguinRecords(): PenguinRecord[] {
  return JSON.parse(readFileSync(`${VEGA_DATA}penguins.json`, 'utf8')) as PenguinRecord[];
}

/** A frame of the given penguin records, built by hand. */
export function penguinFrame(records: readonly PenguinRecord[]): Frame {
  return {
    rows: records.length,
    columns: [
      ...PENGUIN_CATEGORIES.map((name) =>
        categoricalColumn(
          name,
          records.map((r) => r[name] as string | null),
        ),
      ),
      ...PENGUIN_NUMBERS.map((name) =>
        floatColumn(
          name,
          records.map((r) => r[name] as number | null),
        ),
      ),
    ],
  };
}

/** seattle-weather.csv: date (UTC midnight), four measurements and the weather category. */
export function seattleFrame(): Frame {
  const lines = readFileSync(`${VEGA_DATA}seattle-weather.csv`, 'utf8').trim().split('\n').slice(1);
  const cells = lines.map((line) => line.split(','));
  const numbers = ['precipitation', 'temp_max', 'temp_min', 'wind'];
  return {
    rows: cells.length,
    columns: [
      { kind: 'datetime', name: 'date', values: Float64Array.from(cells, (c) => Date.parse(`${c[0]}T00:00:00Z`)) },
      ...numbers.map((name, j) =>
        floatColumn(
          name,
          cells.map((c) => Number(c[j + 1])),
        ),
      ),
      categoricalColumn(
        'weather',
        cells.map((c) => c[5] as string),
      ),
    ],
  };
}
