import type { Binner } from './binning.js';
import { HIST_STRIDE, subtractHistogram } from './histogram.js';
import { bestSplit, leafWeight, type Split, type TreeParams } from './split.js';
import type { NodeTask, NodeWorkers, SharedTrainingData } from './workers.js';

/**
 * One regression tree as flat parallel arrays indexed by node id (root = 0), plain numbers so that the
 * model survives `JSON.stringify` unchanged. A node with `left[i] === -1` is a leaf whose output is
 * `value[i]` (learning rate already applied). An inner node sends a row left when its value of
 * `feature[i]` is `< threshold[i]`, and a missing (NaN) value left when `defaultLeft[i] === 1`; a
 * categorical node (`categories[i]` not null) sends a row left when its value is one of the listed
 * category codes, missing values by `defaultLeft[i]`, and every other code right.
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
  /** Per node, the category codes going left at a categorical split, else null; absent without any. */
  categories?: (number[] | null)[];
}

/** What one tree is grown from: the shared training data and the rows and features this tree may use. */
export interface GrowInput {
  shared: SharedTrainingData;
  workers: NodeWorkers;
  /** Bins per feature and the binner (cuts for thresholds, category groups for categorical splits). */
  bins: Int32Array;
  binner: Binner;
  /** 1 for categorical features. */
  categorical: Uint8Array;
  /** Which output's gradients (`shared.gradHess[output]`) this tree fits. */
  output: number;
  /** The tree's rows are `shared.index[0 … rowCount)` (row subsampling), in any order. */
  rowCount: number;
  /** Features this tree may split on (column subsampling), ascending. */
  features: Int32Array;
}

/**
 * A grown tree plus how training rows were routed: every leaf's rows are `shared.index[begin … end)`,
 * and each inner node's bin routing (`goLeft[code]`) classifies rows the tree did not sample.
 */
export interface GrownTree {
  tree: GbdtTree;
  leaves: { id: number; begin: number; end: number }[];
  goLeft: (Uint8Array | null)[];
}

/** A leaf that may still be split: its rows, sums, histogram and best split. */
interface Candidate {
  id: number;
  depth: number;
  begin: number;
  end: number;
  g: number;
  h: number;
  hist: Float64Array | null;
  split: Split | null;
  /** Creation order: ties in gain go to the older leaf, as in XGBoost's lossguide queue. */
  order: number;
}

/**
 * Grows one tree from gradient histograms, XGBoost `hist` style. `depthwise` splits every leaf of a
 * level (one histogram batch per level); `lossguide` (LightGBM's leaf-wise growth) always splits the
 * leaf whose best split gains most, until `maxLeaves` (and `maxDepth`, when set) stop it. After a
 * split, only the lighter child (smaller hessian sum) gets its histogram built, by the same pass that
 * partitions the rows; the other's is the parent's minus it.
 *
 * @example
 * const grown = await growTree(input, params);
 */
