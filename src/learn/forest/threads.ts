import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../core/index.js';
import type { GrownTree } from './tree.js';
import type { ForestWorkerData, ForestWorkerMessage } from './worker.js';

function startWorker(data: ForestWorkerData): Worker {
  return startModuleWorker(import.meta.url, 'worker', { workerData: data, stdout: false, stderr: false });
}

/**
 * Worker threads growing forest trees next to the main thread. Each claims tree indices from the
 * shared counter in `data.control`, so the trees spread over the threads however long each takes,
 * and reports every tree to `onTree`. {@link finished} settles when every worker has stopped;
 * {@link close} terminates them (safe to call more than once).
 *
 * @example
 * const workers = new ForestWorkers(1, (w) => ({ ...data, oob: oobs[w + 1] ?? null }), onTree);
 * await workers.finished;
 * await workers.close();
 */
export class ForestWorkers {
  readonly finished: Promise<void>;
  private readonly workers: Worker[] = [];

  constructor(
    count: number,
    dataFor: (worker: number) => ForestWorkerData,
    onTree: (index: number, tree: GrownTree) => void,
  ) {
    const ends: Promise<void>[] = [];
    for (let w = 0; w < count; w++) {
      const worker = startWorker(dataFor(w));
      this.workers.push(worker);
      ends.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (message: ForestWorkerMessage) => {
            if (message.type === 'tree') onTree(message.index, message.tree);
            else if (message.type === 'done') resolve();
            else reject(new Error(`forest worker failed: ${message.message}`));
          });
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`forest worker exited with code ${code} before finishing`)));
        }),
      );
    }
    this.finished = Promise.all(ends).then(() => undefined);
    // A failure is reported through `finished` by whoever awaits it; never as an unhandled rejection.
    this.finished.catch(() => undefined);
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    for (const worker of workers) worker.removeAllListeners('exit');
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
