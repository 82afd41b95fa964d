import { KilnError } from '../core/index.js';
import { createRng, shuffleInPlace } from './random.js';

/** One cross-validation split: row indices to fit on and row indices to score, both ascending. */
export interface Split {
  train: Int32Array;
  test: Int32Array;
}

/** Options for the shuffling splitters. Without `shuffle`, folds are contiguous as in sklearn. */
export interface ShuffleOptions {
  shuffle?: boolean;
  /** Seed for {@link createRng}; default 0. Ignored without `shuffle`. */
  seed?: number;
}

/** Options for {@link timeSeriesSplit}, named after sklearn's `TimeSeriesSplit` arguments. */
export interface TimeSeriesSplitOptions {
  /** Rows per test fold; default `floor(n / (k + 1))`. */
  testSize?: number;
  /** Rows left out between the end of each train set and its test set; default 0. */
  gap?: number;
  /** Keep only the latest `maxTrainSize` rows of each train set. */
  maxTrainSize?: number;
}

function checkCount(value: number, field: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${field} must be an integer >= ${min}, got ${value}`, { field });
  }
}

/** Turns a fold assignment (fold number per row) into the split for `fold`, indices ascending. */
function splitForFold(folds: Int32Array, fold: number, testCount: number): Split {
  const test = new Int32Array(testCount);
  const train = new Int32Array(folds.length - testCount);
  let t = 0;
  let r = 0;
  for (let i = 0; i < folds.length; i++) {
    if (folds[i] === fold) test[t++] = i;
    else train[r++] = i;
  }
  return { train, test };
}

/**
 * K-fold cross-validation over `n` rows, as sklearn's `KFold`: the first `n % k` folds get one extra
 * row; without shuffling each test fold is a contiguous block, with shuffling the rows are permuted by
 * a seeded {@link createRng} first. Every row is in exactly one test fold.
 *
 * @example
 * for (const { train, test } of kFold(100, 5, { shuffle: true, seed: 1 })) {
 *   const model = fit(takeMatrixRows(x, train)); // score on takeMatrixRows(x, test)
 * }
 */
export function* kFold(n: number, k: number, options: ShuffleOptions = {}): Generator<Split> {
  checkCount(k, 'k', 2);
  checkCount(n, 'n', 1);
  if (k > n) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `k = ${k} folds need at least ${k} rows, got ${n}`, { field: 'k' });
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (options.shuffle) shuffleInPlace(order, createRng(options.seed ?? 0));
  const folds = new Int32Array(n);
  const base = Math.floor(n / k);
  const sizes = Array.from({ length: k }, (_, f) => base + (f < n % k ? 1 : 0));
  let start = 0;
  sizes.forEach((size, f) => {
    for (let i = start; i < start + size; i++) folds[order[i] as number] = f;
    start += size;
  });
  for (let f = 0; f < k; f++) yield splitForFold(folds, f, sizes[f] as number);
}

/**
 * Stratified k-fold, as sklearn's `StratifiedKFold`: each test fold keeps the class proportions of
 * `labels`. Classes are numbered by first appearance, the sorted labels are dealt round-robin to the
 * folds to decide how many rows of each class each fold gets, and each class's rows are then given
 * to folds in blocks (in row order, or permuted with a seeded rng when shuffling). Without shuffling
 * the folds are identical to sklearn's.
 *
 * @example
 * const folds = [...stratifiedKFold(Int32Array.from([0, 0, 0, 1, 1, 1]), 3)];
 * // each test fold holds one row of class 0 and one of class 1
 */
export function* stratifiedKFold(labels: Int32Array, k: number, options: ShuffleOptions = {}): Generator<Split> {
  checkCount(k, 'k', 2);
  const n = labels.length;
  if (n === 0) throw new KilnError('INVALID_PARAMETER_VALUE', 'labels is empty', { field: 'labels' });
  if (k > n) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `k = ${k} folds need at least ${k} rows, got ${n}`, { field: 'k' });
  }
  const codeOf = new Map<number, number>();
  const encoded = new Int32Array(n);
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = labels[i] as number;
    let code = codeOf.get(label);
    if (code === undefined) {
      code = counts.length;
      codeOf.set(label, code);
      counts.push(0);
    }
    encoded[i] = code;
    counts[code] = (counts[code] as number) + 1;
  }
  if (counts.every((c) => c < k)) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `k = ${k} is larger than the row count of every class (largest ${Math.max(...counts)})`,
      { field: 'k' },
    );
  }
  const rng = options.shuffle ? createRng(options.seed ?? 0) : undefined;
  // Per class, the fold of each of its rows in row order: class c occupies positions
  // [start, start + count) of the sorted labels and position p goes to fold p % k.
  let start = 0;
  const foldsByClass = counts.map((count) => {
    const perFold = new Int32Array(k);
    for (let p = start; p < start + count; p++) perFold[p % k] = (perFold[p % k] as number) + 1;
    const blocks = new Int32Array(count);
    let at = 0;
    for (let f = 0; f < k; f++) {
      const end = at + (perFold[f] as number);
      blocks.fill(f, at, end);
      at = end;
    }
    if (rng) shuffleInPlace(blocks, rng);
    start += count;
    return blocks;
  });
  const next = new Int32Array(counts.length);
  const folds = new Int32Array(n);
  const testCounts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = encoded[i] as number;
    const position = next[c] as number;
    next[c] = position + 1;
    const f = (foldsByClass[c] as Int32Array)[position] as number;
    folds[i] = f;
    testCounts[f] = (testCounts[f] as number) + 1;
  }
  for (let f = 0; f < k; f++) yield splitForFold(folds, f, testCounts[f] as number);
}

/**
 * Forward-chaining splits for time-ordered rows, as sklearn's `TimeSeriesSplit`: `k` consecutive test
 * blocks at the end of the data, each trained on everything before it (minus `gap`, optionally capped
 * at `maxTrainSize` most recent rows), so a model never sees the future it is scored on.
 *
 * @example
 * for (const { train, test } of timeSeriesSplit(365, 4)) {
 *   // train = days 0 … t-1, test = the next 73 days
 * }
 */
export function* timeSeriesSplit(n: number, k: number, options: TimeSeriesSplitOptions = {}): Generator<Split> {
  checkCount(k, 'k', 2);
  checkCount(n, 'n', 1);
  if (k + 1 > n) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `k = ${k} splits need at least ${k + 1} rows, got ${n}`, {
      field: 'k',
    });
  }
  const testSize = options.testSize ?? Math.floor(n / (k + 1));
  const gap = options.gap ?? 0;
  checkCount(testSize, 'testSize', 1);
  checkCount(gap, 'gap', 0);
  if (options.maxTrainSize !== undefined) checkCount(options.maxTrainSize, 'maxTrainSize', 1);
  if (n - gap - testSize * k <= 0) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `${k} test folds of ${testSize} rows plus a gap of ${gap} leave no training rows out of ${n}`,
      { field: 'k' },
    );
  }
  for (let testStart = n - k * testSize; testStart < n; testStart += testSize) {
    const trainEnd = testStart - gap;
    const trainStart =
      options.maxTrainSize !== undefined && options.maxTrainSize < trainEnd ? trainEnd - options.maxTrainSize : 0;
    yield {
      train: Int32Array.from({ length: trainEnd - trainStart }, (_, i) => trainStart + i),
      test: Int32Array.from({ length: testSize }, (_, i) => testStart + i),
    };
  }
}
