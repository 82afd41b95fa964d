import { createRng } from '../random.js';
import { balancedWeights, type TreeParams } from './options.js';
import { type ForestData, type GrownTree, TreeGrower } from './tree.js';

/** What a thread needs to grow any tree of the forest; all arrays may live on shared memory. */
export interface ForestJob {
  data: ForestData;
  params: TreeParams;
  bootstrap: boolean;
  /** Rows drawn per bootstrap sample. */
  bootstrapRows: number;
  /** Weight per class (all 1 without class weights), or null for `balanced_subsample`. */
  classWeights: Float64Array | null;
  /** Tree t is grown from the generator seeded with `treeSeeds[t]`, whichever thread grows it. */
  treeSeeds: Uint32Array;
}

/** Out-of-bag sums of one thread: per row the summed tree outputs and how many trees left it out. */
export interface OobAccumulator {
  /** `rows × outputs`. */
  sum: Float64Array;
  count: Int32Array;
}

/**
 * Grows the trees of a forest one at a time on one thread, reusing its buffers: the bootstrap draw
 * (sklearn's: `bootstrapRows` row indices drawn uniformly with replacement, counted per row), the
 * row weights (draw count × class weight), the tree, and the tree's votes for its out-of-bag rows.
 *
 * @example
 * const maker = new BaggedTreeMaker(job, oob);
 * const tree = maker.grow(0); // tree 0, identical on every thread
 */
export class BaggedTreeMaker {
  private readonly grower: TreeGrower;
  private readonly counts: Int32Array;
  private readonly weight: Float64Array;

  constructor(
    private readonly job: ForestJob,
    private readonly oob: OobAccumulator | null,
  ) {
    this.grower = new TreeGrower(job.data, job.params);
    this.counts = new Int32Array(job.data.rows);
    this.weight = new Float64Array(job.data.rows);
  }

  /** Grows tree `t` and adds its out-of-bag outputs to the accumulator. */
  grow(t: number): GrownTree {
    const { data, bootstrap, bootstrapRows } = this.job;
    const { rows, y, classes } = data;
    const { counts, weight } = this;
    const rng = createRng(this.job.treeSeeds[t] as number);
    if (bootstrap) {
      counts.fill(0);
      for (let i = 0; i < bootstrapRows; i++) {
        const r = Math.floor(rng() * rows);
        counts[r] = (counts[r] as number) + 1;
      }
    } else {
      counts.fill(1);
    }
    const classWeights = classes === 0 ? null : (this.job.classWeights ?? balancedWeights(y, counts, classes));
    let used = 0;
    for (let r = 0; r < rows; r++) {
      const w = (counts[r] as number) * (classWeights ? (classWeights[y[r] as number] as number) : 1);
      weight[r] = w;
      if (w > 0) used++;
    }
    const index = new Int32Array(used);
    used = 0;
    for (let r = 0; r < rows; r++) if ((weight[r] as number) > 0) index[used++] = r;
    const tree = this.grower.grow(index, weight, rng);
    if (this.oob) this.addOutOfBag(tree, this.oob);
    return tree;
  }

  /** Adds the tree's output for every row it was not grown on (draw count 0) to `oob`. */
  private addOutOfBag(tree: GrownTree, oob: OobAccumulator): void {
    const { rows, cols, x, classes } = this.data;
    const outputs = Math.max(classes, 1);
    const { feature, threshold, defaultLeft, left, right, value } = tree;
    for (let r = 0; r < rows; r++) {
      if (this.counts[r] !== 0) continue;
      let node = 0;
      while ((left[node] as number) !== -1) {
        const v = x[r * cols + (feature[node] as number)] as number;
        const goLeft = Number.isNaN(v) ? defaultLeft[node] === 1 : v <= (threshold[node] as number);
        node = goLeft ? (left[node] as number) : (right[node] as number);
      }
      for (let j = 0; j < outputs; j++) {
        const o = r * outputs + j;
        oob.sum[o] = (oob.sum[o] as number) + (value[node * outputs + j] as number);
      }
      oob.count[r] = (oob.count[r] as number) + 1;
    }
  }

  private get data(): ForestData {
    return this.job.data;
  }
}
