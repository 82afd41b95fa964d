import type { Worker } from 'node:worker_threads';
import { type ErrorCode, KilnError, startModuleWorker } from '../core/index.js';
import type { Frame, IterationHook, SignatureType, TrainResult, TrainSpec } from '../learn/index.js';

/** What the fit worker thread is started with. */
export interface FitInput {
  train: Frame;
  validation?: Frame;
  /** Scored once at the end, as `eval_*` metrics. */
  evaluation?: Frame;
  spec: TrainSpec;
  /** Signature types of the columns, from the dataset schema (finer than the frame's kinds). */
  columnTypes: Record<string, SignatureType>;
  /** One Int32 cell: 0 while the parent decides, 1 = go on, 2 = stop. */
  decision: SharedArrayBuffer;
}

/** Messages from the fit worker thread. */
export type FitMessage =
  | { type: 'iteration'; step: number; metrics: Record<string, number> }
  | { type: 'result'; result: TrainResult }
  | { type: 'error'; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

function startWorker(options: { workerData: unknown; transferList: ArrayBuffer[] }): Worker {
  return startModuleWorker(import.meta.url, 'fit-worker', options);
}

function buffersOf(frames: readonly (Frame | undefined)[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const frame of frames) {
    for (const col of frame?.columns ?? []) {
      const array = col.kind === 'categorical' ? col.codes : col.values;
      if (array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
    }
  }
  return [...buffers];
}

/**
 * Trains in a worker thread, so the process's event loop (the HTTP server, the queue's lease
 * heartbeats) stays responsive however long the fit takes. The frames' buffers are transferred, not
 * copied: the caller must not use them afterwards. `onIteration` runs on this thread and its answer
 * (true = stop) reaches the worker before its next iteration; aborting `signal` terminates the
 * worker and rejects with CANCELLED.
 *
 * @example
 * const result = await fitInThread({ train, spec, columnTypes: {} }, { onIteration: (step) => step >= 50 });
 */
export function fitInThread(
  input: Omit<FitInput, 'decision'>,
  hooks: { onIteration?: IterationHook; signal?: AbortSignal } = {},
): Promise<TrainResult> {
  const decision = new SharedArrayBuffer(4);
  const cell = new Int32Array(decision);
  return new Promise<TrainResult>((resolve, reject) => {
    if (hooks.signal?.aborted === true) {
      reject(new KilnError('CANCELLED', 'training was cancelled before it started'));
      return;
    }
    const worker = startWorker({
      workerData: { ...input, decision },
      transferList: buffersOf([input.train, input.validation, input.evaluation]),
    });
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      outcome();
      void worker.terminate();
    };
    const onAbort = (): void =>
      finish(() =>
        reject(new KilnError('CANCELLED', 'training was cancelled', { reason: String(hooks.signal?.reason) })),
      );
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: FitMessage) => {
      if (message.type === 'iteration') {
        let stop = false;
        try {
          stop = hooks.onIteration?.(message.step, message.metrics) === true;
        } catch (err) {
          finish(() => reject(err));
          return;
        }
        Atomics.store(cell, 0, stop ? 2 : 1);
        Atomics.notify(cell, 0);
      } else if (message.type === 'result') {
        finish(() => resolve(message.result));
      } else {
        finish(() => reject(new KilnError(message.error.code, message.error.message, message.error.details)));
      }
    });
    worker.on('error', (err) =>
      finish(() => reject(new KilnError('INTERNAL_ERROR', `training thread failed: ${err.message}`))),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new KilnError('INTERNAL_ERROR', `training thread exited with code ${code}`))),
    );
  });
}
