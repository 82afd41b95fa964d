import { checkFinite, checkLengths, type Values } from './inputs.js';

function checkPair(yTrue: Values, yPred: Values): void {
  checkLengths(yTrue, 'yTrue', yPred, 'yPred');
  checkFinite(yTrue, 'yTrue');
  checkFinite(yPred, 'yPred');
}

/**
 * Root mean squared error: the typical size of a regression error in the target's units, punishing
 * large misses more than {@link mae}. Same as sklearn's `mean_squared_error(squared=False)`.
 *
 * @example
 * rmse([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.6123724356957945
 */
export function rmse(yTrue: Values, yPred: Values): number {
  checkPair(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = (yTrue[i] as number) - (yPred[i] as number);
    sum += d * d;
  }
  return Math.sqrt(sum / yTrue.length);
}

/**
 * Mean absolute error, in the target's units; robust to a few large misses.
 *
 * @example
 * mae([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.5
 */
export function mae(yTrue: Values, yPred: Values): number {
  checkPair(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs((yTrue[i] as number) - (yPred[i] as number));
  return sum / yTrue.length;
}

/**
 * Mean absolute percentage error as sklearn defines it: mean of |y − ŷ| / max(|y|, ε) with ε the
 * float64 machine epsilon, as a fraction (0.1 = 10 %), not a percentage. Targets at zero make it
 * explode by design; prefer {@link mae} there.
 *
 * @example
 * mape([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.3273809523809524
 */
export function mape(yTrue: Values, yPred: Values): number {
  checkPair(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    sum += Math.abs((yPred[i] as number) - t) / Math.max(Math.abs(t), Number.EPSILON);
  }
  return sum / yTrue.length;
}

/**
 * Coefficient of determination: 1 − residual sum of squares / total sum of squares, i.e. the share of
 * the target's variance the model explains (1 perfect, 0 no better than the mean, negative worse).
 * A constant target gives 1 for a perfect fit and 0 otherwise, as sklearn's `force_finite`.
 *
 * @example
 * r2([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.9486081370449679
 */
export function r2(yTrue: Values, yPred: Values): number {
  checkPair(yTrue, yPred);
  const n = yTrue.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i] as number;
  mean /= n;
  let residual = 0;
  let total = 0;
  let constant = true;
  const first = yTrue[0] as number;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i] as number;
    const d = t - (yPred[i] as number);
    residual += d * d;
    total += (t - mean) * (t - mean);
    if (t !== first) constant = false;
  }
  if (constant || total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}
