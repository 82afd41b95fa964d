import { invalidParameter, KilnError } from '../../core/index.js';
import type { Matrix } from '../matrix.js';
import { createRng } from '../random.js';

/** The bin code of a missing (NaN) value in every feature; real bins are 0 … `bins[f] − 1` ≤ 254. */
export const MISSING_BIN = 255;

/** The most real bins a feature can have: one byte per cell with code 255 kept for missing values. */
export const MAX_BINS = 255;

/** Rows the quantile cuts are learned from by default: more rows are sampled down to this many. */
export const DEFAULT_BINNING_SAMPLE = 200_000;

/**
 * Per-feature cut points learned from training values. Bin b of a numeric feature f holds the values v
 * with `cuts[f][b − 1] ≤ v < cuts[f][b]` (open at both ends), so a split "bins 0 … b go left" is the
 * real threshold `v < cuts[f][b]`: a fitted tree never needs the binner to predict. A categorical
 * feature has no cuts; `categories[f][b]` lists the category codes of its bin b instead.
 */
export interface Binner {
  /** Ascending cut points per feature; numeric feature f has `cuts[f].length + 1` real bins. */
  cuts: Float64Array[];
  /**
   * Per feature, null for numeric ones; for a categorical one the codes of each bin: one code per bin,
   * except that beyond `maxBins` distinct codes the rarest share the last bin.
   */
  categories?: (number[][] | null)[];
}

