import { binMatrix, fitBinner, MISSING_BIN } from '../gbdt/binning.js';
import type { Matrix } from '../matrix.js';
import { r2 } from '../metrics/index.js';
import { createRng } from '../random.js';
import { BaggedTreeMaker, type ForestJob, type OobAccumulator } from './bagging.js';
import { type ForestOptions, type ResolvedForestOptions, resolveForestOptions } from './options.js';
import { argmax, type ForestModel, type ForestTree } from './predict.js';
import { ForestWorkers } from './threads.js';
import { BIN_SLOTS, type ForestData, type GrownTree } from './tree.js';

/** Below this many rows × trees the forest grows on the main thread alone: starting workers costs more. */
const PARALLEL_MIN_WORK = 200_000;

/** A fitted forest with sklearn's `oob_decision_function_` / `oob_prediction_`. */
export interface ForestFit {
  model: ForestModel;
  /**
   * Per training row (`rows × outputs`) the mean output of the trees that left it out of their
   * bootstrap sample: class probabilities or the value; zeros for a row no tree left out (sklearn
   * warns then too). Null unless `oobScore` was asked for.
   */
  oobDecision: Float64Array | null;
}

function sharedCopy<T extends Float64Array | Uint8Array>(source: T): T {
  const Type = source.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Type(new SharedArrayBuffer(Math.max(1, source.byteLength)));
  copy.set(source as never);
  return copy;
}

/** Bins X once (quantile cuts, ≤ 255 bins + missing) and records every bin's lowest and highest value. */
function forestData(X: Matrix, y: Float64Array | Int32Array, resolved: ResolvedForestOptions): ForestData {
  const { rows, cols, data } = X;
  const binner = fitBinner(X, resolved.maxBins, { seed: resolved.seed });
  const codes = sharedCopy(binMatrix(binner, X).codes);
  const binLow = new Float64Array(new SharedArrayBuffer(cols * BIN_SLOTS * 8)).fill(Number.POSITIVE_INFINITY);
  const binHigh = new Float64Array(new SharedArrayBuffer(cols * BIN_SLOTS * 8)).fill(Number.NEGATIVE_INFINITY);
  for (let f = 0; f < cols; f++) {
    const offset = f * rows;
    const slot = f * BIN_SLOTS;
    for (let r = 0; r < rows; r++) {
      const bin = codes[offset + r] as number;
      if (bin === MISSING_BIN) continue;
      const v = data[r * cols + f] as number;
      if (v < (binLow[slot + bin] as number)) binLow[slot + bin] = v;
      if (v > (binHigh[slot + bin] as number)) binHigh[slot + bin] = v;
    }
  }
  return {
    rows,
    cols,
    codes,
    binLow,
    binHigh,
    x: sharedCopy(data),
    y: sharedCopy(Float64Array.from(y)),
    classes: resolved.classes,
  };
}

/**
 * Trains a random forest as sklearn's `RandomForestClassifier` / `RandomForestRegressor` do — every
 * tree a CART tree grown on a bootstrap sample of the rows, drawing `maxFeatures` candidate features
 * at every split — and returns the model with the out-of-bag outputs. Splits are searched on ≤ 255
 * quantile bins per feature (exact for features with ≤ `maxBins` distinct values) and thresholds are
 * midpoints between training values. X may hold NaN: every split learns which side missing values take
 * (the side with more rows when the node saw none). Trees grow on `threads` threads; tree t always
 * comes from the same random stream, so a seed gives the same forest on any number of threads.
 *
 * @example
 * const { model, oobDecision } = await fitForestWithOob(X, y, { task: 'classification', oobScore: true });
 * model.oobScore; // out-of-bag accuracy
 */
