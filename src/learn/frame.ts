/**
 * Columnar frames: the tabular data learners and preprocessing work on, one typed array per column,
 * never an array of row objects. A 3-million-row float column is one 24 MB Float64Array.
 */

/** A float column; `NaN` in `values` is a missing value, so no separate mask is needed. */
export interface FloatColumn {
  kind: 'float';
  name: string;
  values: Float64Array;
}

/**
 * A categorical column, dictionary-encoded: `codes[i]` indexes `dictionary`, and -1 is a missing
 * value. String, boolean and low-cardinality integer columns load as categoricals.
 */
export interface CategoricalColumn {
  kind: 'categorical';
  name: string;
  codes: Int32Array;
  dictionary: string[];
}

/** Date or timestamp column: milliseconds since the Unix epoch, UTC; `NaN` is a missing value. */
export interface DatetimeColumn {
  kind: 'datetime';
  name: string;
  values: Float64Array;
}

export type Column = FloatColumn | CategoricalColumn | DatetimeColumn;

/** Columns of equal length. */
export interface Frame {
  rows: number;
  columns: Column[];
}

/** The column named `name`; throws a plain Error naming the known columns (a programming error). */
export function column(frame: Frame, name: string): Column {
  const found = frame.columns.find((c) => c.name === name);
  if (found === undefined) {
    throw new Error(`frame has no column '${name}'; it has ${frame.columns.map((c) => c.name).join(', ')}`);
  }
  return found;
}

/** True when row `i` of `col` is missing. */
export function isMissing(col: Column, i: number): boolean {
  return col.kind === 'categorical' ? (col.codes[i] as number) < 0 : Number.isNaN(col.values[i] as number);
}

/** The rows of `frame` at `indices`, in that order (for splits, folds and bootstrap samples). */
export function takeRows(frame: Frame, indices: Int32Array | readonly number[]): Frame {
  const n = indices.length;
  const columns = frame.columns.map((col): Column => {
    if (col.kind === 'categorical') {
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) codes[i] = col.codes[indices[i] as number] as number;
      return { kind: 'categorical', name: col.name, codes, dictionary: col.dictionary };
    }
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = col.values[indices[i] as number] as number;
    return { kind: col.kind, name: col.name, values };
  });
  return { rows: n, columns };
}
