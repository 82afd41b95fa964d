import { Worker } from 'node:worker_threads';
import type { Matrix } from '../matrix.js';
import {
  assembleBinner,
  type Binner,
  type BinnerOptions,
  binCategoricalColumns,
  binNumericRows,
  numericCuts,
  paddedCuts,
  planBinning,
} from './binning.js';
import { HIST_STRIDE, partitionRows } from './histogram.js';
import type { KernelMemory } from './memory.js';
import { updateMarginsAndGradients } from './objective.js';

/**
 * One node's share of a tree level: split its rows `index[begin … end)` by `goLeft[code of feature]`
 * (no split when `feature` is −1) and sum the gradients of the `build` side into `hist` (zeroed by
 * the caller, a histogram of {@link GbdtThreads.takeHistogram}): `left` or `right` child, `all` rows
 * (the root), or `none` (the children are leaves).
 */
export interface NodeTask {
  begin: number;
  end: number;
  feature: number;
  goLeft: Uint8Array | null;
  build: 'none' | 'left' | 'right' | 'all';
  hist: Float64Array | null;
}

/**
 * Memory the main thread and the workers share: written by the main thread, read by the workers.
 * `codes`, `gradHess` and `index` are views on `memory`, which the kernels read.
 */
export interface SharedTrainingData {
  memory: KernelMemory;
  /** Row-major bin codes, `rows × cols`: what histograms are summed from. */
  codes: Uint8Array;
  /** The same codes column-major (`byColumn[f * rows + r]`) on a SharedArrayBuffer: what rows are partitioned by. */
  byColumn: Uint8Array;
  rows: number;
  cols: number;
  /** Gradient and hessian per row and output: output k occupies `gradHess[k]`, interleaved (g, h). */
  gradHess: Float64Array[];
  /** Row indices, partitioned in place so that every tree node owns a contiguous range. */
  index: Int32Array;
  /** Margins, `rows × outputs` (row-major), on a SharedArrayBuffer. */
  margin: Float64Array;
  /** The labels as doubles, on a SharedArrayBuffer. */
  labels: Float64Array;
}

/** Levels with fewer rows than this run on the main thread alone: a message costs more. */
const PARALLEL_MIN_ROWS = 8192;

/**
 * The main thread takes this much of an even share of every node's rows: it also finds the splits,
 * joins the partitions and updates the margins while the workers only sum.
 */
const MAIN_THREAD_SHARE = 0.75;

export const TRACE = { main: 0, wait: 0, levels: 0 };
const BUILD_CODES = { none: 0, left: 1, right: 2, all: 3 } as const;

/** Doubles per histogram: `HIST_STRIDE` per feature. */
const pairsOf = (cols: number) => (cols * HIST_STRIDE) / 2;

