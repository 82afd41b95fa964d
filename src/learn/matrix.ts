/**
 * A dense row-major matrix of doubles: what preprocessing produces and linear learners consume.
 * `data[r * cols + c]` is row r, column c.
 */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
  /** Names of the columns, e.g. `origin=ATL` for a one-hot column. */
  names: string[];
}

/** A zero matrix of the given shape. */
export function zeros(rows: number, cols: number, names?: string[]): Matrix {
  return {
    rows,
    cols,
    data: new Float64Array(rows * cols),
    names: names ?? Array.from({ length: cols }, (_, i) => `x${i}`),
  };
}

/** Builds a matrix from row arrays (tests and small inputs). */
export function fromRows(rows: readonly (readonly number[])[], names?: string[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const m = zeros(rows.length, cols, names);
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new Error(`row ${r} has ${row.length} values, expected ${cols}`);
    m.data.set(row, r * cols);
  });
  return m;
}

/** The rows at `indices`, in that order. */
export function takeMatrixRows(m: Matrix, indices: Int32Array | readonly number[]): Matrix {
  const out = zeros(indices.length, m.cols, m.names);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] as number;
    out.data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return out;
}
