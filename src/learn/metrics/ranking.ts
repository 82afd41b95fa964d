import { checkFinite, checkLabels, checkLengths, fail, type Values } from './inputs.js';

/**
 * Cumulative true / false positive counts at each distinct score, highest score first (sklearn's
 * `_binary_clf_curve`). Tied scores form one point, which is how ties count half in the AUC.
 * Sorts `positives` and `negatives` in place.
 */
function binaryCurve(positives: Float64Array, negatives: Float64Array): { tps: Float64Array; fps: Float64Array } {
  positives.sort();
  negatives.sort();
  const tps = new Float64Array(positives.length + negatives.length);
  const fps = new Float64Array(tps.length);
  let i = positives.length - 1;
  let j = negatives.length - 1;
  let tp = 0;
  let fp = 0;
  let points = 0;
  while (i >= 0 || j >= 0) {
    const p = i >= 0 ? (positives[i] as number) : Number.NEGATIVE_INFINITY;
    const q = j >= 0 ? (negatives[j] as number) : Number.NEGATIVE_INFINITY;
    const threshold = Math.max(p, q);
    while (i >= 0 && positives[i] === threshold) {
      tp++;
      i--;
    }
    while (j >= 0 && negatives[j] === threshold) {
      fp++;
      j--;
    }
    tps[points] = tp;
    fps[points] = fp;
    points++;
  }
  return { tps: tps.subarray(0, points), fps: fps.subarray(0, points) };
}

/** Trapezoidal area under the ROC curve through (0, 0) and the curve's points. */
function rocArea(positives: Float64Array, negatives: Float64Array): number {
  const { tps, fps } = binaryCurve(positives, negatives);
  const p = positives.length;
  const n = negatives.length;
  let area = 0;
  let x0 = 0;
  let y0 = 0;
  for (let t = 0; t < tps.length; t++) {
    const x = (fps[t] as number) / n;
    const y = (tps[t] as number) / p;
    area += ((x - x0) * (y + y0)) / 2;
    x0 = x;
    y0 = y;
  }
  return area;
}

/** Scores of rows whose label is / is not `positive`, read from column `col` of a `width`-wide matrix. */
function splitScores(
  yTrue: Values,
  scores: Values,
  positive: number,
  width: number,
  col: number,
): [Float64Array, Float64Array] {
  let count = 0;
  for (let r = 0; r < yTrue.length; r++) if (yTrue[r] === positive) count++;
  const positives = new Float64Array(count);
  const negatives = new Float64Array(yTrue.length - count);
  let a = 0;
  let b = 0;
  for (let r = 0; r < yTrue.length; r++) {
    const s = scores[r * width + col] as number;
    if (yTrue[r] === positive) positives[a++] = s;
    else negatives[b++] = s;
  }
  return [positives, negatives];
}

/**
 * Area under the ROC curve: the probability that a random positive row scores above a random negative
 * one (ties count half), independent of any threshold. Binary when `scores` has one value per row
 * (labels 0 / 1, score of class 1); with `rows × k` values (row-major class probabilities, rows summing
 * to 1) it is the one-vs-rest macro average over classes 0 … k-1, as sklearn's
 * `roc_auc_score(multi_class='ovr')`. Every class must occur in `yTrue`.
 *
 * @example
 * rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // 0.75
 * rocAuc([0, 1, 2], [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7]); // 1
 */
export function rocAuc(yTrue: Values, scores: Values): number {
  if (yTrue.length === 0) fail('yTrue', 'yTrue is empty');
  const width = scores.length / yTrue.length;
  if (!Number.isInteger(width) || width === 0) {
    fail('scores', `scores has ${scores.length} values, expected ${yTrue.length} or a multiple of it (rows × classes)`);
  }
  checkFinite(scores, 'scores');
  if (width === 1) {
    checkLabels(yTrue, 'yTrue', 2);
    const [positives, negatives] = splitScores(yTrue, scores, 1, 1, 0);
    if (positives.length === 0 || negatives.length === 0) {
      fail('yTrue', `yTrue has only class ${positives.length === 0 ? 0 : 1}; ROC AUC needs both classes`);
    }
    return rocArea(positives, negatives);
  }
  checkLabels(yTrue, 'yTrue', width);
  for (let r = 0; r < yTrue.length; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) sum += scores[r * width + c] as number;
    if (!(Math.abs(1 - sum) <= 1e-8 + 1e-5 * Math.abs(sum))) {
      fail('scores', `row ${r} of the class probabilities sums to ${sum}, expected 1`);
    }
  }
  let total = 0;
  for (let c = 0; c < width; c++) {
    const [positives, negatives] = splitScores(yTrue, scores, c, width, c);
    if (positives.length === 0) fail('yTrue', `yTrue has no row of class ${c}; one-vs-rest ROC AUC needs every class`);
    if (negatives.length === 0) fail('yTrue', `yTrue has only class ${c}; ROC AUC needs at least two classes`);
    total += rocArea(positives, negatives);
  }
  return total / width;
}

/**
 * Area under the precision–recall curve as average precision (sklearn's `average_precision_score`):
 * Σ (Rₜ − Rₜ₋₁) Pₜ over descending score thresholds, without interpolation. Prefer it to ROC AUC when
 * positives (label 1) are rare. Needs at least one positive.
 *
 * @example
 * averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // 0.8333333333333333
 */
export function averagePrecision(yTrue: Values, scores: Values): number {
  checkLengths(yTrue, 'yTrue', scores, 'scores');
  checkLabels(yTrue, 'yTrue', 2);
  checkFinite(scores, 'scores');
  const [positives, negatives] = splitScores(yTrue, scores, 1, 1, 0);
  if (positives.length === 0) fail('yTrue', 'yTrue has no positive (label 1); average precision needs one');
  const { tps, fps } = binaryCurve(positives, negatives);
  const p = positives.length;
  let sum = 0;
  let previousRecall = 0;
  for (let t = 0; t < tps.length; t++) {
    const tp = tps[t] as number;
    const recall = tp / p;
    sum += (recall - previousRecall) * (tp / (tp + (fps[t] as number)));
    previousRecall = recall;
  }
  return sum;
}
