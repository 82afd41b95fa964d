import { KilnError } from '../../core/index.js';
import type { Matrix } from '../matrix.js';
import { createRng, shuffleInPlace } from '../random.js';
import { binMatrix, fitBinner, MAX_BINS } from './binning.js';
import {
  baseMargin,
  computeGradients,
  defaultMetric,
  evaluateMetric,
  type GbdtMetric,
  type GbdtObjective,
  transformMargins,
} from './objective.js';
import { addBinnedPredictions, type GbdtTree, growTree, type TreeParams } from './tree.js';

/** Labels: 0 / 1 for `binary:logistic`, reals for `reg:squarederror`, class indices for `multi:softprob`. */
export type GbdtLabels = Float64Array | Int32Array;

/**
 * Options for {@link fitGbdt}. Names are XGBoost's parameters in camelCase and defaults are XGBoost's,
 * so a configuration tuned there carries over (except `baseScore`, which defaults to the label mean).
 */
export interface GbdtOptions {
  objective: GbdtObjective;
  /** Boosting rounds (XGBoost `num_boost_round`); default 100. */
  nRounds?: number;
  /** Shrinkage of every tree (`eta`), in (0, 1]; default 0.3. */
  learningRate?: number;
  /** Depth of every tree, ≥ 0; default 6. */
  maxDepth?: number;
  /** L2 penalty on leaf values, ≥ 0; default 1. */
  lambda?: number;
  /** L1 penalty on leaf values, ≥ 0; default 0. */
  alpha?: number;
  /** Minimum loss reduction for a split (`min_split_loss`), ≥ 0; default 0. */
  gamma?: number;
  /** Minimum hessian sum per child, ≥ 0; default 1. */
  minChildWeight?: number;
  /** Share of rows each tree samples (Bernoulli), in (0, 1]; default 1. */
  subsample?: number;
  /** Share of features each tree samples, in (0, 1]; default 1. */
  colsampleBytree?: number;
  /** Bins per feature, in [2, 255]; default 255 (XGBoost `max_bin` 256 less its missing slot). */
  maxBins?: number;
  /** Seed of the row and column sampling; default 0. */
  seed?: number;
  /** Classes for `multi:softprob`; default the largest label + 1. */
  numClass?: number;
  /** Starting prediction (a probability for `binary:logistic`); default the mean label. */
  baseScore?: number;
  /** Held-out data scored after every round; required for early stopping. */
  validation?: { X: Matrix; y: GbdtLabels };
  /** Stop when the validation metric has not improved for this many rounds, keeping the best round. */
  earlyStoppingRounds?: number;
  /** Validation metric; default `logloss` / `rmse` / `mlogloss` by objective. */
  evalMetric?: GbdtMetric;
}

/**
 * A fitted gradient-boosted tree ensemble: a plain JSON-serialisable object (no typed arrays, no
 * functions), so `JSON.parse(JSON.stringify(model))` predicts identically. The margin of output k for a
 * row is `baseMargin[k]` plus the sum of trees `i` with `i % outputs === k`.
 */
export interface GbdtModel {
  kind: 'gbdt';
  /** Version of this format, raised when its meaning changes. */
  formatVersion: 1;
  objective: GbdtObjective;
  /** Margins per row: the number of classes for `multi:softprob`, else 1. */
  outputs: number;
  baseMargin: number[];
  /** Trees in round order, `outputs` per round. */
  trees: GbdtTree[];
  /** The column names of the training matrix. */
  features: string[];
  /**
   * The round (0-based) with the best validation metric, or the last round without validation. With
   * early stopping the trees after it are dropped.
   */
  bestIteration: number;
  /** The validation metric after every round trained (more than kept when early stopping triggered). */
  evalHistory: { metric: GbdtMetric; values: number[] } | null;
}

const METRICS_BY_OBJECTIVE: Record<GbdtObjective, readonly GbdtMetric[]> = {
  'binary:logistic': ['logloss', 'rmse'],
  'reg:squarederror': ['rmse'],
  'multi:softprob': ['mlogloss'],
};

function invalid(field: string, message: string): KilnError {
  return new KilnError('INVALID_PARAMETER_VALUE', message, { field });
}

