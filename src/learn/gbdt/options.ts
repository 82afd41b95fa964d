import { availableParallelism } from 'node:os';
import { invalidParameter } from '../../core/index.js';
import type { Matrix } from '../matrix.js';
import { MAX_BINS } from './binning.js';
import { defaultMetric, type GbdtMetric, type GbdtObjective } from './objective.js';
import { checkMatrixShape } from './predict.js';
import type { TreeParams } from './split.js';

/** Labels: 0 / 1 for `binary:logistic`, reals for `reg:squarederror`, class indices for `multi:softprob`. */
export type GbdtLabels = Float64Array | Int32Array;

/** What {@link GbdtOptions.onRound} receives after every boosting round. */
export interface GbdtRoundInfo {
  /** 0-based round just trained. */
  round: number;
  /** The metric on the training rows. */
  train?: number;
  /** The metric on the validation set, when one is given. */
  validation?: number;
  metric: GbdtMetric;
}

/**
 * Options for `fitGbdt`. Names are XGBoost's parameters in camelCase and defaults are XGBoost's, so a
 * configuration tuned there carries over (except `baseScore`, which defaults to the label mean).
 */
export interface GbdtOptions {
  objective: GbdtObjective;
  /** Boosting rounds (XGBoost `num_boost_round`); default 100. */
  nRounds?: number;
  /** Shrinkage of every tree (`eta`), in (0, 1]; default 0.3. */
  learningRate?: number;
  /** Depth of every tree, ≥ 0 (0 = unlimited under `lossguide`); default 6. */
  maxDepth?: number;
  /** Most leaves per tree, ≥ 0 (0 = no limit); default 0. */
  maxLeaves?: number;
  /** `depthwise` (level by level, default) or `lossguide` (best leaf first, LightGBM style). */
  growPolicy?: 'depthwise' | 'lossguide';
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
  /** Columns of X holding integer category codes ≥ 0 (NaN = missing), split as category sets. */
  categoricalFeatures?: readonly number[];
  /** Below this many categories in a node, a categorical split is one category against the rest; default 4. */
  maxCatToOnehot?: number;
  /** Most categories enumerated on one side of a partition-based categorical split; default 64. */
  maxCatThreshold?: number;
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
  /** Threads building histograms (the main thread plus worker threads); default min(2, cores). */
  threads?: number;
  /** Called after every round; returning true stops training, keeping the rounds trained so far. */
  // biome-ignore lint/suspicious/noConfusingVoidType: callbacks that return nothing must type-check.
  onRound?: (info: GbdtRoundInfo) => boolean | void;
  /** Aborting rejects the training with the signal's reason and stops the workers. */
  signal?: AbortSignal;
}

/** The options after defaults and checks, as boosting consumes them. */
export interface ResolvedOptions {
  objective: GbdtObjective;
  nRounds: number;
  tree: TreeParams;
  subsample: number;
  colsample: number;
  maxBins: number;
  categorical: Uint8Array;
  seed: number;
  outputs: number;
  metric: GbdtMetric;
  patience: number | undefined;
  threads: number;
}

const METRICS_BY_OBJECTIVE: Record<GbdtObjective, readonly GbdtMetric[]> = {
  'binary:logistic': ['logloss', 'rmse'],
  'reg:squarederror': ['rmse'],
  'multi:softprob': ['mlogloss'],
};

function checkRange(value: number, field: string, min: number, max: number, minOpen = false): void {
  const aboveMin = minOpen ? value > min : value >= min;
  if (!(Number.isFinite(value) && aboveMin && value <= max)) {
    const range = `${minOpen ? '(' : '['}${min}, ${max === Number.POSITIVE_INFINITY ? '∞)' : `${max}]`}`;
    throw invalidParameter(field, `must be a number in ${range}, got ${value}`, value);
  }
}

function checkInteger(value: number, field: string, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw invalidParameter(field, `must be an integer ≥ ${min}, got ${value}`, value);
  }
}

/** Checks labels against the objective and returns the number of outputs (classes for multiclass). */
function checkLabels(objective: GbdtObjective, X: Matrix, y: GbdtLabels, field: string, numClass?: number): number {
  if (y.length !== X.rows) throw invalidParameter(field, `has ${y.length} labels but X has ${X.rows} rows`);
  let max = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (!Number.isFinite(v)) throw invalidParameter(field, `[${i}] is ${v}; labels must be finite`);
    if (objective === 'binary:logistic' && v !== 0 && v !== 1) {
      throw invalidParameter(field, `[${i}] is ${v}; binary:logistic needs labels 0 or 1`);
    }
    if (objective === 'multi:softprob') {
      if (!(Number.isInteger(v) && v >= 0))
        throw invalidParameter(field, `[${i}] is ${v}; multi:softprob needs class indices 0, 1, …`);
      if (numClass !== undefined && v >= numClass)
        throw invalidParameter(field, `[${i}] is ${v}, not below numClass ${numClass}`);
      max = Math.max(max, v);
    }
  }
  if (objective !== 'multi:softprob') return 1;
  const classes = numClass ?? max + 1;
  if (classes < 2) throw invalidParameter(field, 'has a single class; multi:softprob needs at least 2');
  return classes;
}