export async function growTree(input: GrowInput, params: TreeParams): Promise<GrownTree> {
  const { shared, workers, output } = input;
  const { index, cols } = shared;
  const gradHess = shared.gradHess[output] as Float64Array;
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
  const hasCategorical = input.categorical.includes(1);
  if (hasCategorical) tree.categories = [];
  const goLeft: (Uint8Array | null)[] = [];
  const ranges: { begin: number; end: number }[] = [];
  const pool: Float64Array[] = [];
  const takeHist = () => {
    const hist = pool.pop();
    if (hist) {
      hist.fill(0);
      return hist;
    }
    return new Float64Array(cols * HIST_STRIDE);
  };
  let order = 0;
  const addNode = (depth: number, begin: number, end: number, g: number, h: number): Candidate => {
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.defaultLeft.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(params.learningRate * leafWeight(g, h, params));
    tree.gain.push(0);
    tree.cover.push(h);
    tree.categories?.push(null);
    goLeft.push(null);
    ranges.push({ begin, end });
    return { id: tree.feature.length - 1, depth, begin, end, g, h, hist: null, split: null, order: order++ };
  };
  const canSplit = (depth: number) =>
    params.growPolicy === 'depthwise' ? depth < params.maxDepth : params.maxDepth === 0 || depth < params.maxDepth;
  const findSplit = (node: Candidate) => {
    node.split = bestSplit(
      node.hist as Float64Array,
      node.g,
      node.h,
      input.bins,
      input.features,
      input.categorical,
      params,
    );
    if (node.split === null) pool.push(node.hist as Float64Array);
  };

  let g = 0;
  let h = 0;
  for (let i = 0; i < input.rowCount; i++) {
    const r = index[i] as number;
    g += gradHess[2 * r] as number;
    h += gradHess[2 * r + 1] as number;
  }
  const root = addNode(0, 0, input.rowCount, g, h);
  let open: Candidate[] = [];
  if (canSplit(0) && params.maxLeaves !== 1) {
    root.hist = takeHist();
    await workers.run(
      [{ begin: 0, end: input.rowCount, feature: -1, goLeft: null, build: 'all', hist: root.hist }],
      output,
    );
    findSplit(root);
    if (root.split) open.push(root);
  }
  let leafCount = 1;
  const leavesLeft = () => params.maxLeaves === 0 || leafCount < params.maxLeaves;
  while (open.length > 0 && leavesLeft()) {
    let batch: Candidate[];
    if (params.growPolicy === 'depthwise') {
      batch = open;
      open = [];
    } else {
      let best = 0;
      for (let i = 1; i < open.length; i++) {
        const a = open[i] as Candidate;
        const b = open[best] as Candidate;
        const ga = (a.split as Split).gain;
        const gb = (b.split as Split).gain;
        if (ga > gb || (ga === gb && a.order < b.order)) best = i;
      }
      batch = open.splice(best, 1);
    }
    const expanded = batch.slice(0, params.maxLeaves === 0 ? batch.length : params.maxLeaves - leafCount);
    for (const node of batch.slice(expanded.length)) pool.push(node.hist as Float64Array);
    // Children that will never be split need no histogram: too deep, or the leaf budget is spent.
    const budgetSpent = params.maxLeaves > 0 && leafCount + expanded.length >= params.maxLeaves;
    const tasks: NodeTask[] = expanded.map((node) => {
      const split = node.split as Split;
      const build =
        budgetSpent || !canSplit(node.depth + 1) ? 'none' : split.leftH <= node.h - split.leftH ? 'left' : 'right';
      return {
        begin: node.begin,
        end: node.end,
        feature: split.feature,
        goLeft: split.goLeft,
        build,
        hist: build === 'none' ? null : takeHist(),
      };
    });
    const mids = await workers.run(tasks, output);
    expanded.forEach((node, i) => {
      const split = node.split as Split;
      const task = tasks[i] as NodeTask;
      const mid = mids[i] as number;
      const left = addNode(node.depth + 1, node.begin, mid, split.leftG, split.leftH);
      const right = addNode(node.depth + 1, mid, node.end, node.g - split.leftG, node.h - split.leftH);
      leafCount++;
      recordSplit(tree, node.id, split, left.id, right.id, input.binner);
      goLeft[node.id] = split.goLeft;
      const hist = node.hist as Float64Array;
      if (task.hist === null) {
        pool.push(hist);
        return;
      }
      const [built, other] = task.build === 'left' ? [left, right] : [right, left];
      built.hist = task.hist;
      subtractHistogram(hist, task.hist, cols);
      other.hist = hist;
      for (const child of [left, right]) {
        findSplit(child);
        if (child.split) open.push(child);
      }
    });
    if (params.growPolicy === 'depthwise') open.sort((a, b) => a.order - b.order);
  }
  const leaves: GrownTree['leaves'] = [];
  tree.left.forEach((l, id) => {
    if (l === -1) leaves.push({ id, ...(ranges[id] as { begin: number; end: number }) });
  });
  return { tree, leaves, goLeft };
}

/** Turns leaf `id` into an inner node with the given split and children. */
function recordSplit(tree: GbdtTree, id: number, split: Split, left: number, right: number, binner: Binner): void {
  const f = split.feature;
  tree.feature[id] = f;
  tree.defaultLeft[id] = split.defaultLeft ? 1 : 0;
  tree.left[id] = left;
  tree.right[id] = right;
  tree.value[id] = 0;
  tree.gain[id] = split.gain;
  const groups = binner.categories?.[f];
  if (groups && tree.categories) {
    const codes: number[] = [];
    groups.forEach((group, b) => {
      if (split.goLeft[b] === 1) codes.push(...group);
    });
    tree.categories[id] = codes.sort((a, b) => a - b);
    return;
  }
  const cuts = binner.cuts[f] as Float64Array;
  tree.threshold[id] = split.bin < cuts.length ? (cuts[split.bin] as number) : Number.MAX_VALUE;
}

/**
 * Adds the tree's output for every row of a row-major binned matrix to `margin[r * stride + offset]`,
 * routing by bins: how boosting updates the margins of rows a subsampled tree did not see.
 *
 * @example
 * addBinnedPredictions(grown, codes, rows, cols, margin, 1, 0);
 */
export function addBinnedPredictions(
  grown: GrownTree,
  codes: Uint8Array,
  rows: number,
  cols: number,
  margin: Float64Array,
  stride: number,
  offset: number,
): void {
  const { feature, left, right, value } = grown.tree;
  const { goLeft } = grown;
  for (let r = 0; r < rows; r++) {
    let node = 0;
    while ((left[node] as number) !== -1) {
      const code = codes[r * cols + (feature[node] as number)] as number;
      node = (goLeft[node] as Uint8Array)[code] === 1 ? (left[node] as number) : (right[node] as number);
    }
    const k = r * stride + offset;
    margin[k] = (margin[k] as number) + (value[node] as number);
  }
}
