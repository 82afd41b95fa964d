import { checkFinite, checkLabels, checkLengths, checkProbabilities, fail, type Values } from './inputs.js';

/**
 * How per-class scores become one number: `binary` reports class 1 only (labels must be 0 / 1),
 * `macro` is the plain mean over the classes present in yTrue or yPred, `weighted` weighs each
 * class by its true row count.
 */
export type Average = 'binary' | 'macro' | 'weighted';

/** Per-class precision, recall and F1 for classes 0 … k-1, with true and predicted row counts. */
export interface ClassScores {
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
  /** Rows whose true class is c. */
  support: Int32Array;
  /** Rows predicted as class c. */
  predicted: Int32Array;
}

function checkPredictions(yTrue: Values, yPred: Values): number {
  checkLengths(yTrue, 'yTrue', yPred, 'yPred');
  return Math.max(checkLabels(yTrue, 'yTrue'), checkLabels(yPred, 'yPred'));
}

/**
 * Share of rows whose predicted class equals the true class.
 *
 * @example
 * accuracy([0, 1, 2, 1], [0, 2, 2, 1]); // 0.75
 */
export function accuracy(yTrue: Values, yPred: Values): number {
  checkPredictions(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/**
 * Counts of (true class, predicted class) pairs: `matrix[t][p]` rows of class t predicted as p, for
 * classes 0 … k-1 (k = `numClasses`, default the largest label + 1), as sklearn's `confusion_matrix`.
 *
 * @example
 * confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2]); // [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
 */
export function confusionMatrix(yTrue: Values, yPred: Values, numClasses?: number): number[][] {
  checkLengths(yTrue, 'yTrue', yPred, 'yPred');
  const limit = numClasses ?? Number.POSITIVE_INFINITY;
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && numClasses >= 1)) {
    fail('numClasses', `numClasses must be an integer >= 1, got ${numClasses}`);
  }
  const k = numClasses ?? Math.max(checkLabels(yTrue, 'yTrue'), checkLabels(yPred, 'yPred'));
  checkLabels(yTrue, 'yTrue', limit);
  checkLabels(yPred, 'yPred', limit);
  const counts = new Int32Array(k * k);
  for (let i = 0; i < yTrue.length; i++) {
    const cell = (yTrue[i] as number) * k + (yPred[i] as number);
    counts[cell] = (counts[cell] as number) + 1;
  }
  return Array.from({ length: k }, (_, t) => Array.from(counts.subarray(t * k, (t + 1) * k)));
}

/**
 * Precision (of the rows predicted as c, the share truly c), recall (of the rows truly c, the share
 * found) and their harmonic mean F1 for each class 0 … k-1; a score whose denominator is zero is 0,
 * as sklearn's default `zero_division`.
 *
 * @example
 * const { f1, support } = classScores([0, 1, 2, 1], [0, 2, 2, 1]);
 * // f1 = [1, 0.6666…, 0.6666…], support = [1, 2, 1]
 */
export function classScores(yTrue: Values, yPred: Values): ClassScores {
  const k = checkPredictions(yTrue, yPred);
  const tp = new Int32Array(k);
  const support = new Int32Array(k);
  const predicted = new Int32Array(k);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    const p = yPred[i] as number;
    support[t] = (support[t] as number) + 1;
    predicted[p] = (predicted[p] as number) + 1;
    if (t === p) tp[t] = (tp[t] as number) + 1;
  }
  const precision = new Float64Array(k);
  const recall = new Float64Array(k);
  const f1 = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const hits = tp[c] as number;
    const pr = predicted[c] === 0 ? 0 : hits / (predicted[c] as number);
    const rc = support[c] === 0 ? 0 : hits / (support[c] as number);
    precision[c] = pr;
    recall[c] = rc;
    f1[c] = pr + rc === 0 ? 0 : (2 * pr * rc) / (pr + rc);
  }
  return { precision, recall, f1, support, predicted };
}

