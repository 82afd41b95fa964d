import { Worker } from 'node:worker_threads';
import { addHistogram, addRowsToHistogram, HIST_STRIDE, partitionRows } from './histogram.js';

/**
 * One node's share of a tree level: split its rows `index[begin … end)` by `goLeft[code of feature]`
 * (no split when `feature` is −1) and sum the gradients of the `build` side into `hist` (zeroed by
 * the caller): `left` or `right` child, `all` rows (the root), or `none` (the children are leaves).
 */
export interface NodeTask {
  begin: number;
  end: number;
  feature: number;
  goLeft: Uint8Array | null;
  build: 'none' | 'left' | 'right' | 'all';
  hist: Float64Array | null;
}

/** Memory the main thread and the workers share: written by the main thread, read by the workers. */
export interface SharedTrainingData {
  /** Row-major bin codes, `rows × cols`: what histograms are summed from. */
  codes: Uint8Array;
  /** The same codes column-major (`byColumn[f * rows + r]`): what rows are partitioned by. */
  byColumn: Uint8Array;
  rows: number;
  cols: number;
  /** Gradient and hessian per row and output: output k occupies `gradHess[k]`, interleaved (g, h). */
  gradHess: Float64Array[];
  /** Row indices, partitioned in place so that every tree node owns a contiguous range. */
  index: Int32Array;
}

/** Levels with fewer rows than this run on the main thread alone: a message costs more. */
const PARALLEL_MIN_ROWS = 8192;

/**
 * The main thread takes this much of an even share of every node's rows: it also finds the splits,
 * joins the partitions and updates the margins while the workers only sum.
 */
const MAIN_THREAD_SHARE = 0.75;

const BUILD_CODES = { none: 0, left: 1, right: 2, all: 3 } as const;

/**
 * The worker's program: the kernels' own source text plus a message loop, evaluated as a script.
 * Shipping source text rather than a file path lets the same code run under tsx (tests) and from the
 * compiled dist/ without resolving a worker file in either. A `run` message lists, per node, the
 * worker's chunk (begin, end), the split feature and which side to sum (`nodes`, 4 ints each) and
 * the split masks (`masks`, 256 bytes each); the reply gives each chunk's left count.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
${addRowsToHistogram.toString()}
${partitionRows.toString()}
let codes, byColumn, rows, cols, gradHess, index, scratch, out;
parentPort.on('message', (message) => {
  try {
    if (message.type === 'init') {
      codes = new Uint8Array(message.codes);
      byColumn = new Uint8Array(message.byColumn);
      rows = message.rows;
      cols = message.cols;
      gradHess = message.gradHess;
      index = new Int32Array(message.index);
      scratch = new Int32Array(index.length);
      return;
    }
    if (message.out) out = new Float64Array(message.out);
    const { nodes, masks } = message;
    const size = cols * ${HIST_STRIDE};
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
      const hist = out.subarray(t * size, (t + 1) * size);
      hist.fill(0);
      addRowsToHistogram(hist, codes, cols, gh, index, side === 2 ? mid : begin, side === 1 ? mid : end);
    }
    parentPort.postMessage({ type: 'done', leftCounts });
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) });
  }
});
`;

interface Helper {
  worker: Worker;
  /** This worker's partial histograms, one slot of `cols × HIST_STRIDE` doubles per node. */
  out: Float64Array;
  /** Set when `out` was reallocated and the worker has not received it yet. */
  outChanged: boolean;
  pending: { resolve: (leftCounts: Int32Array) => void; reject: (error: Error) => void } | null;
  failure: Error | null;
}

/**
 * Splits tree nodes and builds their gradient histograms on the main thread plus `threads − 1`
 * worker threads. Every node's row range is cut into one chunk per thread; each thread partitions its
 * chunk and, while those rows are in cache, sums the requested child's gradients; the main thread
 * then joins the chunks (all left rows, then all right rows) and folds the workers' partial
 * histograms into the node's. The data lives in SharedArrayBuffers, so a whole tree level costs one
 * small message per worker. Call {@link close} when done (the workers keep the process alive until then).
 *
 * @example
 * const workers = new NodeWorkers(shared, 2);
 * const [mid] = await workers.run([{ begin: 0, end: rows, feature: -1, goLeft: null, build: 'all', hist }], 0);
 * await workers.close();
 */
