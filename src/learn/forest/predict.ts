import { invalidParameter } from '../../core/index.js';
import type { Matrix } from '../matrix.js';
import type { ForestCriterion, ForestTask } from './options.js';

/**
 * One tree as flat parallel arrays indexed by node id (root = 0), plain numbers so that the model
 * survives `JSON.stringify` unchanged.
 *
 * - An inner node sends a row **left when `x[feature[i]] <= threshold[i]`** (sklearn's rule, ONNX
 *   `BRANCH_LEQ`), right otherwise; a missing (NaN) value goes left when `defaultLeft[i] === 1`.
 *   Thresholds are midpoints between neighbouring training values, as sklearn's.
 * - A leaf has `left[i] === right[i] === -1` and `feature[i] === -1` (its threshold is 0).
 * - `value` holds `outputs` numbers per node, node i at `value[i * outputs … (i + 1) * outputs)`:
 *   the class probabilities of the node's weighted training rows (classification) or their weighted
 *   mean (regression). Every node has one; prediction reads the leaves'.
 * - `samples[i]` counts the distinct training rows in the node (bootstrap duplicates once);
 *   `weight[i]` sums their weights (bootstrap draw count × class weight), sklearn's
 *   `weighted_n_node_samples`.
 */
export interface ForestTree {
  feature: number[];
  threshold: number[];
  defaultLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  samples: number[];
  weight: number[];
}

/**
 * A fitted random forest: a plain JSON-serialisable object (no typed arrays, no functions), so
 * `JSON.parse(JSON.stringify(model))` predicts identically. A row's prediction is the mean over
 * `trees` of the leaf `value` it reaches: the class probabilities (classification, then the class
 * is the most probable one, as sklearn's soft vote) or the number (regression).
 */
export interface ForestModel {
  kind: 'forest';
  /** Version of this format, raised when its meaning changes. */
  formatVersion: 1;
  task: ForestTask;
  /** Classes (labels 0 … classes − 1); 0 for regression. */
  classes: number;
  /** Numbers per node in `value`: `classes` for classification, 1 for regression. */
  outputs: number;
  criterion: ForestCriterion;
  /** The column names of the training matrix, in order. */
  features: string[];
  trees: ForestTree[];
  /** Mean impurity decrease per feature (sklearn's `feature_importances_`), summing to 1 (or all 0). */
  featureImportances: number[];
  /** Out-of-bag accuracy (classification) or R² (regression) when `oobScore` was asked for, else null. */
  oobScore: number | null;
}

/** All trees of a model packed into flat typed arrays with absolute child indices. */
interface PackedForest {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

const packedForests = new WeakMap<ForestModel, PackedForest>();

function pack(model: ForestModel): PackedForest {
  const cached = packedForests.get(model);
  if (cached) return cached;
  let total = 0;
  for (const t of model.trees) total += t.feature.length;
  const k = model.outputs;
  const forest: PackedForest = {
    roots: new Int32Array(model.trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    defaultLeft: new Uint8Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    value: new Float64Array(total * k),
  };
  let offset = 0;
  model.trees.forEach((t, i) => {
    forest.roots[i] = offset;
    for (let j = 0; j < t.feature.length; j++) {
      const l = t.left[j] as number;
      forest.feature[offset + j] = t.feature[j] as number;
      forest.threshold[offset + j] = t.threshold[j] as number;
      forest.defaultLeft[offset + j] = t.defaultLeft[j] as number;
      forest.left[offset + j] = l === -1 ? -1 : offset + l;
      forest.right[offset + j] = l === -1 ? -1 : offset + (t.right[j] as number);
    }
    forest.value.set(t.value, offset * k);
    offset += t.feature.length;
  });
  packedForests.set(model, forest);
  return forest;
}

function checkInput(model: ForestModel, X: Matrix): void {
  if (X.cols !== model.features.length) {
    throw invalidParameter('X', `has ${X.cols} columns, the forest was trained on ${model.features.length}`);
  }
  if (X.data.length !== X.rows * X.cols) {
    throw invalidParameter('X', `has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  }
}

/** The mean leaf value over the trees per row: `rows × outputs`, row-major. */
function meanLeafValues(model: ForestModel, X: Matrix): Float64Array {
  checkInput(model, X);
  const { roots, feature, threshold, defaultLeft, left, right, value } = pack(model);
  const { rows, cols, data } = X;
  const k = model.outputs;
  const out = new Float64Array(rows * k);
  const treeCount = roots.length;
  for (let r = 0; r < rows; r++) {
    const rowOffset = r * cols;
    const o = r * k;
    for (let t = 0; t < treeCount; t++) {
      let node = roots[t] as number;
      let l = left[node] as number;
      while (l !== -1) {
        const v = data[rowOffset + (feature[node] as number)] as number;
        node = (Number.isNaN(v) ? defaultLeft[node] === 1 : v <= (threshold[node] as number))
          ? l
          : (right[node] as number);
        l = left[node] as number;
      }
      for (let j = 0; j < k; j++) out[o + j] = (out[o + j] as number) + (value[node * k + j] as number);
    }
  }
  const scale = treeCount > 0 ? 1 / treeCount : 0;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
  return out;
}

/**
 * Class probabilities per row (`rows × classes`, row-major): the mean of the trees' leaf
 * probabilities, as sklearn's `predict_proba`. NaN in X follows each split's learned direction.
 *
 * @example
 * const proba = predictForestProba(model, X); // proba[r * model.classes + c]
 */
export function predictForestProba(model: ForestModel, X: Matrix): Float64Array {
  if (model.task !== 'classification') {
    throw invalidParameter('model', 'is a regression forest; class probabilities need a classification forest');
  }
  return meanLeafValues(model, X);
}

/**
 * Predicts per row the class index with the highest mean probability (classification, ties to the
 * lower index as numpy's argmax) or the mean of the trees' values (regression).
 *
 * @example
 * const classes = predictForest(model, X); // Float64Array of X.rows class indices or values
 */
export function predictForest(model: ForestModel, X: Matrix): Float64Array {
  const mean = meanLeafValues(model, X);
  if (model.task === 'regression') return mean;
  const k = model.outputs;
  const out = new Float64Array(X.rows);
  for (let r = 0; r < X.rows; r++) out[r] = argmax(mean, r * k, k);
  return out;
}

/** The index (0 … k − 1) of the largest of `values[offset … offset + k)`, the first on ties. */
export function argmax(values: Float64Array, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if ((values[offset + j] as number) > (values[offset + best] as number)) best = j;
  return best;
}