function averaged(yTrue: Values, yPred: Values, average: Average, pick: (s: ClassScores) => Float64Array): number {
  if (average !== 'binary' && average !== 'macro' && average !== 'weighted') {
    fail('average', `average must be binary, macro or weighted, got ${String(average)}`);
  }
  if (average === 'binary') {
    checkLengths(yTrue, 'yTrue', yPred, 'yPred');
    checkLabels(yTrue, 'yTrue', 2);
    checkLabels(yPred, 'yPred', 2);
    return pick(classScores(yTrue, yPred))[1] ?? 0;
  }
  const scores = classScores(yTrue, yPred);
  const values = pick(scores);
  let sum = 0;
  let weights = 0;
  for (let c = 0; c < values.length; c++) {
    const support = scores.support[c] as number;
    if (average === 'weighted') {
      sum += (values[c] as number) * support;
      weights += support;
    } else if (support > 0 || (scores.predicted[c] as number) > 0) {
      sum += values[c] as number;
      weights += 1;
    }
  }
  return sum / weights;
}

/**
 * Precision averaged as `average` says (default binary: of the rows predicted 1, the share truly 1).
 *
 * @example
 * precisionScore([0, 1, 1, 0], [0, 1, 0, 1]); // 0.5
 * precisionScore([0, 1, 2, 1], [0, 2, 2, 1], 'macro'); // 0.8333333333333334
 */
export function precisionScore(yTrue: Values, yPred: Values, average: Average = 'binary'): number {
  return averaged(yTrue, yPred, average, (s) => s.precision);
}

/**
 * Recall averaged as `average` says (default binary: of the rows truly 1, the share predicted 1).
 *
 * @example
 * recallScore([0, 1, 1, 0], [0, 1, 0, 1]); // 0.5
 */
export function recallScore(yTrue: Values, yPred: Values, average: Average = 'binary'): number {
  return averaged(yTrue, yPred, average, (s) => s.recall);
}

/**
 * F1 (harmonic mean of precision and recall) averaged as `average` says; macro / weighted average the
 * per-class F1 values, as sklearn does.
 *
 * @example
 * f1Score([0, 1, 2, 1], [0, 2, 2, 1], 'weighted'); // ≈ 0.75
 */
export function f1Score(yTrue: Values, yPred: Values, average: Average = 'binary'): number {
  return averaged(yTrue, yPred, average, (s) => s.f1);
}

/** Options for {@link logLoss}. */
export interface LogLossOptions {
  /** Probabilities are clipped to [eps, 1 − eps]; default float64 epsilon, sklearn 1.2's `eps='auto'`. */
  eps?: number;
}

/**
 * Mean negative log-likelihood of the true classes: rewards confident right answers and punishes
 * confident wrong ones without bound. `probabilities` holds one value per row (binary, probability of
 * class 1) or `rows × k` values (row-major, classes 0 … k-1). As sklearn, probabilities are clipped to
 * [eps, 1 − eps] and each row is renormalised to sum 1.
 *
 * @example
 * logLoss([0, 1, 1], [0.1, 0.8, 0.6]); // ≈ 0.27978
 * logLoss([0, 2], [0.9, 0.05, 0.05, 0.1, 0.2, 0.7]); // ≈ 0.23102
 */
