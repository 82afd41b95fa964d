import type { ModelSignature, SignatureType, Task } from '../../learn/index.js';
import type { ServingInput } from '../types.js';

/**
 * The frame column kind a request value of signature type `type` is built as when the model does
 * not say otherwise: numbers → float, dates → datetime, the rest (text, booleans) → categorical.
 *
 * @example
 * frameKindOf('boolean'); // 'categorical'
 */
export function frameKindOf(type: SignatureType): ServingInput['kind'] {
  if (type === 'float' || type === 'integer') return 'float';
  if (type === 'datetime') return 'datetime';
  return 'categorical';
}

/**
 * A signature in the shape Kiln's training writes (`prediction`, then `probability(<class>)` per
 * class), for flavours whose file carries none (XGBoost, generic ONNX), so every predictor reports
 * the same kind of metadata.
 *
 * @example
 * signatureFor(inputs, 'binary', ['0', '1']).outputs; // prediction, probability(0), probability(1)
 */
export function signatureFor(
  inputs: readonly ServingInput[],
  task: Task,
  classes: readonly string[] | undefined,
): ModelSignature {
  const outputs: ModelSignature['outputs'] = [{ name: 'prediction', type: task === 'regression' ? 'float' : 'string' }];
  for (const label of classes ?? []) outputs.push({ name: `probability(${label})`, type: 'float' });
  return {
    inputs: inputs.map((i) => ({ name: i.name, type: i.type, nullable: i.nullable })),
    outputs,
  };
}

/**
 * The most probable class per row of a rows × k probability array, the first on ties (as
 * `predictModel` does), so flavours that only give probabilities label rows the same way.
 *
 * @example
 * argmaxLabels(Float64Array.of(0.2, 0.8), 2, ['no', 'yes']); // ['yes']
 */
export function argmaxLabels(probabilities: Float64Array, k: number, classes: readonly string[]): string[] {
  const rows = k === 0 ? 0 : probabilities.length / k;
  const labels = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) {
      if ((probabilities[r * k + c] as number) > (probabilities[r * k + best] as number)) best = c;
    }
    labels[r] = classes[best] as string;
  }
  return labels;
}

/** 'binary' for two classes, 'multiclass' for more. */
export function classifierTask(classes: number): Task {
  return classes === 2 ? 'binary' : 'multiclass';
}

/** Class labels `'0'…'k-1'`, for models that store only class indices. */
export function indexClasses(k: number): string[] {
  return Array.from({ length: k }, (_, i) => String(i));
}
