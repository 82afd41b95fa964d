import { MISSING_BIN } from '../gbdt/binning.js';
import type { TreeParams } from './options.js';

/** Slots per feature in the bin tables and histograms: the real bins 0 … 254 plus the missing bin 255. */
export const BIN_SLOTS = MISSING_BIN + 1;

/**
 * The training data every tree of a forest reads, in typed arrays that may live on shared memory so
 * that worker threads read the same bytes.
 */
export interface ForestData {
  rows: number;
  cols: number;
  /** Bin codes, column-major: `codes[f * rows + r]`; {@link MISSING_BIN} for NaN. */
  codes: Uint8Array;
  /** Smallest and largest training value in bin b of feature f, at `[f * BIN_SLOTS + b]`. */
  binLow: Float64Array;
  binHigh: Float64Array;
  /** The raw values, row-major as in `Matrix`: out-of-bag rows are routed on them like new data. */
  x: Float64Array;
  /** The target per row (a real number, or the class index). */
  y: Float64Array;
  /** Classes (0 for regression). */
  classes: number;
}

/**
 * One grown tree in typed arrays indexed by node id (root 0), the in-memory twin of `ForestTree`: an
 * inner node sends a row left when `x[feature] <= threshold`, NaN left when `defaultLeft` is 1; a leaf
 * has `left = right = feature = -1`. `value` holds `outputs` numbers per node.
 */
export interface GrownTree {
  feature: Int32Array;
  threshold: Float64Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  samples: Int32Array;
  weight: Float64Array;
  /** Impurity decrease per feature, normalised to sum 1 (all 0 for a single leaf), as sklearn's tree. */
  importance: Float64Array;
}

/** The best split found at a node. */
interface Split {
  feature: number;
  /** Bins ≤ this go left. */
  lastLeftBin: number;
  missingLeft: boolean;
  threshold: number;
  score: number;
}

/**
 * The rows a tree grows on, position-aligned: row `index[i]` has weight `weight[i]` and target
 * `target[i]`. Partitioning moves all three together, so every node's rows, weights and targets are
 * contiguous and the split search reads only the bin codes by row index.
 */
interface NodeRows {
  index: Int32Array;
  weight: Float64Array;
  target: Float64Array;
}

function nodeRows(length: number): NodeRows {
  return { index: new Int32Array(length), weight: new Float64Array(length), target: new Float64Array(length) };
}

/** A node's impurity (Gini, entropy or variance) from its sums, laid out as `TreeGrower.nodeStats` returns them. */
function impurityOf(stats: Float64Array, classes: number, criterion: TreeParams['criterion']): number {
  if (classes === 0) {
    const w = stats[1] as number;
    const mean = (stats[2] as number) / w;
    return Math.max(0, (stats[3] as number) / w - mean * mean);
  }
  const w = stats[1] as number;
  let impurity = criterion === 'gini' ? 1 : 0;
  for (let c = 0; c < classes; c++) {
    const p = (stats[2 + c] as number) / w;
    if (criterion === 'gini') impurity -= p * p;
    else if (p > 0) impurity -= p * Math.log2(p);
  }
  return impurity;
}

/**
 * Grows one CART tree depth-first as sklearn's `DepthFirstTreeBuilder` does, but searching splits on
 * histograms of bin codes: at every node it draws features without replacement until `maxFeatures`
 * of them were examined (drawing on while every one drawn is constant in the node), builds each
 * drawn feature's histogram over the node's rows (only the touched bins are scanned and reset, so
 * small nodes stay cheap), and keeps the split with the best impurity proxy. A node with missing
 * values tries them on both sides; one without sends them to the child with more rows.
 */
export class TreeGrower {
  /** Per bin: [rows, weight, then Σw·y (regression) or the weight of each class]. */
  private readonly stride: number;
  private readonly hist: Float64Array;
  private readonly touched = new Int32Array(BIN_SLOTS);
  private readonly left: Float64Array;
  private readonly right: Float64Array;
  private readonly missing: Float64Array;
  /** The sums of the node being split (see {@link nodeStats}). */
  private nodeSums: Float64Array;
  private readonly order: Int32Array;
  private readonly best: Split = { feature: -1, lastLeftBin: -1, missingLeft: false, threshold: 0, score: 0 };

  constructor(
    private readonly data: ForestData,
    private readonly params: TreeParams,
  ) {
    const k = data.classes;
    this.stride = k === 0 ? 3 : 2 + k;
    this.hist = new Float64Array(BIN_SLOTS * this.stride);
    this.left = new Float64Array(this.stride);
    this.right = new Float64Array(this.stride);
    this.missing = new Float64Array(this.stride);
    this.nodeSums = new Float64Array(0);
    this.order = new Int32Array(data.cols);
  }