function resolveTreeParams(options: GbdtOptions): TreeParams {
  const tree: TreeParams = {
    maxDepth: options.maxDepth ?? 6,
    maxLeaves: options.maxLeaves ?? 0,
    growPolicy: options.growPolicy ?? 'depthwise',
    learningRate: options.learningRate ?? 0.3,
    lambda: options.lambda ?? 1,
    alpha: options.alpha ?? 0,
    gamma: options.gamma ?? 0,
    minChildWeight: options.minChildWeight ?? 1,
    maxCatToOnehot: options.maxCatToOnehot ?? 4,
    maxCatThreshold: options.maxCatThreshold ?? 64,
  };
  checkInteger(tree.maxDepth, 'maxDepth', 0);
  checkInteger(tree.maxLeaves, 'maxLeaves', 0);
  if (tree.growPolicy !== 'depthwise' && tree.growPolicy !== 'lossguide') {
    throw invalidParameter('growPolicy', `must be depthwise or lossguide, got ${tree.growPolicy}`);
  }
  if (tree.growPolicy === 'lossguide' && tree.maxDepth === 0 && tree.maxLeaves === 0) {
    throw invalidParameter('maxLeaves', 'lossguide needs maxLeaves or maxDepth above 0 to bound the tree');
  }
  checkRange(tree.learningRate, 'learningRate', 0, 1, true);
  checkRange(tree.lambda, 'lambda', 0, Number.POSITIVE_INFINITY);
  checkRange(tree.alpha, 'alpha', 0, Number.POSITIVE_INFINITY);
  checkRange(tree.gamma, 'gamma', 0, Number.POSITIVE_INFINITY);
  checkRange(tree.minChildWeight, 'minChildWeight', 0, Number.POSITIVE_INFINITY);
  checkInteger(tree.maxCatToOnehot, 'maxCatToOnehot', 1);
  checkInteger(tree.maxCatThreshold, 'maxCatThreshold', 1);
  return tree;
}

/**
 * Applies defaults and checks every option, the labels and the validation set, throwing
 * `INVALID_PARAMETER_VALUE` naming the field at the first problem.
 *
 * @example
 * const resolved = resolveOptions(X, y, { objective: 'binary:logistic' });
 */
export function resolveOptions(X: Matrix, y: GbdtLabels, options: GbdtOptions): ResolvedOptions {
  const { objective } = options;
  if (!Object.hasOwn(METRICS_BY_OBJECTIVE, objective)) {
    throw invalidParameter(
      'objective',
      `must be binary:logistic, reg:squarederror or multi:softprob, got ${objective}`,
      objective,
    );
  }
  const nRounds = options.nRounds ?? 100;
  checkInteger(nRounds, 'nRounds', 1);
  const tree = resolveTreeParams(options);
  const subsample = options.subsample ?? 1;
  const colsample = options.colsampleBytree ?? 1;
  checkRange(subsample, 'subsample', 0, 1, true);
  checkRange(colsample, 'colsampleBytree', 0, 1, true);
  const maxBins = options.maxBins ?? MAX_BINS;
  checkMatrixShape(X, 'X');
  const categorical = new Uint8Array(X.cols);
  for (const f of options.categoricalFeatures ?? []) {
    if (!(Number.isInteger(f) && f >= 0 && f < X.cols)) {
      throw invalidParameter('categoricalFeatures', `${f} is not a column index in [0, ${X.cols})`, f);
    }
    categorical[f] = 1;
  }
  if (options.numClass !== undefined) checkInteger(options.numClass, 'numClass', 2);
  const outputs = checkLabels(objective, X, y, 'y', options.numClass);
  if (options.baseScore !== undefined) {
    if (objective === 'binary:logistic') checkRange(options.baseScore, 'baseScore', 0, 1);
    else checkRange(options.baseScore, 'baseScore', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  }
  const metric = options.evalMetric ?? defaultMetric(objective);
  if (!METRICS_BY_OBJECTIVE[objective].includes(metric)) {
    throw invalidParameter('evalMetric', `${metric} does not fit objective ${objective}`, metric);
  }
  const validation = options.validation;
  if (validation) {
    checkMatrixShape(validation.X, 'validation.X', X.cols);
    checkLabels(objective, validation.X, validation.y, 'validation.y', outputs > 1 ? outputs : undefined);
  }
  const patience = options.earlyStoppingRounds;
  if (patience !== undefined) {
    checkInteger(patience, 'earlyStoppingRounds', 1);
    if (!validation) throw invalidParameter('earlyStoppingRounds', 'needs a validation set');
  }
  const threads = options.threads ?? Math.min(2, availableParallelism());
  checkInteger(threads, 'threads', 1);
  const seed = options.seed ?? 0;
  checkRange(seed, 'seed', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  return {
    objective,
    nRounds,
    tree,
    subsample,
    colsample,
    maxBins,
    categorical,
    seed,
    outputs,
    metric,
    patience,
    threads,
  };
}
