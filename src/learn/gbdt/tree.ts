import { type BinnedMatrix, MISSING_BIN } from './binning.js';

/**
 * One regression tree as flat parallel arrays indexed by node id (root = 0), plain numbers so that the
 * model survives `JSON.stringify` unchanged. A node with `left[i] === -1` is a leaf whose output is
 * `value[i]` (learning rate already applied). An inner node sends a row left when its value of
 * `feature[i]` is `< threshold[i]`, and a missing (NaN) value left when `defaultLeft[i] === 1`.
 */
export interface GbdtTree {
  feature: number[];
  threshold: number[];
  defaultLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  /** Loss reduction of the split (0 at leaves): the basis of gain importance. */
  gain: number[];
  /** Sum of hessians of the training rows that reached the node. */
  cover: number[];
}

/** Regularisation and shape limits for growing one tree; XGBoost's parameters of the same meaning. */
export interface TreeParams {
  /** Levels of splits below the root; a node at this depth is a leaf. */
  maxDepth: number;
  /** Shrinkage applied to every leaf value (XGBoost `eta`). */
  learningRate: number;
  /** L2 penalty on leaf values (XGBoost `lambda`). */
  lambda: number;
  /** L1 penalty on leaf values (XGBoost `alpha`). */
  alpha: number;
  /** Minimum loss reduction for a split (XGBoost `gamma` / `min_split_loss`). */
  gamma: number;
  /** Minimum hessian sum in each child (XGBoost `min_child_weight`). */
  minChildWeight: number;
}

/** What one tree is grown from: the binned training data, gradients and the sampled rows and features. */
export interface GrowInput {
  binned: BinnedMatrix;
  /** Cut points per feature (the binner's), to turn a split bin into a real threshold. */
  cuts: Float64Array[];
  /** Gradient and hessian per training row, interleaved: `gradHess[2r]`, `gradHess[2r + 1]`. */
  gradHess: Float64Array;
  /** Training rows this tree sees (row subsampling), ascending. */
  rows: Int32Array;
  /** Features this tree may split on (column subsampling), ascending. */
  features: Int32Array;
}

/** A grown tree plus, per node, the split as a bin (rows with code ≤ `splitBin` go left) for updating training margins. */
export interface GrownTree {
  tree: GbdtTree;
  splitBin: number[];
}

/** Smallest loss reduction counted as a split, as XGBoost's `kRtEps`. */
const SPLIT_EPS = 1e-6;

/** Histogram slots per feature: 255 real bins and the missing bin, each a (gradient, hessian) pair. */
const SLOTS = 256;

function softThreshold(g: number, alpha: number): number {
  if (g > alpha) return g - alpha;
  if (g < -alpha) return g + alpha;
  return 0;
}

/** The structure score T(G)²/(H + λ) of a node with gradient sum G and hessian sum H. */
function score(g: number, h: number, p: TreeParams): number {
  if (h < p.minChildWeight || h <= 0) return 0;
  const t = softThreshold(g, p.alpha);
  return (t * t) / (h + p.lambda);
}

/**
 * The optimal leaf value −T(G)/(H + λ) before shrinkage, with T the L1 soft threshold, as XGBoost's
 * `CalcWeight` (0 when the hessian sum is below `minChildWeight`).
 *
 * @example
 * leafWeight(-4, 3, { lambda: 1, alpha: 0, minChildWeight: 1 }); // 1
 */
export function leafWeight(g: number, h: number, p: Pick<TreeParams, 'lambda' | 'alpha' | 'minChildWeight'>): number {
  if (h < p.minChildWeight || h <= 0) return 0;
  return -softThreshold(g, p.alpha) / (h + p.lambda);
}

interface Split {
  gain: number;
  feature: number;
  bin: number;
  defaultLeft: boolean;
  leftG: number;
  leftH: number;
}

/** A node waiting to be split: its rows are `index[begin … end)`, its histogram `hist`. */
interface OpenNode {
  id: number;
  begin: number;
  end: number;
  g: number;
  h: number;
  hist: Float64Array | null;
}

/**
 * Grows one tree depth-wise (level by level, as XGBoost's `grow_policy=depthwise`) from gradient and
 * hessian histograms: each level's nodes are split at their best (feature, bin, missing direction);
 * the histogram of the child with fewer rows is built from its rows and the other child's is the
 * parent's minus it.
 *
 * @example
 * const { tree } = growTree({ binned, cuts: binner.cuts, gradHess, rows, features }, params);
 */
