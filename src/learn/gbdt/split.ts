import { MISSING_BIN } from './binning.js';
import { HIST_STRIDE } from './histogram.js';

/** Regularisation and shape limits for growing one tree; XGBoost's parameters of the same meaning. */
export interface TreeParams {
  /** Levels of splits below the root; a node at this depth is a leaf (0 = no limit under lossguide). */
  maxDepth: number;
  /** Most leaves per tree, 0 = no limit (XGBoost `max_leaves`). */
  maxLeaves: number;
  /** `depthwise` splits level by level; `lossguide` always splits the leaf with the largest gain. */
  growPolicy: 'depthwise' | 'lossguide';
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
  /** Categorical features with fewer categories in a node are split one category against the rest. */
  maxCatToOnehot: number;
  /** Most categories on the side of a partition-based categorical split that is enumerated. */
  maxCatThreshold: number;
}

/**
 * The best split of a node: rows whose bin code has `goLeft[code] === 1` go left (the missing bin's
 * entry is the learned default direction). For a numeric feature the left bins are 0 … `bin`.
 */
export interface Split {
  gain: number;
  feature: number;
  /** Last bin going left for a numeric split; −1 for a categorical one. */
  bin: number;
  defaultLeft: boolean;
  leftG: number;
  leftH: number;
  goLeft: Uint8Array;
}

/** Smallest loss reduction counted as a split, as XGBoost's `kRtEps`. */
const SPLIT_EPS = 1e-6;

/** A bin whose hessian sum is below this holds no rows of the node (subtraction leaves rounding dust). */
const EMPTY_BIN_HESSIAN = 1e-12;

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

/** Running best candidate while scanning features; `gain` starts at the smallest acceptable gain. */
interface Best {
  gain: number;
  split: Split | null;
}

/**
 * The largest loss reduction T(G_L)²/(H_L+λ) + T(G_R)²/(H_R+λ) − T(G)²/(H+λ) over every feature's
 * candidate splits — numeric cuts with missing values tried on both sides, categorical one-vs-rest or
 * partitions — or null when none exceeds max(γ, ε) with both children meeting `minChildWeight`.
 * `categorical[f] === 1` marks categorical features.
 *
 * @example
 * const split = bestSplit(hist, g, h, bins, features, categorical, params);
 */
export function bestSplit(
  hist: Float64Array,
  g: number,
  h: number,
  bins: Int32Array,
  features: Int32Array,
  categorical: Uint8Array,
  p: TreeParams,
): Split | null {
  const best: Best = { gain: Math.max(SPLIT_EPS, p.gamma), split: null };
  const parent = score(g, h, p);
  for (let k = 0; k < features.length; k++) {
    const f = features[k] as number;
    if (categorical[f] === 1) categoricalSplit(hist, f, g, h, parent, bins[f] as number, p, best);
    else numericSplit(hist, f, g, h, parent, bins[f] as number, p, best);
  }
  return best.split;
}

function numericSplit(
  hist: Float64Array,
  f: number,
  g: number,
  h: number,
  parent: number,
  nb: number,
  p: TreeParams,
  best: Best,
): void {
  const base = f * HIST_STRIDE;
  const mcw = p.minChildWeight;
  const missG = hist[base + 2 * MISSING_BIN] as number;
  const missH = hist[base + 2 * MISSING_BIN + 1] as number;
  const hasMissing = missH > EMPTY_BIN_HESSIAN;
  // With missing values, the last bin can be a cut too: all present values left, missing right.
  const lastBin = hasMissing ? nb - 1 : nb - 2;
  let cg = 0;
  let ch = 0;
  let bestBin = -1;
  let bestLeft = false;
  let bestG = 0;
  let bestH = 0;
  let bestGain = best.gain;
  const { lambda, alpha } = p;
  for (let b = 0; b <= lastBin; b++) {
    const gb = hist[base + 2 * b] as number;
    const hb = hist[base + 2 * b + 1] as number;
    // An empty bin moves no rows: its candidates repeat the previous bin's.
    if (gb === 0 && hb === 0) continue;
    cg += gb;
    ch += hb;
    const rh = h - ch;
    if (ch >= mcw && rh >= mcw && ch > 0 && rh > 0) {
      const tl = alpha === 0 ? cg : softThreshold(cg, alpha);
      const tr = alpha === 0 ? g - cg : softThreshold(g - cg, alpha);
      const gain = (tl * tl) / (ch + lambda) + (tr * tr) / (rh + lambda) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        bestBin = b;
        bestLeft = false;
        bestG = cg;
        bestH = ch;
      }
    }
    if (hasMissing && b < nb - 1) {
      const lg = cg + missG;
      const lh = ch + missH;
      const mh = h - lh;
      if (lh >= mcw && mh >= mcw && lh > 0 && mh > 0) {
        const tl = alpha === 0 ? lg : softThreshold(lg, alpha);
        const tr = alpha === 0 ? g - lg : softThreshold(g - lg, alpha);
        const gain = (tl * tl) / (lh + lambda) + (tr * tr) / (mh + lambda) - parent;
        if (gain > bestGain) {
          bestGain = gain;
          bestBin = b;
          bestLeft = true;
          bestG = lg;
          bestH = lh;
        }
      }
    }
  }
  if (bestBin < 0) return;
  const goLeft = new Uint8Array(256);
  goLeft.fill(1, 0, bestBin + 1);
  goLeft[MISSING_BIN] = bestLeft ? 1 : 0;
  best.gain = bestGain;
  best.split = { gain: bestGain, feature: f, bin: bestBin, defaultLeft: bestLeft, leftG: bestG, leftH: bestH, goLeft };
}

