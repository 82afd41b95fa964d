import type { PredictorOutput } from '../types.js';

/**
 * An answer's predictions as a JSON array: numbers for a regressor, class labels for a classifier.
 *
 * @example
 * predictionList({ prediction: Float64Array.of(1.5, 2) }); // [1.5, 2]
 */
export function predictionList(output: PredictorOutput): (number | string)[] {
  const { prediction } = output;
  return Array.isArray(prediction) ? prediction : Array.from(prediction);
}

/**
 * A classifier's probabilities as one array per row, columns in the order of its classes;
 * undefined for a regressor.
 *
 * @example
 * probabilityRows({ prediction: ['a'], probabilities: Float64Array.of(0.9, 0.1) }, 2); // [[0.9, 0.1]]
 */
export function probabilityRows(output: PredictorOutput, classCount: number): number[][] | undefined {
  const { probabilities } = output;
  if (probabilities === undefined || classCount <= 0) return undefined;
  const rows = probabilities.length / classCount;
  const out = new Array<number[]>(rows);
  for (let r = 0; r < rows; r++) {
    const row = new Array<number>(classCount);
    for (let c = 0; c < classCount; c++) row[c] = probabilities[r * classCount + c] as number;
    out[r] = row;
  }
  return out;
}