export function growTree(input: GrowInput, params: TreeParams): GrownTree {
  const { binned, gradHess } = input;
  const tree: GbdtTree = {
    feature: [],
    threshold: [],
    defaultLeft: [],
    left: [],
    right: [],
    value: [],
    gain: [],
    cover: [],
  };
  const splitBin: number[] = [];
  const index = Int32Array.from(input.rows);
  const scratch = new Int32Array(index.length);
  const histSize = binned.cols * SLOTS * 2;
  const pool: Float64Array[] = [];
  const takeHist = () => {
    const h = pool.pop();
    if (h) {
      h.fill(0);
      return h;
    }
    return new Float64Array(histSize);
  };

  let g = 0;
  let h = 0;
  for (let i = 0; i < index.length; i++) {
    const r = index[i] as number;
    g += gradHess[2 * r] as number;
    h += gradHess[2 * r + 1] as number;
  }
  const addNode = (nodeG: number, nodeH: number) => {
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.defaultLeft.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(params.learningRate * leafWeight(nodeG, nodeH, params));
    tree.gain.push(0);
    tree.cover.push(nodeH);
    splitBin.push(-1);
    return tree.feature.length - 1;
  };

  let level: OpenNode[] = [{ id: addNode(g, h), begin: 0, end: index.length, g, h, hist: null }];
  if (params.maxDepth > 0) {
    const root = level[0] as OpenNode;
    root.hist = takeHist();
    buildHistogram(root.hist, binned, gradHess, index, 0, index.length, input.features);
  }
  for (let depth = 0; depth < params.maxDepth && level.length > 0; depth++) {
    const next: OpenNode[] = [];
    const childrenSplit = depth + 1 < params.maxDepth;
    for (const node of level) {
      const hist = node.hist as Float64Array;
      const split = bestSplit(hist, node.g, node.h, binned.bins, input.features, params);
      if (split === null) {
        pool.push(hist);
        continue;
      }
      const mid = partition(index, scratch, node.begin, node.end, binned, split);
      const rightG = node.g - split.leftG;
      const rightH = node.h - split.leftH;
      const left: OpenNode = {
        id: addNode(split.leftG, split.leftH),
        begin: node.begin,
        end: mid,
        g: split.leftG,
        h: split.leftH,
        hist: null,
      };
      const right: OpenNode = {
        id: addNode(rightG, rightH),
        begin: mid,
        end: node.end,
        g: rightG,
        h: rightH,
        hist: null,
      };
      const id = node.id;
      tree.feature[id] = split.feature;
      const cuts = input.cuts[split.feature] as Float64Array;
      tree.threshold[id] = split.bin < cuts.length ? (cuts[split.bin] as number) : Number.MAX_VALUE;
      tree.defaultLeft[id] = split.defaultLeft ? 1 : 0;
      tree.left[id] = left.id;
      tree.right[id] = right.id;
      tree.value[id] = 0;
      tree.gain[id] = split.gain;
      splitBin[id] = split.bin;
      if (childrenSplit) {
        const leftSmaller = mid - node.begin <= node.end - mid;
        const small = leftSmaller ? left : right;
        const large = leftSmaller ? right : left;
        small.hist = takeHist();
        buildHistogram(small.hist, binned, gradHess, index, small.begin, small.end, input.features);
        subtractHistogram(hist, small.hist, input.features);
        large.hist = hist;
        next.push(left, right);
      } else {
        pool.push(hist);
      }
    }
    level = next;
  }
  return { tree, splitBin };
}

/** Adds each row's (gradient, hessian) into its bin's slot, for the given features only. */
function buildHistogram(
  hist: Float64Array,
  binned: BinnedMatrix,
  gradHess: Float64Array,
  index: Int32Array,
  begin: number,
  end: number,
  features: Int32Array,
): void {
  const { codes, rows } = binned;
  const count = end - begin;
  const gh = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    const r = index[begin + i] as number;
    gh[2 * i] = gradHess[2 * r] as number;
    gh[2 * i + 1] = gradHess[2 * r + 1] as number;
  }
  // Two features per pass over the rows: each row index and gradient pair is loaded once for both.
  let k = 0;
  for (; k + 1 < features.length; k += 2) {
    const fa = features[k] as number;
    const fb = features[k + 1] as number;
    const colA = fa * rows;
    const colB = fb * rows;
    const baseA = fa * SLOTS * 2;
    const baseB = fb * SLOTS * 2;
    for (let i = 0; i < count; i++) {
      const r = index[begin + i] as number;
      const g = gh[2 * i] as number;
      const h = gh[2 * i + 1] as number;
      const sa = baseA + 2 * (codes[colA + r] as number);
      const sb = baseB + 2 * (codes[colB + r] as number);
      hist[sa] = (hist[sa] as number) + g;
      hist[sa + 1] = (hist[sa + 1] as number) + h;
      hist[sb] = (hist[sb] as number) + g;
      hist[sb + 1] = (hist[sb + 1] as number) + h;
    }
  }
  if (k < features.length) {
    const f = features[k] as number;
    const col = f * rows;
    const base = f * SLOTS * 2;
    for (let i = 0; i < count; i++) {
      const slot = base + 2 * (codes[col + (index[begin + i] as number)] as number);
      hist[slot] = (hist[slot] as number) + (gh[2 * i] as number);
      hist[slot + 1] = (hist[slot + 1] as number) + (gh[2 * i + 1] as number);
    }
  }
}