/** How {@link fitBinner} treats columns and how many rows it learns cuts from. */
export interface BinnerOptions {
  /** Columns holding integer category codes ≥ 0 (NaN = missing), binned one bin per code. */
  categoricalFeatures?: readonly number[];
  /** Quantile cuts are learned from a random sample of this many rows when X has more; default 200,000. */
  sampleSize?: number;
  /** Seed of that sample; default 0. */
  seed?: number;
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
 * quantiles of its values (ties collapse, so heavy values get a bin of their own), learned from a
 * sample of at most `sampleSize` rows as XGBoost's sketch does. NaN is ignored here and lands in
 * {@link MISSING_BIN}. Categorical columns get one bin per category code, the most frequent first
 * when there are more than `maxBins`.
 *
 * @example
 * const binner = fitBinner(fromRows([[1], [2], [2], [Number.NaN]]), 255);
 * binner.cuts[0]; // Float64Array [2]: bin 0 holds v < 2, bin 1 holds v ≥ 2
 */
export function fitBinner(X: Matrix, maxBins = MAX_BINS, options: BinnerOptions = {}): Binner {
  if (!(Number.isInteger(maxBins) && maxBins >= 2 && maxBins <= MAX_BINS)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`, {
      field: 'maxBins',
    });
  }
  const { rows, cols, data } = X;
  const categorical = categoricalMask(cols, options.categoricalFeatures);
  const sampleSize = options.sampleSize ?? DEFAULT_BINNING_SAMPLE;
  if (!(Number.isInteger(sampleSize) && sampleSize >= 1)) {
    throw invalidParameter('sampleSize', `must be an integer ≥ 1, got ${sampleSize}`);
  }
  const sample = rows > sampleSize ? sampleRowIndices(rows, sampleSize, options.seed ?? 0) : null;
  const m = sample ? sample.length : rows;
  const values = new Float64Array(m);
  const cuts: Float64Array[] = [];
  const categories: (number[][] | null)[] = [];
  for (let f = 0; f < cols; f++) {
    if (categorical[f] === 1) {
      cuts.push(new Float64Array(0));
      categories.push(categoryBins(X, f, maxBins));
      continue;
    }
    categories.push(null);
    let count = 0;
    for (let i = 0; i < m; i++) {
      const r = sample ? (sample[i] as number) : i;
      const v = data[r * cols + f] as number;
      if (!Number.isNaN(v)) values[count++] = v;
    }
    cuts.push(cutPoints(values.subarray(0, count).sort(), maxBins));
  }
  return categorical.includes(1) ? { cuts, categories } : { cuts };
}

function categoricalMask(cols: number, features: readonly number[] | undefined): Uint8Array {
  const mask = new Uint8Array(cols);
  for (const f of features ?? []) {
    if (!(Number.isInteger(f) && f >= 0 && f < cols)) {
      throw invalidParameter('categoricalFeatures', `${f} is not a column index in [0, ${cols})`);
    }
    mask[f] = 1;
  }
  return mask;
}

/** `size` distinct row indices out of `rows`, ascending, drawn with a seeded generator (Floyd's method). */
function sampleRowIndices(rows: number, size: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const taken = new Uint8Array(rows);
  for (let j = rows - size; j < rows; j++) {
    const t = Math.floor(rng() * (j + 1));
    taken[taken[t] === 1 ? j : t] = 1;
  }
  const out = new Int32Array(size);
  let k = 0;
  for (let r = 0; r < rows; r++) if (taken[r] === 1) out[k++] = r;
  return out;
}

/** The bins of one categorical column: its codes by descending frequency, the rarest sharing the last bin. */
function categoryBins(X: Matrix, f: number, maxBins: number): number[][] {
  const counts = new Map<number, number>();
  const { rows, cols, data } = X;
  for (let r = 0; r < rows; r++) {
    const v = data[r * cols + f] as number;
    if (Number.isNaN(v)) continue;
    if (!(Number.isInteger(v) && v >= 0)) {
      throw invalidParameter('X', `column ${f} is categorical but row ${r} holds ${v}, not an integer code ≥ 0`);
    }
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const codes = [...counts.keys()].sort((a, b) => (counts.get(b) as number) - (counts.get(a) as number) || a - b);
  if (codes.length === 0) return [[]];
  if (codes.length <= maxBins) return codes.map((c) => [c]);
  const own = codes.slice(0, maxBins - 1).map((c) => [c]);
  own.push(codes.slice(maxBins - 1).sort((a, b) => a - b));
  return own;
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

/** Real bins per feature under `binner`. */
function binCounts(binner: Binner): Int32Array {
  return Int32Array.from(binner.cuts, (cuts, f) => binner.categories?.[f]?.length ?? cuts.length + 1);
}

/** Each numeric feature's cuts padded with +∞ to 255 entries, so {@link binRows} searches in fixed steps. */
function paddedCuts(binner: Binner): Float64Array {
  const table = new Float64Array(binner.cuts.length * MAX_BINS).fill(Number.POSITIVE_INFINITY);
  binner.cuts.forEach((cuts, f) => {
    table.set(cuts, f * MAX_BINS);
  });
  return table;
}

/**
 * Writes the bin code of every cell of X to `codes[r * rowStride + f * colStride]`, row by row so X is
 * read once in order: the shared core of the column-major and row-major layouts. A numeric value's bin
 * (the number of cuts ≤ it) comes from a binary search of eight fixed steps over the padded cuts.
 */
function binRows(binner: Binner, X: Matrix, codes: Uint8Array, rowStride: number, colStride: number): void {
  const { rows, cols, data } = X;
  const table = paddedCuts(binner);
  const lookups = Array.from({ length: cols }, (_, f) => categoryLookup(binner.categories?.[f]));
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    const out = r * rowStride;
    for (let f = 0; f < cols; f++) {
      const v = data[row + f] as number;
      let bin: number;
      if (Number.isNaN(v)) bin = MISSING_BIN;
      else {
        const lookup = lookups[f];
        if (lookup) {
          // A code unseen in training has no bin of its own; it shares the last one (rarest codes).
          bin = categoryBin(lookup, v);
        } else {
          const o = f * MAX_BINS;
          bin = v >= (table[o + 127] as number) ? 128 : 0;
          if (v >= (table[o + bin + 63] as number)) bin += 64;
          if (v >= (table[o + bin + 31] as number)) bin += 32;
          if (v >= (table[o + bin + 15] as number)) bin += 16;
          if (v >= (table[o + bin + 7] as number)) bin += 8;
          if (v >= (table[o + bin + 3] as number)) bin += 4;
          if (v >= (table[o + bin + 1] as number)) bin += 2;
          if (v >= (table[o + bin] as number)) bin += 1;
        }
      }
      codes[out + f * colStride] = bin;
    }
  }
}

/** Codes up to this size are looked up in a table; larger ones (rare: codes are dictionary indices) in a map. */
const TABLE_CODES = 1 << 20;

interface CategoryLookup {
  table: Int16Array | null;
  map: Map<number, number> | null;
  /** The bin of codes without their own: the last one, shared by the rarest codes. */
  last: number;
}

function categoryLookup(groups: number[][] | null | undefined): CategoryLookup | null {
  if (!groups) return null;
  let maxCode = -1;
  for (const group of groups) for (const code of group) maxCode = Math.max(maxCode, code);
  const last = groups.length - 1;
  if (maxCode >= TABLE_CODES) {
    const map = new Map<number, number>();
    groups.forEach((group, b) => {
      for (const code of group) map.set(code, b);
    });
    return { table: null, map, last };
  }
  const table = new Int16Array(maxCode + 1).fill(-1);
  groups.forEach((group, b) => {
    for (const code of group) table[code] = b;
  });
  return { table, map: null, last };
}

function categoryBin(lookup: CategoryLookup, code: number): number {
  if (lookup.table) {
    const known =
      Number.isInteger(code) && code >= 0 && code < lookup.table.length ? (lookup.table[code] as number) : -1;
    return known >= 0 ? known : lookup.last;
  }
  return lookup.map?.get(code) ?? lookup.last;
}

function checkColumns(binner: Binner, X: Matrix): void {
  if (binner.cuts.length !== X.cols) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `X has ${X.cols} columns, the binner was fitted on ${binner.cuts.length}`,
      { field: 'X' },
    );
  }
}

/**
 * Replaces every cell of `X` by its bin code under `binner` (column-major), what tree growth scans.
 *
 * @example
 * const X = fromRows([[1, 10], [2, Number.NaN]]);
 * const binned = binMatrix(fitBinner(X), X); // binned.codes = [0, 1, 0, 255]
 */
export function binMatrix(binner: Binner, X: Matrix): BinnedMatrix {
  checkColumns(binner, X);
  const codes = new Uint8Array(X.rows * X.cols);
  binRows(binner, X, codes, 1, X.rows);
  return { rows: X.rows, cols: X.cols, codes, bins: binCounts(binner) };
}

/**
 * The bin codes of `X` row-major (`codes[r * cols + f]`) in `codes` (e.g. a view of shared memory),
 * the layout boosting builds histograms from: one pass over a node's rows updates every feature.
 *
 * @example
 * const binned = binMatrixByRows(binner, X, new Uint8Array(X.rows * X.cols));
 */
export function binMatrixByRows(binner: Binner, X: Matrix, codes: Uint8Array): BinnedMatrix {
  checkColumns(binner, X);
  binRows(binner, X, codes, X.cols, 1);
  return { rows: X.rows, cols: X.cols, codes, bins: binCounts(binner) };
}

/**
 * The column-major copy of row-major codes (`rows × cols`) into `out`: tree growth partitions a
 * node's rows by one feature, and reading that feature's own column keeps those reads in cache.
 *
 * @example
 * const byColumn = transposeCodes(binned.codes, binned.rows, binned.cols, new Uint8Array(binned.codes.length));
 */
export function transposeCodes(codes: Uint8Array, rows: number, cols: number, out: Uint8Array): Uint8Array {
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let f = 0; f < cols; f++) out[f * rows + r] = codes[row + f] as number;
  }
  return out;
}
