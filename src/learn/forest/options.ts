import { availableParallelism } from 'node:os';
import { invalidParameter } from '../../core/index.js';
import { MAX_BINS } from '../gbdt/binning.js';
import type { Matrix } from '../matrix.js';

/** What the forest predicts: class probabilities (labels are class indices 0 … k − 1) or a number. */
export type ForestTask = 'classification' | 'regression';

/** Impurity a split minimises: Gini or entropy (classification), squared error (regression). */
export type ForestCriterion = 'gini' | 'entropy' | 'squared_error';

/**
 * Features drawn at every split: `'sqrt'` / `'log2'` of the feature count, `'all'`, a fraction in (0, 1)
 * as a share of the features, or an integer ≥ 1 as a count. (sklearn's `1.0` meaning "all" is `'all'`
 * here: an integer is always a count.)
 */
export type ForestMaxFeatures = 'sqrt' | 'log2' | 'all' | number;

/**
 * Per-class weights multiplied into every row's weight: `'balanced'` (n / (k · count of the class) over
 * all rows), `'balanced_subsample'` (the same over each tree's bootstrap sample) or a map from class
 * index to weight (missing classes weigh 1).
 */
export type ForestClassWeight = 'balanced' | 'balanced_subsample' | Readonly<Record<number, number>>;

/**
 * Options for `fitForest`. Names are sklearn's `RandomForestClassifier` / `RandomForestRegressor`
 * arguments in camelCase with sklearn 1.2's defaults, so a configuration tuned there carries over.
 * Counts accept a fraction in (0, 1) as a share of the rows or features, as sklearn's floats do.
 */
export interface ForestOptions {
  task: ForestTask;
  /** Trees (`n_estimators`), ≥ 1; default 100. */
  nEstimators?: number;
  /** Depth of every tree, ≥ 1; default unlimited (grow until pure or too small to split). */
  maxDepth?: number;
  /** Fewest rows a node needs to be split: an integer ≥ 2 or a share in (0, 1]; default 2. */
  minSamplesSplit?: number;
  /** Fewest rows each child of a split keeps: an integer ≥ 1 or a share in (0, 1); default 1. */
  minSamplesLeaf?: number;
  /** Features drawn at every split; default `'sqrt'` for classification, `'all'` for regression. */
  maxFeatures?: ForestMaxFeatures;
  /** Grow every tree on a bootstrap sample (rows drawn with replacement); default true. */
  bootstrap?: boolean;
  /** Rows drawn per bootstrap sample: an integer ≥ 1 or a share in (0, 1); default all rows. */
  maxSamples?: number;
  /** Score the out-of-bag rows (accuracy / R²) into `oobScore`; needs `bootstrap`; default false. */
  oobScore?: boolean;
  /** Class weights (classification only); default none. */
  classWeight?: ForestClassWeight;
  /** Split impurity; default `gini` for classification, `squared_error` for regression. */
  criterion?: ForestCriterion;
  /** Bins per feature for the histogram split search, in [2, 255]; default 255. */
  maxBins?: number;
  /** Classes (classification); default the largest label + 1. */
  numClasses?: number;
  /** Seed of the bootstrap and feature draws; default 0. The same seed gives the same forest. */
  seed?: number;
  /** Threads growing trees (the main thread plus worker threads); default min(2, cores). */
  threads?: number;
  /**
   * Called after every tree with the trees done so far; returning true stops training and keeps the
   * trees grown (a tree already under way on another thread still completes and is reported).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: callbacks that return nothing must type-check.
  onTree?: (done: number, total: number) => boolean | void;
  /** Aborting rejects the training with the signal's reason and stops the workers. */
  signal?: AbortSignal;
}

/** How one tree grows, shared by the main thread and the workers. */
export interface TreeParams {
  /** Infinity when unlimited. */
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Features drawn per split, in [1, cols]. */
  maxFeatures: number;
  criterion: ForestCriterion;
}

/** The options after defaults and checks. */
export interface ResolvedForestOptions {
  task: ForestTask;
  nEstimators: number;
  tree: TreeParams;
  bootstrap: boolean;
  /** Rows drawn per bootstrap sample. */
  bootstrapRows: number;
  oobScore: boolean;
  /** 0 for regression. */
  classes: number;
  /** Weight of each class (all 1 without `classWeight`), or null for `balanced_subsample`. */
  classWeights: Float64Array | null;
  maxBins: number;
  seed: number;
  threads: number;
}