/**
 * The worker's program: the source text of the JavaScript kernels ({@link partitionRows},
 * {@link numericCuts}, {@link updateMarginsAndGradients}) plus a message loop, evaluated as a
 * script; the histogram kernels come as a compiled WebAssembly module with the shared memory in the
 * `init` message. Shipping source text rather than a file path lets the same code run under tsx
 * (tests) and from the compiled dist/ without resolving a worker file in either, and starts in a few
 * milliseconds. Messages:
 * - `cuts`: claim numeric features from a shared counter and write their cut points;
 * - `bin`: claim chunks of rows from a shared counter and write their numeric features' codes;
 * - `init`: the training data (pointers into the kernels' memory and shared buffers);
 * - `run`: per node, the worker's chunk (begin, end), the split feature and which side to sum
 *   (`nodes`, 4 ints each), the split masks (`masks`, 256 bytes each) and where its partial histograms
 *   go (`out`, one after the other); the reply gives each chunk's left count;
 * - `update`: margins and gradients of the index positions [from, to) after a tree.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
${partitionRows.toString()}
${numericCuts.toString()}
${binNumericRows.toString()}
${updateMarginsAndGradients.toString()}
let kernels, codes, byColumn, rows, cols, gradHess, firstGradHess, indexAt, index, scratch, margin, labels, delta;
function cuts(message) {
  const { data, rows: n, cols: width, sample, features, counter, table, lengths, maxBins } = message;
  const values = new Float64Array(sample ? sample.length : n);
  for (let k = Atomics.add(counter, 0, 1); k < features.length; k = Atomics.add(counter, 0, 1)) {
    const found = numericCuts(data, n, width, features[k], sample, values, maxBins);
    table.set(found, k * maxBins);
    lengths[k] = found.length;
  }
}
function bin(message) {
  const { data, rows: n, cols: width, table, numeric, rowMajor, colMajor, counter, chunk } = message;
  for (let from = Atomics.add(counter, 0, chunk); from < n; from = Atomics.add(counter, 0, chunk)) {
    binNumericRows(data, n, width, table, numeric, rowMajor, colMajor, from, Math.min(n, from + chunk));
  }
}
function run(message) {
  const { nodes, masks, out } = message;
  const pairs = cols * ${HIST_STRIDE / 2};
  const gh = gradHess[message.output];
  const count = nodes.length / 4;
  const leftCounts = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    const begin = nodes[4 * t], end = nodes[4 * t + 1], feature = nodes[4 * t + 2], side = nodes[4 * t + 3];
    const mid = feature < 0 ? end
      : partitionRows(index, scratch, begin, end, byColumn.subarray(feature * rows, (feature + 1) * rows),
          masks.subarray(256 * t, 256 * t + 256));
    leftCounts[t] = mid - begin;
    if (side === 0) continue;
    const hist = out + t * pairs * 16;
    kernels.clear(hist, pairs);
    kernels.histogram(hist, codes, cols, gh, indexAt, side === 2 ? mid : begin, side === 1 ? mid : end);
  }
  return leftCounts;
}
parentPort.on('message', (message) => {
  try {
    if (message.type === 'init') {
      kernels = new WebAssembly.Instance(message.module, { env: { memory: message.memory } }).exports;
      codes = message.codes;
      byColumn = message.byColumn;
      rows = message.rows;
      cols = message.cols;
      gradHess = message.gradHess;
      indexAt = message.index;
      index = new Int32Array(message.memory.buffer, indexAt, rows);
      scratch = new Int32Array(rows);
      firstGradHess = new Float64Array(message.memory.buffer, gradHess[0], 2 * rows);
      margin = message.margin;
      labels = message.labels;
      delta = message.delta;
      return;
    }
    if (message.type === 'cuts') {
      cuts(message);
      parentPort.postMessage({ type: 'done' });
    } else if (message.type === 'bin') {
      bin(message);
      parentPort.postMessage({ type: 'done' });
    } else if (message.type === 'update') {
      const { logistic, leaves, from, to } = message;
      updateMarginsAndGradients(logistic, margin, labels, firstGradHess, index, leaves, delta, from, to);
      parentPort.postMessage({ type: 'done' });
    } else {
      parentPort.postMessage({ type: 'done', leftCounts: run(message) });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) });
  }
});
`;

interface Helper {
  worker: Worker;
  /** Byte offset of this worker's partial histograms, one per node, `outSlots` of them. */
  out: number;
  outSlots: number;
  pending: { resolve: (leftCounts: Int32Array | undefined) => void; reject: (error: Error) => void } | null;
  failure: Error | null;
}

/**
 * The threads one training run works on: the main thread plus `threads − 1` workers, started at once
 * so that they are up by the time there is work. They share the work of every stage that scales with
 * the data: the binning cuts ({@link fitBinner}), and for every tree level the partition of each
 * node's rows and the gradient histogram of its lighter child ({@link run}, with the WebAssembly
 * histogram kernel), and the margin and gradient update after a tree ({@link updateMargins}). Every
 * node's row range is cut into one chunk per thread; each thread partitions its chunk and, while those
 * rows are in cache, sums the requested child's gradients; the main thread then joins the chunks (all
 * left rows, then all right rows) and folds the workers' partial histograms into the node's. The data
 * lives in shared memory, so a stage costs one small message per worker. Histograms come from
 * {@link takeHistogram} and go back with {@link releaseHistogram}. Call {@link close} when done (the
 * workers keep the process alive until then).
 *
 * @example
 * const threads = new GbdtThreads(2);
 * const binner = await threads.fitBinner(X, 255, {});
 * threads.attach(shared);
 * const hist = threads.takeHistogram();
 * const [mid] = await threads.run([{ begin: 0, end: rows, feature: -1, goLeft: null, build: 'all', hist }], 0);
 * await threads.close();
 */
export class GbdtThreads {
  private readonly helpers: Helper[] = [];
  private readonly pool: Float64Array[] = [];
  private data: SharedTrainingData | null = null;
  private scratch = new Int32Array(0);
  /** Each row's leaf value during {@link updateMargins}. */
  private delta: Float64Array = new Float64Array(0);

