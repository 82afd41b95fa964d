/**
 * The learning tasks, named as XGBoost's objectives so parameters and imported models carry over:
 * - `binary:logistic` — labels 0 / 1, margin = log-odds, prediction = probability of 1;
 * - `reg:squarederror` — real labels, prediction = margin;
 * - `multi:softprob` — class indices 0 … K − 1, one margin per class, prediction = softmax probabilities.
 */
export type GbdtObjective = 'binary:logistic' | 'reg:squarederror' | 'multi:softprob';

/** Validation metrics for early stopping (all minimised), as XGBoost's `eval_metric` names. */
export type GbdtMetric = 'logloss' | 'rmse' | 'mlogloss';

/** Probabilities are clipped to [ε, 1 − ε] in log losses, as XGBoost does. */
const PROB_EPS = 1e-16;
/** Smallest hessian, so a confident row never yields a zero or negative curvature. */
const HESS_EPS = 1e-16;

/**
 * The metric an objective is early-stopped on when none is given: XGBoost's defaults.
 *
 * @example
 * defaultMetric('binary:logistic'); // 'logloss'
 */
export function defaultMetric(objective: GbdtObjective): GbdtMetric {
  if (objective === 'binary:logistic') return 'logloss';
  if (objective === 'multi:softprob') return 'mlogloss';
  return 'rmse';
}

/**
 * The constant margin boosting starts from: the log-odds of the mean label for `binary:logistic`, the
 * mean label for `reg:squarederror`, 0 for every class of `multi:softprob` (softmax ignores a shared
 * shift). Given `baseScore` (in prediction space, as XGBoost's `base_score`), that value instead.
 *
 * @example
 * baseMargin('binary:logistic', Float64Array.of(0, 1, 1, 1)); // log(0.75 / 0.25)
 */
export function baseMargin(objective: GbdtObjective, y: ArrayLike<number>, baseScore?: number): number {
  if (objective === 'multi:softprob') return 0;
  let score = baseScore;
  if (score === undefined) {
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] as number;
    score = sum / y.length;
  }
  if (objective === 'binary:logistic') {
    const p = Math.min(Math.max(score, PROB_EPS), 1 - PROB_EPS);
    return Math.log(p / (1 - p));
  }
  return score;
}

/**
 * Writes the gradient and hessian of the loss at the current margins, for every row and output, into
 * `gradHess[k][2r]` / `gradHess[k][2r + 1]` (k = output, one per class for `multi:softprob`).
 */
export function computeGradients(
  objective: GbdtObjective,
  margin: Float64Array,
  y: ArrayLike<number>,
  outputs: number,
  gradHess: Float64Array[],
): void {
  const n = y.length;
  if (objective === 'binary:logistic') {
    const gh = gradHess[0] as Float64Array;
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-(margin[r] as number)));
      gh[2 * r] = p - (y[r] as number);
      gh[2 * r + 1] = Math.max(p * (1 - p), HESS_EPS);
    }
  } else if (objective === 'reg:squarederror') {
    const gh = gradHess[0] as Float64Array;
    for (let r = 0; r < n; r++) {
      gh[2 * r] = (margin[r] as number) - (y[r] as number);
      gh[2 * r + 1] = 1;
    }
  } else {
    const probs = new Float64Array(outputs);
    for (let r = 0; r < n; r++) {
      softmaxRow(margin, r * outputs, outputs, probs);
      const label = y[r] as number;
      for (let k = 0; k < outputs; k++) {
        const p = probs[k] as number;
        const gh = gradHess[k] as Float64Array;
        gh[2 * r] = k === label ? p - 1 : p;
        gh[2 * r + 1] = Math.max(2 * p * (1 - p), HESS_EPS);
      }
    }
  }
}

/** Softmax of `margin[offset … offset + k)` into `out`, shifted by the maximum for stability. */
function softmaxRow(margin: Float64Array, offset: number, k: number, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < k; j++) max = Math.max(max, margin[offset + j] as number);
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const e = Math.exp((margin[offset + j] as number) - max);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < k; j++) out[j] = (out[j] as number) / sum;
}

/**
 * Turns margins into predictions in place: sigmoid for `binary:logistic`, row-wise softmax for
 * `multi:softprob`, nothing for `reg:squarederror`.
 *
 * @example
 * const p = transformMargins('binary:logistic', Float64Array.of(0), 1); // [0.5]
 */
export function transformMargins(objective: GbdtObjective, margin: Float64Array, outputs: number): Float64Array {
  if (objective === 'binary:logistic') {
    for (let i = 0; i < margin.length; i++) margin[i] = 1 / (1 + Math.exp(-(margin[i] as number)));
  } else if (objective === 'multi:softprob') {
    const row = new Float64Array(outputs);
    for (let off = 0; off < margin.length; off += outputs) {
      softmaxRow(margin, off, outputs, row);
      margin.set(row, off);
    }
  }
  return margin;
}

/**
 * The value of `metric` for margins against labels (XGBoost's definitions, unweighted).
 *
 * @example
 * evaluateMetric('rmse', 'reg:squarederror', Float64Array.of(1, 3), Float64Array.of(1, 1), 1); // √2
 */
export function evaluateMetric(
  metric: GbdtMetric,
  objective: GbdtObjective,
  margin: Float64Array,
  y: ArrayLike<number>,
  outputs: number,
): number {
  const n = y.length;
  const pred = transformMargins(objective, Float64Array.from(margin), outputs);
  let sum = 0;
  if (metric === 'rmse') {
    for (let r = 0; r < n; r++) sum += ((pred[r * outputs] as number) - (y[r] as number)) ** 2;
    return Math.sqrt(sum / n);
  }
  if (metric === 'logloss') {
    for (let r = 0; r < n; r++) {
      const p = Math.min(Math.max(pred[r * outputs] as number, PROB_EPS), 1 - PROB_EPS);
      sum -= (y[r] as number) === 1 ? Math.log(p) : Math.log(1 - p);
    }
    return sum / n;
  }
  for (let r = 0; r < n; r++) {
    const p = Math.min(Math.max(pred[r * outputs + (y[r] as number)] as number, PROB_EPS), 1 - PROB_EPS);
    sum -= Math.log(p);
  }
  return sum / n;
}