function checkRange(value: number, field: string, min: number, max: number, minOpen = false): void {
  const aboveMin = minOpen ? value > min : value >= min;
  if (!(Number.isFinite(value) && aboveMin && value <= max)) {
    const range = `${minOpen ? '(' : '['}${min}, ${max === Number.POSITIVE_INFINITY ? '∞)' : `${max}]`}`;
    throw invalid(field, `${field} must be a number in ${range}, got ${value}`);
  }
}

function checkInteger(value: number, field: string, min: number): void {
  if (!(Number.isInteger(value) && value >= min))
    throw invalid(field, `${field} must be an integer ≥ ${min}, got ${value}`);
}

/** Checks labels against the objective and returns the number of outputs (classes for multiclass). */
function checkLabels(objective: GbdtObjective, X: Matrix, y: GbdtLabels, field: string, numClass?: number): number {
  if (y.length !== X.rows) throw invalid(field, `${field} has ${y.length} labels but X has ${X.rows} rows`);
  let max = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (!Number.isFinite(v)) throw invalid(field, `${field}[${i}] is ${v}; labels must be finite`);
    if (objective === 'binary:logistic' && v !== 0 && v !== 1) {
      throw invalid(field, `${field}[${i}] is ${v}; binary:logistic needs labels 0 or 1`);
    }
    if (objective === 'multi:softprob') {
      if (!(Number.isInteger(v) && v >= 0))
        throw invalid(field, `${field}[${i}] is ${v}; multi:softprob needs class indices 0, 1, …`);
      if (numClass !== undefined && v >= numClass)
        throw invalid(field, `${field}[${i}] is ${v}, not below numClass ${numClass}`);
      max = Math.max(max, v);
    }
  }
  if (objective !== 'multi:softprob') return 1;
  const classes = numClass ?? max + 1;
  if (classes < 2) throw invalid(field, `${field} has a single class; multi:softprob needs at least 2`);
  return classes;
}