  /**
   * Grows a tree on the rows `index` (ascending, each with weight > 0 in `weight`, which is indexed by
   * row), drawing features with `rng`.
   */
  grow(index: Int32Array, weight: Float64Array, rng: () => number): GrownTree {
    const { classes, cols } = this.data;
    const outputs = Math.max(classes, 1);
    const nodes = { feature: [] as number[], threshold: [] as number[], defaultLeft: [] as number[] };
    const links = { left: [] as number[], right: [] as number[], samples: [] as number[] };
    const weights: number[] = [];
    const impurity: number[] = [];
    const values: number[] = [];
    const { y } = this.data;
    const rows: NodeRows = nodeRows(index.length);
    for (let i = 0; i < index.length; i++) {
      const r = index[i] as number;
      rows.index[i] = r;
      rows.weight[i] = weight[r] as number;
      rows.target[i] = y[r] as number;
    }
    const scratch = nodeRows(index.length);
    const addNode = (): number => {
      nodes.feature.push(-1);
      nodes.threshold.push(0);
      nodes.defaultLeft.push(0);
      links.left.push(-1);
      links.right.push(-1);
      links.samples.push(0);
      weights.push(0);
      impurity.push(0);
      for (let j = 0; j < outputs; j++) values.push(0);
      return nodes.feature.length - 1;
    };
    // Pending nodes as (id, begin, end, depth) quadruples with their sums; the left child is popped first.
    const stack: number[] = [addNode(), 0, index.length, 0];
    const sums: Float64Array[] = [this.nodeStats(rows, 0, index.length)];
    while (stack.length > 0) {
      const depth = stack.pop() as number;
      const end = stack.pop() as number;
      const begin = stack.pop() as number;
      const id = stack.pop() as number;
      const stats = sums.pop() as Float64Array;
      this.nodeSums = stats;
      const nodeImpurity = impurityOf(stats, classes, this.params.criterion);
      links.samples[id] = end - begin;
      weights[id] = stats[1] as number;
      impurity[id] = nodeImpurity;
      if (classes === 0) values[id] = (stats[2] as number) / (stats[1] as number);
      else for (let c = 0; c < classes; c++) values[id * outputs + c] = (stats[2 + c] as number) / (stats[1] as number);
      const count = end - begin;
      const { maxDepth, minSamplesSplit, minSamplesLeaf } = this.params;
      const isLeaf =
        depth >= maxDepth ||
        count < minSamplesSplit ||
        count < 2 * minSamplesLeaf ||
        nodeImpurity <= Number.EPSILON ||
        !this.findSplit(rows, begin, end, rng);
      if (isLeaf) continue;
      const split = this.best;
      const leftSums = new Float64Array(stats.length);
      const rightSums = new Float64Array(stats.length);
      const mid = this.partition(rows, scratch, begin, end, split, leftSums, rightSums);
      const leftId = addNode();
      const rightId = addNode();
      nodes.feature[id] = split.feature;
      nodes.threshold[id] = split.threshold;
      nodes.defaultLeft[id] = split.missingLeft ? 1 : 0;
      links.left[id] = leftId;
      links.right[id] = rightId;
      stack.push(rightId, mid, end, depth + 1, leftId, begin, mid, depth + 1);
      sums.push(rightSums, leftSums);
    }
    const left = Int32Array.from(links.left);
    const right = Int32Array.from(links.right);
    const feature = Int32Array.from(nodes.feature);
    const weightArray = Float64Array.from(weights);
    return {
      feature,
      threshold: Float64Array.from(nodes.threshold),
      defaultLeft: Uint8Array.from(nodes.defaultLeft),
      left,
      right,
      value: Float64Array.from(values),
      samples: Int32Array.from(links.samples),
      weight: weightArray,
      importance: treeImportance(feature, left, right, weightArray, impurity, cols),
    };
  }

  /**
   * The sums of the rows `index[begin … end)`: [rows, weight, Σw·y, Σw·y² (regression) | the weight of
   * each class]. Children get theirs from {@link partition}, summed in the same row order.
   */
  private nodeStats(rows: NodeRows, begin: number, end: number): Float64Array {
    const { classes } = this.data;
    const { weight, target } = rows;
    const stats = new Float64Array(classes === 0 ? 4 : 2 + classes);
    stats[0] = end - begin;
    if (classes === 0) {
      let w = 0;
      let wy = 0;
      let wyy = 0;
      for (let i = begin; i < end; i++) {
        const rw = weight[i] as number;
        const v = target[i] as number;
        w += rw;
        wy += rw * v;
        wyy += rw * v * v;
      }
      stats[1] = w;
      stats[2] = wy;
      stats[3] = wyy;
      return stats;
    }
    let w = 0;
    for (let i = begin; i < end; i++) {
      const rw = weight[i] as number;
      w += rw;
      const slot = 2 + (target[i] as number);
      stats[slot] = (stats[slot] as number) + rw;
    }
    stats[1] = w;
    return stats;
  }