function checkInteger(value: number, field: string, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw invalidParameter(field, `must be an integer ≥ ${min}, got ${value}`, value);
  }
}

/**
 * An integer ≥ `min` is a count; a fraction in (0, 1) (or exactly 1 when `wholeShare`) is a share of
 * `total`, rounded by `round` and at least `min`.
 */
function countOrShare(
  value: number,
  field: string,
  total: number,
  min: number,
  round: (x: number) => number,
  wholeShare = false,
): number {
  if (Number.isInteger(value) && value >= min) return value;
  if (Number.isFinite(value) && value > 0 && (value < 1 || (wholeShare && value === 1))) {
    return Math.max(min, round(value * total));
  }
  const share = wholeShare ? '(0, 1]' : '(0, 1)';
  throw invalidParameter(field, `must be an integer ≥ ${min} or a share in ${share}, got ${value}`, value);
}

function resolveMaxFeatures(value: ForestMaxFeatures, cols: number): number {
  if (value === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(cols)));
  if (value === 'log2') return Math.max(1, Math.floor(Math.log2(cols)));
  if (value === 'all') return cols;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= cols) return value;
  if (typeof value === 'number' && value > 0 && value < 1) return Math.max(1, Math.floor(value * cols));
  throw invalidParameter(
    'maxFeatures',
    `must be 'sqrt', 'log2', 'all', a share in (0, 1) or an integer in [1, ${cols}], got ${String(value)}`,
    value,
  );
}

/** Checks the labels and returns the number of classes (0 for regression). */
function checkLabels(task: ForestTask, y: Float64Array | Int32Array, rows: number, numClasses?: number): number {
  if (!(y instanceof Float64Array || y instanceof Int32Array)) {
    throw invalidParameter('y', 'must be a Float64Array or an Int32Array');
  }
  if (y.length !== rows) throw invalidParameter('y', `has ${y.length} labels but X has ${rows} rows`);
  let max = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (!Number.isFinite(v)) throw invalidParameter('y', `y[${i}] is ${v}; labels must be finite`);
    if (task === 'classification') {
      if (!(Number.isInteger(v) && v >= 0)) {
        throw invalidParameter('y', `y[${i}] is ${v}; classification needs class indices 0, 1, …`);
      }
      if (numClasses !== undefined && v >= numClasses) {
        throw invalidParameter('y', `y[${i}] is ${v}, not below numClasses ${numClasses}`);
      }
      max = Math.max(max, v);
    }
  }
  if (task === 'regression') return 0;
  const classes = numClasses ?? max + 1;
  if (classes < 2) throw invalidParameter('y', 'has a single class; classification needs at least 2');
  return classes;
}

/** Class weights from a map, or from the class counts of all rows for `balanced` (classes seen only). */
function resolveClassWeights(
  classWeight: ForestClassWeight | undefined,
  task: ForestTask,
  y: Float64Array | Int32Array,
  classes: number,
): Float64Array | null {
  const weights = new Float64Array(Math.max(classes, 1)).fill(1);
  if (classWeight === undefined) return weights;
  if (task !== 'classification') throw invalidParameter('classWeight', 'applies to classification only');
  if (classWeight === 'balanced_subsample') return null;
  if (classWeight === 'balanced') return balancedWeights(y, null, classes);
  if (typeof classWeight !== 'object' || classWeight === null) {
    throw invalidParameter(
      'classWeight',
      "must be 'balanced', 'balanced_subsample' or a map from class index to weight",
      classWeight,
    );
  }
  for (const [key, w] of Object.entries(classWeight)) {
    const c = Number(key);
    if (!(Number.isInteger(c) && c >= 0 && c < classes)) {
      throw invalidParameter('classWeight', `has unknown class ${key}; classes are 0 … ${classes - 1}`);
    }
    if (!(Number.isFinite(w) && w >= 0)) throw invalidParameter('classWeight', `[${key}] must be ≥ 0, got ${w}`);
    weights[c] = w;
  }
  return weights;
}

/**
 * sklearn's `balanced` weights n / (k · count of c), over the rows counted `counts[r]` times (all rows
 * once when null), k being the classes present; absent classes weigh 0.
 */
