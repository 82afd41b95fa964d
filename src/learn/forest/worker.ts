/**
 * Entry point of a forest worker thread: grows the trees it claims from the shared counter until
 * none are left or the stop flag is set, posting each tree (its buffers transferred) to the main
 * thread. Started by `ForestWorkers` with a {@link ForestWorkerData} as `workerData`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BaggedTreeMaker, type ForestJob, type OobAccumulator } from './bagging.js';
import type { GrownTree } from './tree.js';

/** What the main thread hands a worker; every array lives on shared memory. */
export interface ForestWorkerData {
  job: ForestJob;
  oob: OobAccumulator | null;
  /** `[next tree to claim, stop flag]`. */
  control: Int32Array;
  total: number;
}

/** A worker's messages: a grown tree, the end of its work, or a failure. */
export type ForestWorkerMessage =
  | { type: 'tree'; index: number; tree: GrownTree }
  | { type: 'done' }
  | { type: 'error'; message: string };

const port = parentPort;
if (port) {
  const { job, oob, control, total } = workerData as ForestWorkerData;
  try {
    const maker = new BaggedTreeMaker(job, oob);
    for (;;) {
      if (Atomics.load(control, 1) === 1) break;
      const index = Atomics.add(control, 0, 1);
      if (index >= total) break;
      const tree = maker.grow(index);
      const message: ForestWorkerMessage = { type: 'tree', index, tree };
      // Fresh buffers of the grower (never shared memory), moved rather than copied.
      const buffers = [
        tree.feature.buffer,
        tree.threshold.buffer,
        tree.defaultLeft.buffer,
        tree.left.buffer,
        tree.right.buffer,
        tree.value.buffer,
        tree.samples.buffer,
        tree.weight.buffer,
        tree.importance.buffer,
      ] as ArrayBuffer[];
      port.postMessage(message, buffers);
    }
    port.postMessage({ type: 'done' } satisfies ForestWorkerMessage);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    port.postMessage({ type: 'error', message } satisfies ForestWorkerMessage);
  }
}