  /**
   * Draws features as sklearn's best splitter does and leaves the best split in {@link best}; false when
   * no feature has a valid split.
   */
  private findSplit(rows: NodeRows, begin: number, end: number, rng: () => number): boolean {
    const { order } = this;
    const cols = order.length;
    for (let f = 0; f < cols; f++) order[f] = f;
    this.best.feature = -1;
    this.best.score = Number.NEGATIVE_INFINITY;
    let visited = 0;
    let constant = 0;
    for (let drawn = 0; drawn < cols; drawn++) {
      if (visited >= this.params.maxFeatures && visited > constant) break;
      const pick = drawn + Math.floor(rng() * (cols - drawn));
      const f = order[pick] as number;
      order[pick] = order[drawn] as number;
      order[drawn] = f;
      visited++;
      if (!this.scanFeature(rows, begin, end, f)) constant++;
    }
    return this.best.feature >= 0;
  }

  /**
   * Builds feature f's histogram over the node's rows and updates {@link best} with its best split.
   * Returns false when the feature is constant in the node.
   */
  private scanFeature(rows: NodeRows, begin: number, end: number, f: number): boolean {
    const { hist, touched, stride } = this;
    const { codes, classes } = this.data;
    const { index, weight, target } = rows;
    const offset = f * this.data.rows;
    let used = 0;
    // Regression adds w·y to slot 2, classification w to the slot of the row's class.
    const regression = classes === 0;
    for (let i = begin; i < end; i++) {
      const r = index[i] as number;
      const bin = codes[offset + r] as number;
      const o = bin * stride;
      if (hist[o] === 0) touched[used++] = bin;
      const w = weight[i] as number;
      const v = target[i] as number;
      hist[o] = (hist[o] as number) + 1;
      hist[o + 1] = (hist[o + 1] as number) + w;
      if (regression) hist[o + 2] = (hist[o + 2] as number) + w * v;
      else hist[o + 2 + v] = (hist[o + 2 + v] as number) + w;
    }
    sortSmall(touched, used);
    const varies = used > 1;
    if (varies) this.scanBins(f, used);
    for (let t = 0; t < used; t++) {
      const o = (touched[t] as number) * stride;
      hist.fill(0, o, o + stride);
    }
    return varies;
  }

  /** Scans the split points between the node's `used` non-empty bins (ascending in {@link touched}). */
  private scanBins(f: number, used: number): void {
    const { hist, touched, stride, left, right, missing, nodeSums: stats, best } = this;
    const { minSamplesLeaf } = this.params;
    const hasMissing = touched[used - 1] === MISSING_BIN;
    const realBins = hasMissing ? used - 1 : used;
    missing.fill(0);
    if (hasMissing) for (let j = 0; j < stride; j++) missing[j] = hist[MISSING_BIN * stride + j] as number;
    left.fill(0);
    // With missing values, the last candidate sends every present value left and the missing ones right.
    const last = hasMissing ? realBins : realBins - 1;
    for (let t = 0; t < last; t++) {
      const o = (touched[t] as number) * stride;
      for (let j = 0; j < stride; j++) left[j] = (left[j] as number) + (hist[o + j] as number);
      for (let side = 0; side < (hasMissing ? 2 : 1); side++) {
        const missingLeft = side === 1;
        if (missingLeft && t === realBins - 1) continue;
        for (let j = 0; j < stride; j++) {
          const l = (left[j] as number) + (missingLeft ? (missing[j] as number) : 0);
          right[j] = (stats[j] as number) - l;
        }
        const leftRows = (left[0] as number) + (missingLeft ? (missing[0] as number) : 0);
        if (leftRows < minSamplesLeaf || (right[0] as number) < minSamplesLeaf) continue;
        const score = this.proxy(missingLeft);
        if (!(score > best.score)) continue;
        const bin = touched[t] as number;
        const low = f * BIN_SLOTS;
        const high = this.data.binHigh[low + bin] as number;
        const next = t + 1 < realBins ? (this.data.binLow[low + (touched[t + 1] as number)] as number) : high;
        let threshold = high / 2 + next / 2;
        if (!(threshold < next)) threshold = high;
        best.feature = f;
        best.lastLeftBin = bin;
        best.threshold = threshold;
        best.score = score;
        best.missingLeft = hasMissing ? missingLeft : leftRows >= (right[0] as number);
      }
    }
  }