/** parent −= child over the given features' slots, turning the parent's histogram into the sibling's. */
function subtractHistogram(parent: Float64Array, child: Float64Array, features: Int32Array): void {
  for (let k = 0; k < features.length; k++) {
    const base = (features[k] as number) * SLOTS * 2;
    for (let s = base; s < base + SLOTS * 2; s++) parent[s] = (parent[s] as number) - (child[s] as number);
  }
}

/**
 * Scans every feature's bins left to right, trying each cut with missing values sent right and (when
 * the node has missing values of that feature) sent left; keeps the largest loss reduction
 * T(G_L)²/(H_L+λ) + T(G_R)²/(H_R+λ) − T(G)²/(H+λ), or null when none exceeds max(γ, ε) with both
 * children meeting `minChildWeight`.
 */
function bestSplit(
  hist: Float64Array,
  g: number,
  h: number,
  bins: Int32Array,
  features: Int32Array,
  p: TreeParams,
): Split | null {
  const parent = score(g, h, p);
  const mcw = p.minChildWeight;
  let best: Split | null = null;
  let bestGain = Math.max(SPLIT_EPS, p.gamma);
  for (let k = 0; k < features.length; k++) {
    const f = features[k] as number;
    const base = f * SLOTS * 2;
    const nb = bins[f] as number;
    const missG = hist[base + 2 * MISSING_BIN] as number;
    const missH = hist[base + 2 * MISSING_BIN + 1] as number;
    const hasMissing = missH > 0;
    // With missing values, the last bin can be a cut too: all present values left, missing right.
    const lastBin = hasMissing ? nb - 1 : nb - 2;
    let cg = 0;
    let ch = 0;
    for (let b = 0; b <= lastBin; b++) {
      cg += hist[base + 2 * b] as number;
      ch += hist[base + 2 * b + 1] as number;
      if (ch >= mcw && h - ch >= mcw) {
        const gain = score(cg, ch, p) + score(g - cg, h - ch, p) - parent;
        if (gain > bestGain) {
          bestGain = gain;
          best = { gain, feature: f, bin: b, defaultLeft: false, leftG: cg, leftH: ch };
        }
      }
      if (hasMissing && b < nb - 1) {
        const lg = cg + missG;
        const lh = ch + missH;
        if (lh >= mcw && h - lh >= mcw) {
          const gain = score(lg, lh, p) + score(g - lg, h - lh, p) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            best = { gain, feature: f, bin: b, defaultLeft: true, leftG: lg, leftH: lh };
          }
        }
      }
    }
  }
  return best;
}

/** Stable partition of `index[begin … end)` into the rows going left, then right; returns the boundary. */
function partition(
  index: Int32Array,
  scratch: Int32Array,
  begin: number,
  end: number,
  binned: BinnedMatrix,
  split: Split,
): number {
  const { codes, rows } = binned;
  const col = split.feature * rows;
  const bin = split.bin;
  const missingLeft = split.defaultLeft;
  let l = begin;
  let r = 0;
  for (let i = begin; i < end; i++) {
    const row = index[i] as number;
    const code = codes[col + row] as number;
    const goLeft = code === MISSING_BIN ? missingLeft : code <= bin;
    if (goLeft) index[l++] = row;
    else scratch[r++] = row;
  }
  index.set(scratch.subarray(0, r), l);
  return l;
}

/**
 * Adds the tree's output for every row of the binned matrix to `margin[r * stride + offset]`, routing
 * by split bins: how boosting updates the training margins, including rows the tree did not sample.
 *
 * @example
 * addBinnedPredictions(grown, binned, margin, 1, 0);
 */
export function addBinnedPredictions(
  grown: GrownTree,
  binned: BinnedMatrix,
  margin: Float64Array,
  stride: number,
  offset: number,
): void {
  const { tree, splitBin } = grown;
  const { feature, defaultLeft, left, right, value } = tree;
  const { codes, rows } = binned;
  for (let r = 0; r < rows; r++) {
    let node = 0;
    while ((left[node] as number) !== -1) {
      const code = codes[(feature[node] as number) * rows + r] as number;
      const goLeft = code === MISSING_BIN ? defaultLeft[node] === 1 : code <= (splitBin[node] as number);
      node = goLeft ? (left[node] as number) : (right[node] as number);
    }
    const k = r * stride + offset;
    margin[k] = (margin[k] as number) + (value[node] as number);
  }
}
