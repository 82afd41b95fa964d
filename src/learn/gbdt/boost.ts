import type { Matrix } from '../matrix.js';
import { createRng, shuffleInPlace } from '../random.js';
import { binMatrixByRows, fitBinner, transposeCodes } from './binning.js';
import { baseMargin, computeGradients, evaluateMetric } from './objective.js';
import { type GbdtLabels, type GbdtOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { addTreeOutputs, type GbdtModel } from './predict.js';
import { addBinnedPredictions, type GbdtTree, type GrowInput, type GrownTree, growTree } from './tree.js';
import { NodeWorkers, type SharedTrainingData } from './workers.js';

/** A typed array of `length` elements on shared memory, which the histogram workers can read. */
function sharedArray<T>(Type: new (buffer: SharedArrayBuffer) => T, bytesPerElement: number, length: number): T {
  return new Type(new SharedArrayBuffer(Math.max(1, length) * bytesPerElement));
}

/**
 * Trains histogram gradient-boosted trees as XGBoost's `tree_method=hist` does: features are binned
 * once (≤ 255 bins plus a missing bin; categorical columns one bin per category), then every round
 * computes gradients and grows one tree per output on the sampled rows and features, depth-wise or
 * leaf-wise, each split learning where missing values go. Histograms are built on `threads` threads
 * (the main one plus worker threads sharing the data through SharedArrayBuffers). With `validation`
 * the metric is tracked every round; with `earlyStoppingRounds` training stops once it stalls and the
 * model keeps the rounds up to the best one. `onRound` sees every round and may stop training;
 * `signal` aborts it. X may contain NaN (missing).
 *
 * @example
 * const model = await fitGbdt(X, y, { objective: 'binary:logistic', nRounds: 100, maxDepth: 6, learningRate: 0.1 });
 * const p = predictGbdt(model, Xtest); // probability of class 1 per row
 */
export async function fitGbdt(X: Matrix, y: GbdtLabels, options: GbdtOptions): Promise<GbdtModel> {
  const resolved = resolveOptions(X, y, options);
  const { signal } = options;
  signal?.throwIfAborted();
  const categoricalFeatures = Array.from(resolved.categorical.keys()).filter((f) => resolved.categorical[f] === 1);
  const binner = fitBinner(X, resolved.maxBins, { categoricalFeatures, seed: resolved.seed });
  const n = X.rows;
  const codes = sharedArray(Uint8Array, 1, n * X.cols);
  const binned = binMatrixByRows(binner, X, codes);
  const gradBuffer = new SharedArrayBuffer(resolved.outputs * 2 * n * 8);
  const shared: SharedTrainingData = {
    codes,
    byColumn: transposeCodes(codes, n, X.cols, sharedArray(Uint8Array, 1, n * X.cols)),
    rows: n,
    cols: X.cols,
    gradHess: Array.from({ length: resolved.outputs }, (_, k) => new Float64Array(gradBuffer, k * 2 * n * 8, 2 * n)),
    index: sharedArray(Int32Array, 4, n),
  };
  const workers = new NodeWorkers(shared, resolved.threads);
  try {
    const trees = await boost(
      X,
      y,
      options,
      resolved,
      { shared, workers, binner, bins: binned.bins },
      (grown, margin, k) => {
        const { tree } = grown;
        if (grown.leaves.length > 0 && sampledAll(grown, n)) {
          for (const leaf of grown.leaves) {
            const value = tree.value[leaf.id] as number;
            for (let i = leaf.begin; i < leaf.end; i++) {
              const m = (shared.index[i] as number) * resolved.outputs + k;
              margin[m] = (margin[m] as number) + value;
            }
          }
        } else {
          addBinnedPredictions(grown, binned.codes, n, X.cols, margin, resolved.outputs, k);
        }
      },
    );
    return {
      kind: 'gbdt',
      formatVersion: 1,
      objective: resolved.objective,
      outputs: resolved.outputs,
      baseMargin: Array.from({ length: resolved.outputs }, () => trees.base),
      trees: trees.kept,
      features: [...X.names],
      ...(categoricalFeatures.length > 0 ? { categoricalFeatures } : {}),
      bestIteration: trees.bestIteration,
      evalHistory: options.validation ? { metric: resolved.metric, values: trees.history } : null,
    };
  } finally {
    await workers.close();
  }
}

/** True when the tree's leaves cover every training row (no row subsampling). */
function sampledAll(grown: GrownTree, rows: number): boolean {
  let covered = 0;
  for (const leaf of grown.leaves) covered += leaf.end - leaf.begin;
  return covered === rows;
}

interface BoostResult {
  base: number;
  kept: GbdtTree[];
  bestIteration: number;
  history: number[];
}

/** The boosting rounds: gradients, one tree per output, margin updates, metrics, stopping rules. */
async function boost(
  X: Matrix,
  y: GbdtLabels,
  options: GbdtOptions,
  resolved: ResolvedOptions,
  data: Pick<GrowInput, 'shared' | 'workers' | 'binner' | 'bins'>,
  addToMargins: (grown: GrownTree, margin: Float64Array, output: number) => void,
): Promise<BoostResult> {
  const { objective, outputs, metric, patience, subsample } = resolved;
  const { validation } = options;
  const n = X.rows;
  const rng = createRng(resolved.seed);
  const base = baseMargin(objective, y, options.baseScore);
  const margin = new Float64Array(n * outputs).fill(base);
  const featureCount = Math.max(1, Math.floor(resolved.colsample * X.cols));
  const allFeatures = Int32Array.from({ length: X.cols }, (_, i) => i);
  const validMargin = validation ? new Float64Array(validation.X.rows * outputs).fill(base) : null;
  const { shared } = data;
  const trees: GbdtTree[] = [];
  const history: number[] = [];
  let bestIteration = 0;
  let bestValue = Number.POSITIVE_INFINITY;
  for (let round = 0; round < resolved.nRounds; round++) {
    options.signal?.throwIfAborted();
    computeGradients(objective, margin, y, outputs, shared.gradHess);
    for (let k = 0; k < outputs; k++) {
      const rowCount = subsample < 1 ? sampleRows(shared.index, n, subsample, rng) : identityRows(shared.index, n);
      const features = featureCount < X.cols ? sampleFeatures(X.cols, featureCount, rng) : allFeatures;
      const grown = await growTree(
        { ...data, categorical: resolved.categorical, output: k, rowCount, features },
        resolved.tree,
      );
      addToMargins(grown, margin, k);
      trees.push(grown.tree);
      if (validation && validMargin) addTreeOutputs(grown.tree, validation.X, validMargin, outputs, k);
    }
    let validValue: number | undefined;
    if (validation && validMargin) {
      validValue = evaluateMetric(metric, objective, validMargin, validation.y, outputs);
      history.push(validValue);
      if (validValue < bestValue) {
        bestValue = validValue;
        bestIteration = round;
      }
    } else {
      bestIteration = round;
    }
    if (options.onRound) {
      const train = evaluateMetric(metric, objective, margin, y, outputs);
      const stop = options.onRound({
        round,
        train,
        ...(validValue !== undefined ? { validation: validValue } : {}),
        metric,
      });
      if (stop === true) break;
    }
    if (patience !== undefined && round - bestIteration >= patience) break;
    // Let timers, I/O and abort events through between rounds.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const kept = patience !== undefined ? trees.slice(0, (bestIteration + 1) * outputs) : trees;
  return { base, kept, bestIteration, history };
}

/** Fills `index[0 … n)` with 0 … n − 1 (every row, ascending for cache-friendly scans); returns n. */
function identityRows(index: Int32Array, n: number): number {
  for (let r = 0; r < n; r++) index[r] = r;
  return n;
}

/** Bernoulli row sample (each row kept with probability `rate`) into `index`, ascending; returns its size. */
function sampleRows(index: Int32Array, n: number, rate: number, rng: () => number): number {
  let m = 0;
  for (let r = 0; r < n; r++) if (rng() < rate) index[m++] = r;
  return m;
}

/** `count` distinct features out of `cols`, ascending. */
function sampleFeatures(cols: number, count: number, rng: () => number): Int32Array {
  const order = shuffleInPlace(
    Int32Array.from({ length: cols }, (_, i) => i),
    rng,
  );
  return order.slice(0, count).sort();
}
