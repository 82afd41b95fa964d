import {
  accuracy,
  averagePrecision,
  brierScore,
  f1Score,
  logLoss,
  mae,
  mape,
  r2,
  rmse,
  rocAuc,
} from './metrics/index.js';
import type { Task } from './model.js';

/**
 * What a fitted model says about some rows: class probabilities (`rows × classes`, row-major) for
 * classifiers, predicted values for regression.
 */
export type ModelScores =
  | { kind: 'probabilities'; classes: number; values: Float64Array }
  | { kind: 'values'; values: Float64Array };

/** The most probable class per row (the first on ties). */
function argmaxRows(probabilities: Float64Array, classes: number): Int32Array {
  const rows = probabilities.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    const o = r * classes;
    for (let c = 1; c < classes; c++)
      if ((probabilities[o + c] as number) > (probabilities[o + best] as number)) best = c;
    out[r] = best;
  }
  return out;
}

/** Column `c` of a row-major `rows × width` array. */
function columnOf(values: Float64Array, width: number, c: number): Float64Array {
  const rows = values.length / width;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = values[r * width + c] as number;
  return out;
}

function classCounts(y: ArrayLike<number>, classes: number): Int32Array {
  const counts = new Int32Array(classes);
  for (let i = 0; i < y.length; i++) counts[y[i] as number] = (counts[y[i] as number] as number) + 1;
  return counts;
}

/**
 * The task's metrics of `scores` against the true labels (class indices) or values: binary auc,
 * pr_auc, log_loss, accuracy, f1, brier; multiclass accuracy, f1_macro, f1_weighted, log_loss, auc_ovr;
 * regression rmse, mae, mape, r2. A metric that is undefined on these rows (AUC when a class is
 * absent, MAPE when a true value is 0, R² on a constant target) is left out rather than reported as NaN.
 *
 * @example
 * scoreMetrics('binary', Float64Array.of(0, 1), { kind: 'probabilities', classes: 2, values: Float64Array.of(0.8, 0.2, 0.3, 0.7) });
 * // { auc: 1, pr_auc: 1, log_loss: 0.29…, accuracy: 1, f1: 1, brier: 0.065 }
 */
export function scoreMetrics(task: Task, y: Float64Array, scores: ModelScores): Record<string, number> {
  const metrics: Record<string, number> = {};
  if (y.length === 0) return metrics;
  if (scores.kind === 'values') {
    metrics.rmse = rmse(y, scores.values);
    metrics.mae = mae(y, scores.values);
    if (y.every((v) => v !== 0)) metrics.mape = mape(y, scores.values);
    if (y.some((v) => v !== y[0])) metrics.r2 = r2(y, scores.values);
    return metrics;
  }
  const k = scores.classes;
  const predicted = argmaxRows(scores.values, k);
  const counts = classCounts(y, k);
  const present = counts.filter((n) => n > 0).length;
  if (task === 'binary') {
    const positive = columnOf(scores.values, k, 1);
    if (present === 2) {
      metrics.auc = rocAuc(y, positive);
      metrics.pr_auc = averagePrecision(y, positive);
    }
    metrics.log_loss = logLoss(y, positive);
    metrics.accuracy = accuracy(y, predicted);
    metrics.f1 = f1Score(y, predicted, 'binary');
    metrics.brier = brierScore(y, positive);
    return metrics;
  }
  metrics.accuracy = accuracy(y, predicted);
  metrics.f1_macro = f1Score(y, predicted, 'macro');
  metrics.f1_weighted = f1Score(y, predicted, 'weighted');
  metrics.log_loss = logLoss(y, scores.values);
  if (present === k) metrics.auc_ovr = rocAuc(y, scores.values);
  return metrics;
}
