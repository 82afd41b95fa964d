import { KilnError } from '../../core/index.js';
import type { Matrix } from '../matrix.js';

/** The bin code of a missing (NaN) value in every feature; real bins are 0 … `bins[f] − 1` ≤ 254. */
export const MISSING_BIN = 255;

/** The most real bins a feature can have: one byte per cell with code 255 kept for missing values. */
export const MAX_BINS = 255;

/**
 * Per-feature cut points learned from training values. Bin b of feature f holds the values v with
 * `cuts[f][b − 1] ≤ v < cuts[f][b]` (open at both ends), so a split "bins 0 … b go left" is the real
 * threshold `v < cuts[f][b]`: a fitted tree never needs the binner to predict.
 */
export interface Binner {
  /** Ascending cut points per feature; feature f has `cuts[f].length + 1` real bins. */
  cuts: Float64Array[];
}

/**
 * A matrix reduced to bin codes, column-major (`codes[f * rows + r]`), so building one feature's
 * histogram scans one contiguous byte column.
 */
export interface BinnedMatrix {
  rows: number;
  cols: number;
  codes: Uint8Array;
  /** Real bins per feature (the missing bin not counted). */
  bins: Int32Array;
}

/**
 * Learns cut points per feature as XGBoost's and LightGBM's histogram methods do: a feature with at
 * most `maxBins` distinct training values gets one bin per value; otherwise the cuts are evenly spaced
 * quantiles of its values (ties collapse, so heavy values get a bin of their own). NaN is ignored here
 * and lands in {@link MISSING_BIN}.
 *
 * @example
 * const binner = fitBinner(fromRows([[1], [2], [2], [Number.NaN]]), 255);
 * binner.cuts[0]; // Float64Array [2]: bin 0 holds v < 2, bin 1 holds v ≥ 2
 */
export function fitBinner(X: Matrix, maxBins = MAX_BINS): Binner {
  if (!(Number.isInteger(maxBins) && maxBins >= 2 && maxBins <= MAX_BINS)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`, {
      field: 'maxBins',
    });
  }
  const { rows, cols, data } = X;
  const values = new Float64Array(rows);
  const cuts: Float64Array[] = [];
  for (let f = 0; f < cols; f++) {
    let m = 0;
    for (let r = 0; r < rows; r++) {
      const v = data[r * cols + f] as number;
      if (!Number.isNaN(v)) values[m++] = v;
    }
    const sorted = values.subarray(0, m).sort();
    cuts.push(cutPoints(sorted, maxBins));
  }
  return { cuts };
}

/** Cut points for one feature's sorted, NaN-free values. */
function cutPoints(sorted: Float64Array, maxBins: number): Float64Array {
  const m = sorted.length;
  const distinct: number[] = [];
  for (let i = 0; i < m && distinct.length <= maxBins; i++) {
    const v = sorted[i] as number;
    if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
  }
  if (distinct.length <= maxBins) return Float64Array.from(distinct.slice(1));
  const out: number[] = [];
  const min = sorted[0] as number;
  for (let k = 1; k < maxBins; k++) {
    const q = sorted[Math.floor((k * m) / maxBins)] as number;
    if (q > min && (out.length === 0 || q > (out[out.length - 1] as number))) out.push(q);
  }
  return Float64Array.from(out);
}

/**
 * The bin of `value` given one feature's cuts: the number of cuts ≤ value (binary search), or
 * {@link MISSING_BIN} for NaN.
 *
 * @example
 * binOf(Float64Array.of(2, 5), 3); // 1
 */
export function binOf(cuts: Float64Array, value: number): number {
  if (Number.isNaN(value)) return MISSING_BIN;
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cuts[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Replaces every cell of `X` by its bin code under `binner` (column-major), what tree growth scans.
 *
 * @example
 * const X = fromRows([[1, 10], [2, Number.NaN]]);
 * const binned = binMatrix(fitBinner(X), X); // binned.codes = [0, 1, 0, 255]
 */
export function binMatrix(binner: Binner, X: Matrix): BinnedMatrix {
  const { rows, cols, data } = X;
  if (binner.cuts.length !== cols) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `X has ${cols} columns, the binner was fitted on ${binner.cuts.length}`,
      {
        field: 'X',
      },
    );
  }
  const codes = new Uint8Array(rows * cols);
  const bins = new Int32Array(cols);
  for (let f = 0; f < cols; f++) {
    const cuts = binner.cuts[f] as Float64Array;
    bins[f] = cuts.length + 1;
    const off = f * rows;
    for (let r = 0; r < rows; r++) codes[off + r] = binOf(cuts, data[r * cols + f] as number);
  }
  return { rows, cols, codes, bins };
}
