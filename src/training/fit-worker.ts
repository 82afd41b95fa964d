import { parentPort, workerData } from 'node:worker_threads';
import { KilnError } from '../core/index.js';
import { evaluateModel, trainModel } from '../learn/index.js';
import type { FitInput, FitMessage } from './fit-thread.js';

/**
 * Entry of the worker thread a training job fits in (see fit-thread.ts): trains on the frames it
 * was handed, reports every iteration and blocks on the shared `decision` cell until the parent
 * answers whether to go on, then posts the result. Runs under tsx (tests, `npm run dev`) and from dist.
 */
const input = workerData as FitInput;
const port = parentPort;
if (port === null) throw new Error('fit-worker must run in a worker thread');
const decision = new Int32Array(input.decision);

function post(message: FitMessage): void {
  (port as NonNullable<typeof port>).postMessage(message);
}

async function main(): Promise<void> {
  try {
    const result = await trainModel(input.train, input.spec, {
      ...(input.validation === undefined ? {} : { validation: input.validation }),
      columnTypes: input.columnTypes,
      onIteration(step, metrics) {
        Atomics.store(decision, 0, 0);
        post({ type: 'iteration', step, metrics });
        Atomics.wait(decision, 0, 0);
        return Atomics.load(decision, 0) === 2;
      },
    });
    const metrics = { ...result.metrics };
    if (input.evaluation !== undefined) {
      for (const [key, value] of Object.entries(evaluateModel(result.model, input.evaluation)))
        metrics[`eval_${key}`] = value;
    }
    post({ type: 'result', result: { ...result, metrics } });
  } catch (err) {
    const error =
      err instanceof KilnError
        ? { code: err.code, message: err.message, details: err.details }
        : { code: 'INTERNAL_ERROR' as const, message: err instanceof Error ? err.message : String(err) };
    post({ type: 'error', error });
  }
}

void main();