/**
 * Categorical candidates as XGBoost and LightGBM enumerate them: with fewer than `maxCatToOnehot`
 * categories present, each category against the rest; otherwise the categories sorted by their
 * optimal weight −G/(H + λ) and every prefix of that order (fewer than `maxCatThreshold` categories
 * from either end) against the rest — the optimal partition lies among these for a convex loss. Missing
 * values are tried on both sides.
 */
function categoricalSplit(
  hist: Float64Array,
  f: number,
  g: number,
  h: number,
  parent: number,
  nb: number,
  p: TreeParams,
  best: Best,
): void {
  const base = f * HIST_STRIDE;
  const missG = hist[base + 2 * MISSING_BIN] as number;
  const missH = hist[base + 2 * MISSING_BIN + 1] as number;
  const hasMissing = missH > EMPTY_BIN_HESSIAN;
  const present: number[] = [];
  for (let b = 0; b < nb; b++) if ((hist[base + 2 * b + 1] as number) > EMPTY_BIN_HESSIAN) present.push(b);
  if (present.length + (hasMissing ? 1 : 0) < 2) return;
  const gradOf = (b: number) => hist[base + 2 * b] as number;
  const hessOf = (b: number) => hist[base + 2 * b + 1] as number;
  /** Tries "bins `order[from … to)` go left" with missing values right and left. */
  const consider = (order: readonly number[], from: number, to: number, setG: number, setH: number) => {
    for (const missingLeft of hasMissing ? [false, true] : [false]) {
      const lg = setG + (missingLeft ? missG : 0);
      const lh = setH + (missingLeft ? missH : 0);
      if (lh < p.minChildWeight || h - lh < p.minChildWeight) continue;
      const gain = score(lg, lh, p) + score(g - lg, h - lh, p) - parent;
      if (gain > best.gain) {
        const goLeft = new Uint8Array(256);
        for (let i = from; i < to; i++) goLeft[order[i] as number] = 1;
        goLeft[MISSING_BIN] = missingLeft ? 1 : 0;
        best.gain = gain;
        best.split = { gain, feature: f, bin: -1, defaultLeft: missingLeft, leftG: lg, leftH: lh, goLeft };
      }
    }
  };
  if (present.length < p.maxCatToOnehot) {
    for (let i = 0; i < present.length; i++) {
      const b = present[i] as number;
      consider(present, i, i + 1, gradOf(b), hessOf(b));
    }
    return;
  }
  // XGBoost's CalcWeight, so a category lighter than minChildWeight weighs 0 and sorts among the neutral ones.
  const weights = new Float64Array(256);
  for (const b of present) weights[b] = leafWeight(gradOf(b), hessOf(b), p);
  const order = present.sort((a, b) => (weights[a] as number) - (weights[b] as number) || a - b);
  let totalG = 0;
  let totalH = 0;
  for (const b of order) {
    totalG += gradOf(b);
    totalH += hessOf(b);
  }
  const size = order.length;
  let prefixG = 0;
  let prefixH = 0;
  for (let k = 1; k < size; k++) {
    const b = order[k - 1] as number;
    prefixG += gradOf(b);
    prefixH += hessOf(b);
    if (k < p.maxCatThreshold) consider(order, 0, k, prefixG, prefixH);
    if (size - k < p.maxCatThreshold) consider(order, k, size, totalG - prefixG, totalH - prefixH);
  }
  if (hasMissing && size < p.maxCatThreshold) consider(order, 0, size, totalG, totalH);
}