export async function fitForestWithOob(
  X: Matrix,
  y: Float64Array | Int32Array,
  options: ForestOptions,
): Promise<ForestFit> {
  const resolved = resolveForestOptions(X, y, options);
  const { signal } = options;
  signal?.throwIfAborted();
  const data = forestData(X, y, resolved);
  const total = resolved.nEstimators;
  const seedRng = createRng(resolved.seed);
  const job: ForestJob = {
    data,
    params: resolved.tree,
    bootstrap: resolved.bootstrap,
    bootstrapRows: resolved.bootstrapRows,
    classWeights: resolved.classWeights,
    treeSeeds: Uint32Array.from({ length: total }, () => Math.floor(seedRng() * 4294967296)),
  };
  const threads = X.rows * total < PARALLEL_MIN_WORK ? 1 : Math.min(resolved.threads, total);
  const outputs = Math.max(resolved.classes, 1);
  const oobs: (OobAccumulator | null)[] = Array.from({ length: threads }, () =>
    resolved.oobScore
      ? {
          sum: new Float64Array(new SharedArrayBuffer(X.rows * outputs * 8)),
          count: new Int32Array(new SharedArrayBuffer(X.rows * 4)),
        }
      : null,
  );
  // [next tree to claim, stop flag], shared with the workers.
  const control = new Int32Array(new SharedArrayBuffer(8));
  const stop = () => Atomics.store(control, 1, 1);
  const grown: (GrownTree | undefined)[] = new Array(total);
  let done = 0;
  let failure: unknown = null;
  const onTree = (index: number, tree: GrownTree) => {
    grown[index] = tree;
    done++;
    try {
      if (options.onTree?.(done, total) === true) stop();
    } catch (error) {
      failure ??= error;
      stop();
    }
  };
  signal?.addEventListener('abort', stop);
  const workers =
    threads > 1
      ? new ForestWorkers(threads - 1, (w) => ({ job, oob: oobs[w + 1] ?? null, control, total }), onTree)
      : null;
  try {
    const maker = new BaggedTreeMaker(job, oobs[0] ?? null);
    while (Atomics.load(control, 1) === 0) {
      const index = Atomics.add(control, 0, 1);
      if (index >= total) break;
      onTree(index, maker.grow(index));
      // Let worker messages, timers and abort events through between trees.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await workers?.finished;
  } finally {
    signal?.removeEventListener('abort', stop);
    await workers?.close();
  }
  signal?.throwIfAborted();
  if (failure !== null) throw failure;
  const trees = grown.filter((tree): tree is GrownTree => tree !== undefined);
  const oob = resolved.oobScore ? outOfBag(oobs, y, resolved.classes, outputs) : null;
  return {
    model: {
      kind: 'forest',
      formatVersion: 1,
      task: resolved.task,
      classes: resolved.classes,
      outputs,
      criterion: resolved.tree.criterion,
      features: [...X.names],
      trees: trees.map(plainTree),
      featureImportances: forestImportance(trees, X.cols),
      oobScore: oob?.score ?? null,
    },
    oobDecision: oob?.decision ?? null,
  };
}

/**
 * Trains a random forest (see {@link fitForestWithOob}, which also returns the out-of-bag outputs).
 *
 * @example
 * const model = await fitForest(X, y, { task: 'regression', nEstimators: 200, seed: 7 });
 * const values = predictForest(model, Xtest);
 */
export async function fitForest(X: Matrix, y: Float64Array | Int32Array, options: ForestOptions): Promise<ForestModel> {
  return (await fitForestWithOob(X, y, options)).model;
}

/** A plain array of the typed array's numbers (a loop: `Array.from` goes through the iterator, far slower). */
function plainArray(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) out.push(values[i] as number);
  return out;
}

function plainTree(tree: GrownTree): ForestTree {
  return {
    feature: plainArray(tree.feature),
    threshold: plainArray(tree.threshold),
    defaultLeft: plainArray(tree.defaultLeft),
    left: plainArray(tree.left),
    right: plainArray(tree.right),
    value: plainArray(tree.value),
    samples: plainArray(tree.samples),
    weight: plainArray(tree.weight),
  };
}

/** sklearn's forest importance: the mean of the trees' normalised importances (single leaves skipped), renormalised. */
function forestImportance(trees: readonly GrownTree[], cols: number): number[] {
  const sum = new Float64Array(cols);
  let counted = 0;
  for (const tree of trees) {
    if (tree.feature.length <= 1) continue;
    counted++;
    for (let f = 0; f < cols; f++) sum[f] = (sum[f] as number) + (tree.importance[f] as number);
  }
  let total = 0;
  for (const v of sum) total += v;
  return Array.from(sum, (v) => (counted > 0 && total > 0 ? v / total : 0));
}

/** The out-of-bag decision function (summed over the threads) and score, as sklearn computes them. */
function outOfBag(
  oobs: readonly (OobAccumulator | null)[],
  y: Float64Array | Int32Array,
  classes: number,
  outputs: number,
): { decision: Float64Array; score: number } {
  const rows = y.length;
  const decision = new Float64Array(rows * outputs);
  const count = new Int32Array(rows);
  for (const oob of oobs) {
    if (!oob) continue;
    for (let i = 0; i < decision.length; i++) decision[i] = (decision[i] as number) + (oob.sum[i] as number);
    for (let r = 0; r < rows; r++) count[r] = (count[r] as number) + (oob.count[r] as number);
  }
  for (let r = 0; r < rows; r++) {
    const n = Math.max(1, count[r] as number);
    for (let j = 0; j < outputs; j++) decision[r * outputs + j] = (decision[r * outputs + j] as number) / n;
  }
  if (classes === 0) return { decision, score: r2(y, decision) };
  let hits = 0;
  for (let r = 0; r < rows; r++) if (argmax(decision, r * outputs, outputs) === y[r]) hits++;
  return { decision, score: hits / rows };
}