export function logLoss(yTrue: Values, probabilities: Values, options: LogLossOptions = {}): number {
  const eps = options.eps ?? Number.EPSILON;
  if (!(eps >= 0 && eps < 0.5)) fail('eps', `eps must be in [0, 0.5), got ${eps}`);
  if (yTrue.length === 0) fail('yTrue', 'yTrue is empty');
  const width = probabilities.length / yTrue.length;
  if (!Number.isInteger(width) || width === 0) {
    fail(
      'probabilities',
      `probabilities has ${probabilities.length} values, expected ${yTrue.length} or a multiple of it (rows × classes)`,
    );
  }
  checkFinite(probabilities, 'probabilities');
  checkLabels(yTrue, 'yTrue', width === 1 ? 2 : width);
  const clip = (p: number) => Math.min(Math.max(p, eps), 1 - eps);
  let loss = 0;
  for (let r = 0; r < yTrue.length; r++) {
    const label = yTrue[r] as number;
    if (width === 1) {
      const q = clip(probabilities[r] as number);
      const sum = 1 - q + q;
      loss -= Math.log((label === 1 ? q : 1 - q) / sum);
    } else {
      let sum = 0;
      for (let c = 0; c < width; c++) sum += clip(probabilities[r * width + c] as number);
      loss -= Math.log(clip(probabilities[r * width + label] as number) / sum);
    }
  }
  return loss / yTrue.length;
}

/**
 * Brier score: mean squared difference between the predicted probability of class 1 and the 0 / 1
 * outcome; lower is better and, unlike log loss, bounded by 1.
 *
 * @example
 * brierScore([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]); // ≈ 0.0375
 */
export function brierScore(yTrue: Values, probabilities: Values): number {
  checkLengths(yTrue, 'yTrue', probabilities, 'probabilities');
  checkLabels(yTrue, 'yTrue', 2);
  checkProbabilities(probabilities, 'probabilities');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = (yTrue[i] as number) - (probabilities[i] as number);
    sum += d * d;
  }
  return sum / yTrue.length;
}

/** Points of a reliability diagram, one per non-empty bin, in increasing probability order. */
export interface CalibrationCurve {
  /** Share of rows with label 1 in the bin (y axis). */
  fractionPositive: Float64Array;
  /** Mean predicted probability in the bin (x axis). */
  meanPredicted: Float64Array;
  /** Rows in the bin. */
  count: Int32Array;
}

/**
 * Calibration (reliability) curve as sklearn's `calibration_curve(strategy='uniform')`: [0, 1] is cut
 * into `bins` equal-width bins (a probability on an inner edge belongs to the lower bin) and each
 * non-empty bin reports the observed share of positives against the mean predicted probability; a
 * well-calibrated binary classifier lies on the diagonal.
 *
 * @example
 * const curve = calibrationCurve([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], 2);
 * // fractionPositive = [0, 1], meanPredicted ≈ [0.15, 0.8], count = [2, 2]
 */
export function calibrationCurve(yTrue: Values, probabilities: Values, bins = 5): CalibrationCurve {
  checkLengths(yTrue, 'yTrue', probabilities, 'probabilities');
  checkLabels(yTrue, 'yTrue', 2);
  checkProbabilities(probabilities, 'probabilities');
  if (!(Number.isInteger(bins) && bins >= 1)) fail('bins', `bins must be an integer >= 1, got ${bins}`);
  const step = 1 / bins;
  const sums = new Float64Array(bins);
  const positives = new Float64Array(bins);
  const totals = new Int32Array(bins);
  for (let i = 0; i < yTrue.length; i++) {
    const p = probabilities[i] as number;
    let b = Math.min(bins - 1, Math.floor(p * bins));
    while (b > 0 && b * step >= p) b--;
    while (b < bins - 1 && (b + 1) * step < p) b++;
    sums[b] = (sums[b] as number) + p;
    positives[b] = (positives[b] as number) + (yTrue[i] as number);
    totals[b] = (totals[b] as number) + 1;
  }
  const kept = totals.reduce((n, t) => n + (t > 0 ? 1 : 0), 0);
  const curve: CalibrationCurve = {
    fractionPositive: new Float64Array(kept),
    meanPredicted: new Float64Array(kept),
    count: new Int32Array(kept),
  };
  let at = 0;
  for (let b = 0; b < bins; b++) {
    const total = totals[b] as number;
    if (total === 0) continue;
    curve.fractionPositive[at] = (positives[b] as number) / total;
    curve.meanPredicted[at] = (sums[b] as number) / total;
    curve.count[at] = total;
    at++;
  }
  return curve;
}