export class NodeWorkers {
  private readonly helpers: Helper[] = [];
  private readonly scratch: Int32Array;

  constructor(
    private readonly shared: SharedTrainingData,
    threads: number,
  ) {
    this.scratch = new Int32Array(shared.index.length);
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], stdout: false, stderr: false });
      const helper: Helper = { worker, out: new Float64Array(0), outChanged: false, pending: null, failure: null };
      const fail = (error: Error) => {
        helper.failure ??= error;
        helper.pending?.reject(helper.failure);
        helper.pending = null;
      };
      worker.on('message', (message: { type: string; message?: string; leftCounts?: Int32Array }) => {
        if (message.type === 'done') {
          helper.pending?.resolve(message.leftCounts as Int32Array);
          helper.pending = null;
        } else fail(new Error(`gbdt worker failed: ${message.message}`));
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`gbdt worker exited with code ${code}`)));
      worker.postMessage({
        type: 'init',
        codes: shared.codes.buffer,
        byColumn: shared.byColumn.buffer,
        rows: shared.rows,
        cols: shared.cols,
        gradHess: shared.gradHess,
        index: shared.index.buffer,
      });
      this.helpers.push(helper);
    }
  }

  /**
   * Runs the tasks with the gradients of `output`; returns each node's boundary (its left child is
   * `index[begin … mid)`, its right child `index[mid … end)`).
   */
  async run(tasks: readonly NodeTask[], output: number): Promise<Int32Array> {
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
    const replies = this.helpers.slice(0, threads - 1).map((helper, w) => {
      const nodes = new Int32Array(4 * tasks.length);
      const masks = new Uint8Array(256 * tasks.length);
      tasks.forEach((t, i) => {
        nodes.set([chunkStart(t, w + 1), chunkStart(t, w + 2), t.feature, BUILD_CODES[t.build]], 4 * i);
        if (t.goLeft) masks.set(t.goLeft, 256 * i);
      });
      return this.send(helper, nodes, masks, output);
    });
    const { codes, byColumn, rows: n, cols, index } = this.shared;
    const gradHess = this.shared.gradHess[output] as Float64Array;
    const mainLeft = tasks.map((t) => {
      const end = chunkStart(t, 1);
      const column = t.goLeft === null ? null : byColumn.subarray(t.feature * n, (t.feature + 1) * n);
      const mid =
        column === null ? end : partitionRows(index, this.scratch, t.begin, end, column, t.goLeft as Uint8Array);
      if (t.hist && t.build !== 'none') {
        addRowsToHistogram(
          t.hist,
          codes,
          cols,
          gradHess,
          index,
          t.build === 'right' ? mid : t.begin,
          t.build === 'left' ? mid : end,
        );
      }
      return mid - t.begin;
    });
    const helperLeft = await Promise.all(replies);
    const size = cols * HIST_STRIDE;
    const mids = new Int32Array(tasks.length);
    tasks.forEach((t, i) => {
      const leftCounts = [mainLeft[i] as number, ...helperLeft.map((counts) => counts[i] as number)];
      mids[i] = threads === 1 ? t.begin + (leftCounts[0] as number) : this.join(t, leftCounts, chunkStart);
      if (t.hist && t.build !== 'none') {
        for (let w = 0; w < threads - 1; w++) {
          addHistogram(t.hist, (this.helpers[w] as Helper).out.subarray(i * size, (i + 1) * size), cols);
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

  private send(helper: Helper, nodes: Int32Array, masks: Uint8Array, output: number): Promise<Int32Array> {
    if (helper.failure) return Promise.reject(helper.failure);
    const needed = (nodes.length / 4) * this.shared.cols * HIST_STRIDE;
    if (helper.out.length < needed) {
      helper.out = new Float64Array(new SharedArrayBuffer(needed * 8));
      helper.outChanged = true;
    }
    const finished = new Promise<Int32Array>((resolve, reject) => {
      helper.pending = { resolve, reject };
      helper.worker.postMessage(
        { type: 'run', output, nodes, masks, ...(helper.outChanged ? { out: helper.out.buffer } : {}) },
        [nodes.buffer as ArrayBuffer, masks.buffer as ArrayBuffer],
      );
      helper.outChanged = false;
    });
    // A level abandoned because the main thread's own part threw must not surface as an unhandled rejection.
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