export function balancedWeights(y: ArrayLike<number>, counts: ArrayLike<number> | null, classes: number): Float64Array {
  const perClass = new Float64Array(classes);
  let total = 0;
  for (let r = 0; r < y.length; r++) {
    const times = counts ? (counts[r] as number) : 1;
    const c = y[r] as number;
    perClass[c] = (perClass[c] as number) + times;
    total += times;
  }
  let present = 0;
  for (const count of perClass) if (count > 0) present++;
  return perClass.map((count) => (count > 0 ? total / (present * count) : 0));
}

/** Validates X, y and the options and fills in sklearn's defaults. */
export function resolveForestOptions(
  X: Matrix,
  y: Float64Array | Int32Array,
  options: ForestOptions,
): ResolvedForestOptions {
  const task = options.task;
  if (task !== 'classification' && task !== 'regression') {
    throw invalidParameter('task', `must be 'classification' or 'regression', got ${String(task)}`, task);
  }
  if (!(X.rows >= 1 && X.cols >= 1)) throw invalidParameter('X', 'must have at least one row and one column');
  if (X.data.length !== X.rows * X.cols) {
    throw invalidParameter('X', `has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  }
  for (let i = 0; i < X.data.length; i++) {
    const v = X.data[i] as number;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      throw invalidParameter(
        'X',
        `row ${Math.floor(i / X.cols)} column ${i % X.cols} is infinite; use NaN for missing`,
      );
    }
  }
  if (options.numClasses !== undefined) checkInteger(options.numClasses, 'numClasses', 2);
  const classes = checkLabels(task, y, X.rows, options.numClasses);
  const nEstimators = options.nEstimators ?? 100;
  checkInteger(nEstimators, 'nEstimators', 1);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  if (maxDepth !== Number.POSITIVE_INFINITY) checkInteger(maxDepth, 'maxDepth', 1);
  const criterion = options.criterion ?? (task === 'classification' ? 'gini' : 'squared_error');
  const allowed = task === 'classification' ? ['gini', 'entropy'] : ['squared_error'];
  if (!allowed.includes(criterion)) {
    throw invalidParameter('criterion', `must be ${allowed.join(' or ')} for ${task}, got ${criterion}`, criterion);
  }
  const bootstrap = options.bootstrap ?? true;
  if (typeof bootstrap !== 'boolean') throw invalidParameter('bootstrap', 'must be true or false', bootstrap);
  if (options.maxSamples !== undefined && !bootstrap) {
    throw invalidParameter('maxSamples', 'needs bootstrap: without it every tree sees all rows');
  }
  const oobScore = options.oobScore ?? false;
  if (oobScore && !bootstrap) throw invalidParameter('oobScore', 'needs bootstrap: without it no row is out of bag');
  const bootstrapRows =
    options.maxSamples === undefined ? X.rows : countOrShare(options.maxSamples, 'maxSamples', X.rows, 1, Math.round);
  if (bootstrapRows > X.rows) {
    throw invalidParameter('maxSamples', `must be at most the ${X.rows} rows, got ${options.maxSamples}`);
  }
  const maxBins = options.maxBins ?? MAX_BINS;
  if (!(Number.isInteger(maxBins) && maxBins >= 2 && maxBins <= MAX_BINS)) {
    throw invalidParameter('maxBins', `must be an integer in [2, ${MAX_BINS}], got ${maxBins}`, maxBins);
  }
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw invalidParameter('seed', `must be a finite number, got ${seed}`, seed);
  const threads = options.threads ?? Math.min(2, availableParallelism());
  checkInteger(threads, 'threads', 1);
  if (options.onTree !== undefined && typeof options.onTree !== 'function') {
    throw invalidParameter('onTree', 'must be a function');
  }
  return {
    task,
    nEstimators,
    tree: {
      maxDepth,
      minSamplesSplit: countOrShare(options.minSamplesSplit ?? 2, 'minSamplesSplit', X.rows, 2, Math.ceil, true),
      minSamplesLeaf: countOrShare(options.minSamplesLeaf ?? 1, 'minSamplesLeaf', X.rows, 1, Math.ceil),
      maxFeatures: resolveMaxFeatures(options.maxFeatures ?? (task === 'classification' ? 'sqrt' : 'all'), X.cols),
      criterion,
    },
    bootstrap,
    bootstrapRows,
    oobScore,
    classes,
    classWeights: resolveClassWeights(options.classWeight, task, y, classes),
    maxBins,
    seed,
    threads,
  };
}
