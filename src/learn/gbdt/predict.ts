import { invalidParameter } from '../../core/index.js';
import type { Matrix } from '../matrix.js';
import type { GbdtMetric, GbdtObjective } from './objective.js';
import { transformMargins } from './objective.js';
import type { GbdtTree } from './tree.js';

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
  /** Columns trained as category codes (their splits are `categories` sets); absent when none. */
  categoricalFeatures?: number[];
  /**
   * The round (0-based) with the best validation metric, or the last round without validation. With
   * early stopping the trees after it are dropped.
   */
  bestIteration: number;
  /** The validation metric after every round trained (more than kept when early stopping triggered). */
  evalHistory: { metric: GbdtMetric; values: number[] } | null;
}

/**
 * All trees of a model packed into flat typed arrays with absolute child indices, for prediction. A
 * categorical node has `categoryStart ≥ 0`: code c goes left when `c < categoryLength` and
 * `categoryBits[categoryStart + c] === 1`.
 */
interface PackedForest {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  categoryStart: Int32Array;
  categoryLength: Int32Array;
  categoryBits: Uint8Array;
}

const packedForests = new WeakMap<object, PackedForest>();

function pack(trees: readonly GbdtTree[]): PackedForest {
  let total = 0;
  let bits = 0;
  for (const t of trees) {
    total += t.feature.length;
    for (const set of t.categories ?? []) if (set) bits += (set.length === 0 ? 0 : Math.max(...set)) + 1;
  }
  const forest: PackedForest = {
    roots: new Int32Array(trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    defaultLeft: new Uint8Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    value: new Float64Array(total),
    categoryStart: new Int32Array(total).fill(-1),
    categoryLength: new Int32Array(total),
    categoryBits: new Uint8Array(bits),
  };
  let off = 0;
  let bitOff = 0;
  trees.forEach((t, i) => {
    forest.roots[i] = off;
    for (let j = 0; j < t.feature.length; j++) {
      const l = t.left[j] as number;
      forest.feature[off + j] = Math.max(0, t.feature[j] as number);
      forest.threshold[off + j] = t.threshold[j] as number;
      forest.defaultLeft[off + j] = t.defaultLeft[j] as number;
      forest.left[off + j] = l === -1 ? -1 : off + l;
      forest.right[off + j] = l === -1 ? -1 : off + (t.right[j] as number);
      forest.value[off + j] = t.value[j] as number;
      const set = t.categories?.[j];
      if (set) {
        const length = (set.length === 0 ? 0 : Math.max(...set)) + 1;
        forest.categoryStart[off + j] = bitOff;
        forest.categoryLength[off + j] = length;
        for (const code of set) forest.categoryBits[bitOff + code] = 1;
        bitOff += length;
      }
    }
    off += t.feature.length;
  });
  return forest;
}

function packedModel(model: GbdtModel): PackedForest {
  let forest = packedForests.get(model);
  if (!forest) {
    forest = pack(model.trees);
    packedForests.set(model, forest);
  }
  return forest;
}

/** Rows predicted together: each tree is walked for all of them while its nodes sit in L1 cache. */
const ROW_BLOCK = 64;

/**
 * Adds the packed trees `first, first + step, …` to `out[r * stride + offset]` for every row of X:
 * one output's share of the ensemble, in blocks of rows so that both the block's values and the
 * current tree stay in cache.
 */
function addForest(
  forest: PackedForest,
  X: Matrix,
  out: Float64Array,
  stride: number,
  offset: number,
  first: number,
  step: number,
): void {
  const { roots, feature, threshold, defaultLeft, left, right, value, categoryStart, categoryLength, categoryBits } =
    forest;
  const { rows, cols, data } = X;
  const treeCount = roots.length;
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const r1 = Math.min(rows, r0 + ROW_BLOCK);
    for (let t = first; t < treeCount; t += step) {
      const root = roots[t] as number;
      for (let r = r0; r < r1; r++) {
        const rowOff = r * cols;
        let node = root;
        let l = left[node] as number;
        while (l !== -1) {
          const x = data[rowOff + (feature[node] as number)] as number;
          const start = categoryStart[node] as number;
          if (start < 0) {
            // Both comparisons are false for NaN, which then follows the default direction.
            const cut = threshold[node] as number;
            node =
              x < cut ? l : x >= cut ? (right[node] as number) : defaultLeft[node] === 1 ? l : (right[node] as number);
          } else {
            const inSet = x >= 0 && x < (categoryLength[node] as number) && categoryBits[start + x] === 1;
            node = inSet || (Number.isNaN(x) && defaultLeft[node] === 1) ? l : (right[node] as number);
          }
          l = left[node] as number;
        }
        const k = r * stride + offset;
        out[k] = (out[k] as number) + (value[node] as number);
      }
    }
  }
}

/**
 * Adds one tree's output for every row of X to `margin[r * stride + offset]`: how boosting tracks the
 * validation margins round by round.
 *
 * @example
 * addTreeOutputs(tree, validationX, margin, 1, 0);
 */
export function addTreeOutputs(tree: GbdtTree, X: Matrix, margin: Float64Array, stride: number, offset: number): void {
  addForest(pack([tree]), X, margin, stride, offset, 0, 1);
}

/** Checks that X is a well-formed matrix, optionally with `cols` columns. */
export function checkMatrixShape(X: Matrix, field: string, cols?: number): void {
  if (X.rows < 1 || X.cols < 1) throw invalidParameter(field, 'must have at least one row and one column');
  if (X.data.length !== X.rows * X.cols) {
    throw invalidParameter(field, `has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  }
  if (cols !== undefined && X.cols !== cols) throw invalidParameter(field, `has ${X.cols} columns, expected ${cols}`);
}

/**
 * Predicts with a fitted model: per row the probability of class 1 (`binary:logistic`), the value
 * (`reg:squarederror`) or `outputs` class probabilities row-major (`multi:softprob`); with
 * `{ margin: true }` the raw margins instead. NaN in X follows each split's learned default direction;
 * a category code a categorical split never saw goes right. The packed form of the trees is cached per
 * model object, so predicting one row at a time stays cheap.
 *
 * @example
 * const p = predictGbdt(model, X); // Float64Array of X.rows (× classes) values
 */
export function predictGbdt(model: GbdtModel, X: Matrix, options: { margin?: boolean } = {}): Float64Array {
  checkMatrixShape(X, 'X', model.features.length);
  const forest = packedModel(model);
  const k = model.outputs;
  const out = new Float64Array(X.rows * k);
  for (let j = 0; j < k; j++) {
    const base = model.baseMargin[j] as number;
    for (let r = 0; r < X.rows; r++) out[r * k + j] = base;
    addForest(forest, X, out, k, j, j, k);
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