function checkMatrixShape(X: Matrix, field: string, cols?: number): void {
  if (X.rows < 1 || X.cols < 1) throw invalid(field, `${field} must have at least one row and one column`);
  if (X.data.length !== X.rows * X.cols) {
    throw invalid(field, `${field} has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  }
  if (cols !== undefined && X.cols !== cols) throw invalid(field, `${field} has ${X.cols} columns, expected ${cols}`);
}

/**
 * Trains histogram gradient-boosted trees as XGBoost's `tree_method=hist` does: features are binned
 * once (≤ 255 bins plus a missing bin), then every round computes gradients and grows one depth-wise
 * tree per output on the sampled rows and features, each split learning where missing values go.
 * With `validation` the metric is tracked every round; with `earlyStoppingRounds` training stops once
 * it stalls and the model keeps the rounds up to the best one. X may contain NaN (missing).
 *
 * @example
 * const model = fitGbdt(X, y, { objective: 'binary:logistic', nRounds: 100, maxDepth: 6, learningRate: 0.1 });
 * const p = predictGbdt(model, Xtest); // probability of class 1 per row
 */
export function fitGbdt(X: Matrix, y: GbdtLabels, options: GbdtOptions): GbdtModel {
  const { objective } = options;
  if (!Object.hasOwn(METRICS_BY_OBJECTIVE, objective)) {
    throw invalid(
      'objective',
      `objective must be binary:logistic, reg:squarederror or multi:softprob, got ${objective}`,
    );
  }
  const nRounds = options.nRounds ?? 100;
  checkInteger(nRounds, 'nRounds', 1);
  const params: TreeParams = {
    maxDepth: options.maxDepth ?? 6,
    learningRate: options.learningRate ?? 0.3,
    lambda: options.lambda ?? 1,
    alpha: options.alpha ?? 0,
    gamma: options.gamma ?? 0,
    minChildWeight: options.minChildWeight ?? 1,
  };
  checkInteger(params.maxDepth, 'maxDepth', 0);
  checkRange(params.learningRate, 'learningRate', 0, 1, true);
  checkRange(params.lambda, 'lambda', 0, Number.POSITIVE_INFINITY);
  checkRange(params.alpha, 'alpha', 0, Number.POSITIVE_INFINITY);
  checkRange(params.gamma, 'gamma', 0, Number.POSITIVE_INFINITY);
  checkRange(params.minChildWeight, 'minChildWeight', 0, Number.POSITIVE_INFINITY);
  const subsample = options.subsample ?? 1;
  const colsample = options.colsampleBytree ?? 1;
  checkRange(subsample, 'subsample', 0, 1, true);
  checkRange(colsample, 'colsampleBytree', 0, 1, true);
  const maxBins = options.maxBins ?? MAX_BINS;
  checkMatrixShape(X, 'X');
  if (options.numClass !== undefined) checkInteger(options.numClass, 'numClass', 2);
  const outputs = checkLabels(objective, X, y, 'y', options.numClass);
  if (options.baseScore !== undefined) {
    if (objective === 'binary:logistic') checkRange(options.baseScore, 'baseScore', 0, 1);
    else checkRange(options.baseScore, 'baseScore', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  const validation = options.validation;
  const metric = options.evalMetric ?? defaultMetric(objective);
  if (!METRICS_BY_OBJECTIVE[objective].includes(metric)) {
    throw invalid('evalMetric', `evalMetric ${metric} does not fit objective ${objective}`);
  }
  if (validation) {
    checkMatrixShape(validation.X, 'validation.X', X.cols);
    checkLabels(objective, validation.X, validation.y, 'validation.y', outputs > 1 ? outputs : undefined);
  }
  const patience = options.earlyStoppingRounds;
  if (patience !== undefined) {
    checkInteger(patience, 'earlyStoppingRounds', 1);
    if (!validation) throw invalid('earlyStoppingRounds', 'earlyStoppingRounds needs a validation set');
  }

  const binner = fitBinner(X, maxBins);
  const binned = binMatrix(binner, X);
  const rng = createRng(options.seed ?? 0);
  const n = X.rows;
  const base = baseMargin(objective, y, options.baseScore);
  const margin = new Float64Array(n * outputs).fill(base);
  const gradHess = Array.from({ length: outputs }, () => new Float64Array(2 * n));
  const allRows = Int32Array.from({ length: n }, (_, i) => i);
  const allFeatures = Int32Array.from({ length: X.cols }, (_, i) => i);
  const featureCount = Math.max(1, Math.floor(colsample * X.cols));
  const validMargin = validation ? new Float64Array(validation.X.rows * outputs).fill(base) : null;

  const trees: GbdtTree[] = [];
  const history: number[] = [];
  let bestIteration = 0;
  let bestValue = Number.POSITIVE_INFINITY;
  for (let round = 0; round < nRounds; round++) {
    computeGradients(objective, margin, y, outputs, gradHess);
    for (let k = 0; k < outputs; k++) {
      const rows = subsample < 1 ? sampleRows(n, subsample, rng) : allRows;
      const features = featureCount < X.cols ? sampleFeatures(X.cols, featureCount, rng) : allFeatures;
      const grown = growTree(
        { binned, cuts: binner.cuts, gradHess: gradHess[k] as Float64Array, rows, features },
        params,
      );
      addBinnedPredictions(grown, binned, margin, outputs, k);
      trees.push(grown.tree);
      if (validation && validMargin) addTreePredictions(grown.tree, validation.X, validMargin, outputs, k);
    }
    if (validation && validMargin) {
      const value = evaluateMetric(metric, objective, validMargin, validation.y, outputs);
      history.push(value);
      if (value < bestValue) {
        bestValue = value;
        bestIteration = round;
      } else if (patience !== undefined && round - bestIteration >= patience) {
        break;
      }
    } else {
      bestIteration = round;
    }
  }
  return {
    kind: 'gbdt',
    formatVersion: 1,
    objective,
    outputs,
    baseMargin: Array.from({ length: outputs }, () => base),
    trees: patience !== undefined ? trees.slice(0, (bestIteration + 1) * outputs) : trees,
    features: [...X.names],
    bestIteration,
    evalHistory: validation ? { metric, values: history } : null,
  };
}

/** Bernoulli row sample (each row kept with probability `rate`), ascending. */
function sampleRows(n: number, rate: number, rng: () => number): Int32Array {
  const out = new Int32Array(n);
  let m = 0;
  for (let r = 0; r < n; r++) if (rng() < rate) out[m++] = r;
  return out.slice(0, m);
}

/** `count` distinct features out of `cols`, ascending. */
function sampleFeatures(cols: number, count: number, rng: () => number): Int32Array {
  const order = shuffleInPlace(
    Int32Array.from({ length: cols }, (_, i) => i),
    rng,
  );
  return order.slice(0, count).sort();
}

/** Adds one tree's output for every row of X to `margin[r * stride + offset]`. */
function addTreePredictions(tree: GbdtTree, X: Matrix, margin: Float64Array, stride: number, offset: number): void {
  const { feature, threshold, defaultLeft, left, right, value } = tree;
  const { rows, cols, data } = X;
  for (let r = 0; r < rows; r++) {
    let node = 0;
    while ((left[node] as number) !== -1) {
      const x = data[r * cols + (feature[node] as number)] as number;
      const goLeft = Number.isNaN(x) ? defaultLeft[node] === 1 : x < (threshold[node] as number);
      node = goLeft ? (left[node] as number) : (right[node] as number);
    }
    margin[r * stride + offset] = (margin[r * stride + offset] as number) + (value[node] as number);
  }
}

/** All trees of a model packed into flat typed arrays with absolute child indices, for prediction. */
interface PackedForest {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

const packed = new WeakMap<GbdtModel, PackedForest>();

function pack(model: GbdtModel): PackedForest {
  const cached = packed.get(model);
  if (cached) return cached;
  let total = 0;
  for (const t of model.trees) total += t.feature.length;
  const forest: PackedForest = {
    roots: new Int32Array(model.trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    defaultLeft: new Uint8Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    value: new Float64Array(total),
  };
  let off = 0;
  model.trees.forEach((t, i) => {
    forest.roots[i] = off;
    for (let j = 0; j < t.feature.length; j++) {
      const l = t.left[j] as number;
      forest.feature[off + j] = t.feature[j] as number;
      forest.threshold[off + j] = t.threshold[j] as number;
      forest.defaultLeft[off + j] = t.defaultLeft[j] as number;
      forest.left[off + j] = l === -1 ? -1 : off + l;
      forest.right[off + j] = l === -1 ? -1 : off + (t.right[j] as number);
      forest.value[off + j] = t.value[j] as number;
    }
    off += t.feature.length;
  });
  packed.set(model, forest);
  return forest;
}

/**
 * Predicts with a fitted model: per row the probability of class 1 (`binary:logistic`), the value
 * (`reg:squarederror`) or `outputs` class probabilities row-major (`multi:softprob`); with
 * `{ margin: true }` the raw margins instead. NaN in X follows each split's learned default direction.
 *
 * @example
 * const p = predictGbdt(model, X); // Float64Array of X.rows (× classes) values
 */
export function predictGbdt(model: GbdtModel, X: Matrix, options: { margin?: boolean } = {}): Float64Array {
  checkMatrixShape(X, 'X', model.features.length);
  const forest = pack(model);
  const { roots, feature, threshold, defaultLeft, left, right, value } = forest;
  const { rows, cols, data } = X;
  const k = model.outputs;
  const out = new Float64Array(rows * k);
  const treeCount = roots.length;
  for (let r = 0; r < rows; r++) {
    const rowOff = r * cols;
    for (let j = 0; j < k; j++) out[r * k + j] = model.baseMargin[j] as number;
    for (let t = 0; t < treeCount; t++) {
      let node = roots[t] as number;
      let l = left[node] as number;
      while (l !== -1) {
        const x = data[rowOff + (feature[node] as number)] as number;
        node = (Number.isNaN(x) ? defaultLeft[node] === 1 : x < (threshold[node] as number))
          ? l
          : (right[node] as number);
        l = left[node] as number;
      }
      const o = r * k + (t % k);
      out[o] = (out[o] as number) + (value[node] as number);
    }
  }
  return options.margin ? out : transformMargins(model.objective, out, k);
}

/**
 * Feature importance per training column: `split` counts how often each feature is split on over all
 * trees (XGBoost's `weight`); `gain` is the average loss reduction of those splits (XGBoost's `gain`).
 *
 * @example
 * const counts = featureImportance(model, 'split'); // counts[i] belongs to model.features[i]
 */
export function featureImportance(model: GbdtModel, type: 'split' | 'gain' = 'split'): Float64Array {
  const counts = new Float64Array(model.features.length);
  const gains = new Float64Array(model.features.length);
  for (const t of model.trees) {
    for (let j = 0; j < t.feature.length; j++) {
      if (t.left[j] === -1) continue;
      const f = t.feature[j] as number;
      counts[f] = (counts[f] as number) + 1;
      gains[f] = (gains[f] as number) + (t.gain[j] as number);
    }
  }
  if (type === 'split') return counts;
  for (let f = 0; f < gains.length; f++) gains[f] = counts[f] ? (gains[f] as number) / (counts[f] as number) : 0;
  return gains;
}
