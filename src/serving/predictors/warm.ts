import type { Column, Frame } from '../../learn/index.js';
import type { Predictor, ServingInput } from '../types.js';

/** One row for `input`: missing where the model accepts it, else 0 or an (unseen) category. */
function syntheticColumn(input: ServingInput): Column {
  if (input.kind === 'categorical') {
    return input.nullable
      ? { kind: 'categorical', name: input.name, codes: Int32Array.of(-1), dictionary: [] }
      : { kind: 'categorical', name: input.name, codes: Int32Array.of(0), dictionary: ['0'] };
  }
  return { kind: input.kind, name: input.name, values: Float64Array.of(input.nullable ? Number.NaN : 0) };
}

/**
 * Runs one synthetic row through `p.predict` — missing values where the model accepts them, zeros
 * and a placeholder category elsewhere — so that lazy work (onnxruntime's first-run allocations,
 * JIT warm-up of the tree walkers) happens before the model takes traffic and the first real
 * request is not the slow one. A model that cannot answer even this throws here, before it goes
 * live.
 *
 * @example
 * const predictor = await predictorFromFiles(files);
 * await warmPredictor(predictor); // then mark the endpoint ready
 */
export async function warmPredictor(p: Predictor): Promise<void> {
  const frame: Frame = { rows: 1, columns: p.inputs.map(syntheticColumn) };
  await p.predict(frame);
}