  constructor(threads: number) {
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], stdout: false, stderr: false });
      const helper: Helper = { worker, out: 0, outSlots: 0, pending: null, failure: null };
      const fail = (error: Error) => {
        helper.failure ??= error;
        helper.pending?.reject(helper.failure);
        helper.pending = null;
      };
      worker.on('message', (message: { type: string; message?: string; leftCounts?: Int32Array }) => {
        if (message.type === 'done') {
          helper.pending?.resolve(message.leftCounts);
          helper.pending = null;
        } else fail(new Error(`gbdt worker failed: ${message.message}`));
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`gbdt worker exited with code ${code}`)));
      this.helpers.push(helper);
    }
  }

  private get shared(): SharedTrainingData {
    if (this.data === null) throw new Error('GbdtThreads: attach() the training data first');
    return this.data;
  }

  /**
   * Bins X as `fitBinner(X, maxBins, options)` and `binMatrixByRows` would, into `rowMajor` and
   * `colMajor` (`rows × cols` each, on shared memory), on every thread: X is copied to shared memory
   * once; the numeric features' cuts are computed by whichever thread claims the feature next from a
   * shared counter, then the rows are binned in claimed chunks (so a worker still starting simply takes
   * fewer); the categorical features, few and needing the category maps, are binned on the main thread.
   */
  async bin(
    X: Matrix,
    maxBins: number,
    options: BinnerOptions,
    rowMajor: Uint8Array,
    colMajor: Uint8Array,
  ): Promise<Binner> {
    const plan = planBinning(X, maxBins, options);
    const { numeric, sample } = plan;
    const { rows, cols } = X;
    const parallel = this.helpers.length > 0 && rows * cols >= PARALLEL_MIN_ROWS;
    let data = X.data.subarray(0, rows * cols) as Float64Array;
    if (parallel && !(data.buffer instanceof SharedArrayBuffer)) {
      data = new Float64Array(new SharedArrayBuffer(Math.max(1, rows * cols) * 8)).subarray(0, rows * cols);
      data.set(X.data.subarray(0, rows * cols));
    }
    const counter = () => new Int32Array(new SharedArrayBuffer(4));
    const cutJob = {
      type: 'cuts',
      data,
      rows,
      cols,
      sample,
      features: Int32Array.from(numeric),
      counter: counter(),
      table: new Float64Array(new SharedArrayBuffer(Math.max(1, numeric.length * maxBins) * 8)),
      lengths: new Int32Array(new SharedArrayBuffer(Math.max(1, numeric.length) * 4)),
      maxBins,
    };
    const cutReplies = parallel && numeric.length > 1 ? this.helpers.map((helper) => this.send(helper, cutJob)) : [];
    const values = new Float64Array(sample ? sample.length : rows);
    const { features, table, lengths } = cutJob;
    for (let k = Atomics.add(cutJob.counter, 0, 1); k < features.length; k = Atomics.add(cutJob.counter, 0, 1)) {
      const found = numericCuts(data, rows, cols, features[k] as number, sample, values, maxBins);
      table.set(found, k * maxBins);
      lengths[k] = found.length;
    }
    await Promise.all(cutReplies);
    const binner = assembleBinner(
      X,
      plan,
      numeric.map((_, k) => table.slice(k * maxBins, k * maxBins + (lengths[k] as number))),
    );
    const binJob = {
      type: 'bin',
      data,
      rows,
      cols,
      table: paddedCuts(binner),
      numeric: Uint8Array.from({ length: cols }, (_, f) => (plan.categorical[f] === 1 ? 0 : 1)),
      rowMajor,
      colMajor,
      counter: counter(),
      chunk: 8192,
    };
    const binReplies = parallel ? this.helpers.map((helper) => this.send(helper, binJob)) : [];
    binCategoricalColumns(binner, X, rowMajor, colMajor);
    const { chunk } = binJob;
    for (let from = Atomics.add(binJob.counter, 0, chunk); from < rows; from = Atomics.add(binJob.counter, 0, chunk)) {
      binNumericRows(
        data,
        rows,
        cols,
        binJob.table,
        binJob.numeric,
        rowMajor,
        colMajor,
        from,
        Math.min(rows, from + chunk),
      );
    }
    await Promise.all(binReplies);
    return binner;
  }

  /** Hands the binned training data to every thread; needed before {@link run} and {@link updateMargins}. */
  attach(shared: SharedTrainingData): void {
    this.data = shared;
    this.scratch = new Int32Array(shared.index.length);
    this.delta = new Float64Array(new SharedArrayBuffer(Math.max(1, shared.rows) * 8));
    const { memory } = shared;
    for (const helper of this.helpers) {
      helper.worker.postMessage({
        type: 'init',
        module: memory.module,
        memory: memory.memory,
        codes: shared.codes.byteOffset,
        byColumn: shared.byColumn,
        rows: shared.rows,
        cols: shared.cols,
        gradHess: shared.gradHess.map((gh) => gh.byteOffset),
        index: shared.index.byteOffset,
        margin: shared.margin,
        labels: shared.labels,
        delta: this.delta,
      });
    }
  }

  /** A zeroed histogram (`cols × HIST_STRIDE` doubles) on the kernels' memory, recycled when possible. */
  takeHistogram(): Float64Array {
    const hist = this.pool.pop();
    if (hist === undefined) return this.shared.memory.float64(this.shared.cols * HIST_STRIDE);
    this.shared.memory.kernels.clear(hist.byteOffset, pairsOf(this.shared.cols));
    return hist;
  }

  /** Gives a histogram of {@link takeHistogram} back for reuse. */
  releaseHistogram(hist: Float64Array): void {
    this.pool.push(hist);
  }

  /** `parent −= child`: the subtraction trick, turning the parent's histogram into the sibling's. */
  subtractHistogram(parent: Float64Array, child: Float64Array): void {
    this.shared.memory.kernels.subtract(parent.byteOffset, child.byteOffset, pairsOf(this.shared.cols));
  }

  /**
   * After a single-output tree that saw every row: adds each leaf's value to its rows' margins and
   * computes the next gradients (`updateMarginsAndGradients`), the rows split evenly between the
   * threads. `leaves` holds (begin, end, value) triples.
   */
  async updateMargins(logistic: boolean, leaves: Float64Array): Promise<void> {
    const { margin, labels, index, rows } = this.shared;
    const gradHess = this.shared.gradHess[0] as Float64Array;
    const parts = rows < PARALLEL_MIN_ROWS ? 1 : this.helpers.length + 1;
    const bound = (part: number) => Math.floor((rows * part) / parts);
    const replies = this.helpers
      .slice(0, parts - 1)
      .map((helper, w) =>
        this.send(helper, { type: 'update', logistic, leaves, from: bound(w + 1), to: bound(w + 2) }),
      );
    updateMarginsAndGradients(logistic, margin, labels, gradHess, index, leaves, this.delta, 0, bound(1));
    await Promise.all(replies);
  }

  /**
   * Runs the tasks with the gradients of `output`; returns each node's boundary (its left child is
   * `index[begin … mid)`, its right child `index[mid … end)`).
   */
  async run(tasks: readonly NodeTask[], output: number): Promise<Int32Array> {
    const tStart = performance.now();
    let rows = 0;
    for (const t of tasks) rows += t.end - t.begin;
    const threads = rows < PARALLEL_MIN_ROWS ? 1 : this.helpers.length + 1;
    const mainShare = threads === 1 ? 1 : MAIN_THREAD_SHARE / threads;
    // Chunk 0 (the main thread's) holds mainShare of the rows, the workers' chunks split the rest evenly.
    const chunkStart = (t: NodeTask, part: number) => {
      if (part === 0) return t.begin;
      if (part >= threads) return t.end;
      return t.begin + Math.floor((t.end - t.begin) * (mainShare + ((1 - mainShare) * (part - 1)) / (threads - 1)));
    };
    const { cols, memory } = this.shared;
    const pairs = pairsOf(cols);
    const replies = this.helpers.slice(0, threads - 1).map((helper, w) => {
      const nodes = new Int32Array(4 * tasks.length);
      const masks = new Uint8Array(256 * tasks.length);
      tasks.forEach((t, i) => {
        nodes.set([chunkStart(t, w + 1), chunkStart(t, w + 2), t.feature, BUILD_CODES[t.build]], 4 * i);
        if (t.goLeft) masks.set(t.goLeft, 256 * i);
      });
      if (helper.outSlots < tasks.length) {
        // Doubling bounds what the abandoned smaller blocks cost to the size of the last one.
        helper.outSlots = Math.max(tasks.length, 2 * helper.outSlots);
        helper.out = memory.allocate(helper.outSlots * pairs * 16);
      }
      return this.send(helper, { type: 'run', output, nodes, masks, out: helper.out }, [nodes.buffer, masks.buffer]);
    });
    const { byColumn, rows: n, index } = this.shared;
    const { kernels } = memory;
    const codes = this.shared.codes.byteOffset;
    const gradHess = (this.shared.gradHess[output] as Float64Array).byteOffset;
    const mainLeft = tasks.map((t) => {
      const end = chunkStart(t, 1);
      const column = t.goLeft === null ? null : byColumn.subarray(t.feature * n, (t.feature + 1) * n);
      const mid =
        column === null ? end : partitionRows(index, this.scratch, t.begin, end, column, t.goLeft as Uint8Array);
      if (t.hist && t.build !== 'none') {
        kernels.histogram(
          t.hist.byteOffset,
          codes,
          cols,
          gradHess,
          index.byteOffset,
          t.build === 'right' ? mid : t.begin,
          t.build === 'left' ? mid : end,
        );
      }
      return mid - t.begin;
    });
    const tMain = performance.now();
    const helperLeft = (await Promise.all(replies)) as Int32Array[];
    const tWait = performance.now();
    TRACE.main += tMain - tStart; TRACE.wait += tWait - tMain; TRACE.levels++;
    const mids = new Int32Array(tasks.length);
    tasks.forEach((t, i) => {
      const leftCounts = [mainLeft[i] as number, ...helperLeft.map((counts) => counts[i] as number)];
      mids[i] = threads === 1 ? t.begin + (leftCounts[0] as number) : this.join(t, leftCounts, chunkStart);
      if (t.hist && t.build !== 'none') {
        for (let w = 0; w < threads - 1; w++) {
          kernels.add(t.hist.byteOffset, (this.helpers[w] as Helper).out + i * pairs * 16, pairs);
        }
      }
    });
    return mids;
  }

  /** Rearranges a node's chunks, each "left rows then right rows", into all left rows then all right rows. */
  private join(t: NodeTask, leftCounts: number[], chunkStart: (t: NodeTask, part: number) => number): number {
    if (t.goLeft === null) return t.end;
    const { index } = this.shared;
    const scratch = this.scratch;
    if (leftCounts.length === 2) {
      // [L0 R0 | L1 R1] → [L0 L1 R0 R1]: swap the adjacent blocks R0 and L1, moving the smaller through scratch.
      const r0 = t.begin + (leftCounts[0] as number);
      const l1 = chunkStart(t, 1);
      const l1End = l1 + (leftCounts[1] as number);
      const a = l1 - r0;
      const b = l1End - l1;
      if (a <= b) {
        scratch.set(index.subarray(r0, l1));
        index.copyWithin(r0, l1, l1End);
        index.set(scratch.subarray(0, a), r0 + b);
      } else {
        scratch.set(index.subarray(l1, l1End));
        index.copyWithin(r0 + b, r0, l1);
        index.set(scratch.subarray(0, b), r0);
      }
      return r0 + b;
    }
    let w = 0;
    for (let part = 0; part < leftCounts.length; part++) {
      const start = chunkStart(t, part);
      scratch.set(index.subarray(start, start + (leftCounts[part] as number)), w);
      w += leftCounts[part] as number;
    }
    const mid = t.begin + w;
    for (let part = 0; part < leftCounts.length; part++) {
      const start = chunkStart(t, part) + (leftCounts[part] as number);
      const end = chunkStart(t, part + 1);
      scratch.set(index.subarray(start, end), w);
      w += end - start;
    }
    index.set(scratch.subarray(0, w), t.begin);
    return mid;
  }

  private send(helper: Helper, message: object, transfer: ArrayBufferLike[] = []): Promise<Int32Array | undefined> {
    if (helper.failure) return Promise.reject(helper.failure);
    const finished = new Promise<Int32Array | undefined>((resolve, reject) => {
      helper.pending = { resolve, reject };
      helper.worker.postMessage(message, transfer as ArrayBuffer[]);
    });
    // A stage abandoned because the main thread's own part threw must not surface as an unhandled rejection.
    finished.catch(() => undefined);
    return finished;
  }

  /** Stops the workers; safe to call more than once and after a failure. */
  async close(): Promise<void> {
    const helpers = this.helpers.splice(0);
    for (const helper of helpers) {
      helper.worker.removeAllListeners('exit');
      helper.pending = null;
    }
    await Promise.all(helpers.map((helper) => helper.worker.terminate()));
  }
}