  /**
   * The impurity proxy sklearn maximises, −(W_l·I_l + W_r·I_r) up to a constant: Σ w_c² / W per child
   * for Gini, Σ w_c·log₂(w_c / W) for entropy, (Σ w·y)² / W for squared error. {@link left} lacks the
   * missing rows; {@link right} is complete.
   */
  private proxy(missingLeft: boolean): number {
    const { left, right, missing, stride } = this;
    // 1 adds the missing rows' sums to the left side.
    const m = missingLeft ? 1 : 0;
    const wl = (left[1] as number) + m * (missing[1] as number);
    const wr = right[1] as number;
    if (!(wl > 0 && wr > 0)) return Number.NEGATIVE_INFINITY;
    if (this.data.classes === 0) {
      const sl = (left[2] as number) + m * (missing[2] as number);
      const sr = right[2] as number;
      return (sl * sl) / wl + (sr * sr) / wr;
    }
    if (this.params.criterion === 'gini') {
      let sumL = 0;
      let sumR = 0;
      for (let j = 2; j < stride; j++) {
        const l = (left[j] as number) + m * (missing[j] as number);
        const r = right[j] as number;
        sumL += l * l;
        sumR += r * r;
      }
      return sumL / wl + sumR / wr;
    }
    let score = 0;
    for (let j = 2; j < stride; j++) {
      const l = (left[j] as number) + m * (missing[j] as number);
      const r = right[j] as number;
      if (l > 0) score += l * Math.log2(l / wl);
      if (r > 0) score += r * Math.log2(r / wr);
    }
    return score;
  }

  /**
   * Moves the rows going left (with their weights and targets) to the front of positions
   * `begin … end`, keeping their order, and sums each side into `leftSums` / `rightSums` (zeroed; laid
   * out as {@link nodeStats}). Returns where the right rows start.
   */
  private partition(
    rows: NodeRows,
    scratch: NodeRows,
    begin: number,
    end: number,
    split: Split,
    leftSums: Float64Array,
    rightSums: Float64Array,
  ): number {
    const { codes, classes } = this.data;
    const { index, weight, target } = rows;
    const offset = split.feature * this.data.rows;
    const { lastLeftBin, missingLeft } = split;
    const regression = classes === 0;
    let l = begin;
    let s = 0;
    for (let i = begin; i < end; i++) {
      const r = index[i] as number;
      const bin = codes[offset + r] as number;
      const w = weight[i] as number;
      const v = target[i] as number;
      const sums = (bin === MISSING_BIN ? missingLeft : bin <= lastLeftBin) ? leftSums : rightSums;
      if (sums === leftSums) {
        index[l] = r;
        weight[l] = w;
        target[l++] = v;
      } else {
        scratch.index[s] = r;
        scratch.weight[s] = w;
        scratch.target[s++] = v;
      }
      sums[1] = (sums[1] as number) + w;
      if (regression) {
        sums[2] = (sums[2] as number) + w * v;
        sums[3] = (sums[3] as number) + w * v * v;
      } else {
        sums[2 + v] = (sums[2 + v] as number) + w;
      }
    }
    leftSums[0] = l - begin;
    rightSums[0] = s;
    index.set(scratch.index.subarray(0, s), l);
    weight.set(scratch.weight.subarray(0, s), l);
    target.set(scratch.target.subarray(0, s), l);
    return l;
  }
}

/** Sorts `values[0 … length)` ascending in place (insertion sort: at most 256 small ints). */
function sortSmall(values: Int32Array, length: number): void {
  if (length > 32) {
    values.subarray(0, length).sort();
    return;
  }
  for (let i = 1; i < length; i++) {
    const v = values[i] as number;
    let j = i - 1;
    while (j >= 0 && (values[j] as number) > v) {
      values[j + 1] = values[j] as number;
      j--;
    }
    values[j + 1] = v;
  }
}

/** sklearn's impurity importance of one tree: Σ over splits of W·I − W_l·I_l − W_r·I_r, normalised. */
function treeImportance(
  feature: Int32Array,
  left: Int32Array,
  right: Int32Array,
  weight: Float64Array,
  impurity: readonly number[],
  cols: number,
): Float64Array {
  const importance = new Float64Array(cols);
  for (let node = 0; node < feature.length; node++) {
    const l = left[node] as number;
    if (l === -1) continue;
    const r = right[node] as number;
    const decrease =
      (weight[node] as number) * (impurity[node] as number) -
      (weight[l] as number) * (impurity[l] as number) -
      (weight[r] as number) * (impurity[r] as number);
    const f = feature[node] as number;
    importance[f] = (importance[f] as number) + decrease;
  }
  let total = 0;
  for (const v of importance) total += v;
  if (total > 0) for (let f = 0; f < cols; f++) importance[f] = (importance[f] as number) / total;
  return importance;
}
