import { KilnError } from '../core/index.js';
import { checkMatrix } from './linear.js';
import { type Matrix, zeros } from './matrix.js';
import { minimizeLbfgs } from './optimize.js';

/**
 * The penalty on the weights (never on the intercept), with sklearn's `C` convention: the objective is
 * C·Σᵢ sᵢ·logloss(i) + P(w), sᵢ the class weight of row i, and P(w) = ½‖w‖² for `l2`, ‖w‖₁ for `l1`,
 * l1Ratio·‖w‖₁ + (1 − l1Ratio)/2·‖w‖² for `elasticnet` (sklearn's `saga` objective), 0 for `none`.
 */
export type LogisticPenalty = 'none' | 'l2' | 'l1' | 'elasticnet';

/**
 * sklearn's `class_weight`: `balanced` weighs class c by n / (k · count(c)); a map gives weights by class
 * index, classes it leaves out weigh 1.
 */
export type ClassWeight = 'balanced' | Readonly<Record<number, number>>;

/** Options for {@link fitLogisticRegression}; names follow sklearn's arguments in camelCase. */
export interface LogisticRegressionOptions {
  /** Default `l2`. */
  penalty?: LogisticPenalty;
  /** Inverse penalty strength, > 0; default 1. */
  C?: number;
  /** Share of L1 in `elasticnet`, in [0, 1]; default 0.5. */
  l1Ratio?: number;
  fitIntercept?: boolean;
  classWeight?: ClassWeight;
  /**
   * Stop when the largest |(pseudo-)gradient| of the objective divided by Σsᵢ is at most this; default
   * 1e-6 (tighter than sklearn's 1e-4 on its unscaled objective).
   */
  tol?: number;
  /** L-BFGS / OWL-QN iterations at most; default 1000. */
  maxIter?: number;
}

/**
 * A fitted logistic regression. Binary models (classes = 2) hold one weight row — the log-odds of class
 * 1 — multinomial models one row per class, softmax over the rows. A plain object with no functions;
 * `coef` and `intercept` are Float64Arrays, so the caller converts them (`Array.from`) before
 * `JSON.stringify` and back after parsing.
 */
export interface LogisticRegressionModel {
  kind: 'logistic-regression';
  penalty: LogisticPenalty;
  /** Number of classes k; targets are class indices 0..k−1. */
  classes: number;
  /** Row-major, (k = 2 ? 1 : k) rows × features.length columns. */
  coef: Float64Array;
  /** One per coef row; multinomial intercepts are centred to sum to 0 (softmax ignores a common shift). */
  intercept: Float64Array;
  /** The column names of the training matrix. */
  features: string[];
  iterations: number;
  /** False when the optimiser stopped at `maxIter` or stalled before reaching `tol`. */
  converged: boolean;
}

function invalid(field: string, message: string): KilnError {
  return new KilnError('INVALID_PARAMETER_VALUE', message, { field });
}

/** Class counts of `y`, refusing anything but integer class indices 0..k−1 with every class present. */
function classCounts(y: Int32Array, rows: number): Float64Array {
  if (!(y instanceof Int32Array)) throw invalid('y', 'y must be an Int32Array of class indices 0..k-1');
  if (y.length !== rows) throw invalid('y', `y has ${y.length} values but X has ${rows} rows`);
  let k = 0;
  for (let r = 0; r < y.length; r++) {
    const v = y[r] as number;
    if (v < 0) throw invalid('y', `y has class index ${v} at row ${r}; drop rows with a missing target`);
    k = Math.max(k, v + 1);
  }
  const counts = new Float64Array(k);
  for (let r = 0; r < y.length; r++) counts[y[r] as number] = (counts[y[r] as number] as number) + 1;
  if (k < 2) throw invalid('y', `y needs at least two classes, got only class ${k - 1}`);
  const missing = counts.indexOf(0);
  if (missing >= 0) throw invalid('y', `class ${missing} never occurs in y; classes must be 0..${k - 1}`);
  return counts;
}

function classWeights(counts: Float64Array, rows: number, classWeight: ClassWeight | undefined): Float64Array {
  const k = counts.length;
  const weights = new Float64Array(k).fill(1);
  if (classWeight === undefined) return weights;
  if (classWeight === 'balanced') {
    for (let c = 0; c < k; c++) weights[c] = rows / (k * (counts[c] as number));
    return weights;
  }
  if (typeof classWeight !== 'object' || classWeight === null) {
    throw invalid('classWeight', `classWeight must be 'balanced' or a map from class index to weight`);
  }
  for (const [key, w] of Object.entries(classWeight)) {
    const c = Number(key);
    if (!Number.isInteger(c) || c < 0 || c >= k) throw invalid('classWeight', `classWeight has unknown class ${key}`);
    if (!(Number.isFinite(w) && w >= 0)) throw invalid('classWeight', `classWeight[${key}] must be >= 0, got ${w}`);
    weights[c] = w;
  }
  return weights;
}

/**
 * Weighted mean log-loss over rows (divided by `totalWeight`) plus ½·l2·‖w‖², and its gradient, for
 * parameters laid out as `rowsOfCoef × p` weights followed by `rowsOfCoef` intercepts.
 */
function logLossObjective(
  X: Matrix,
  y: Int32Array,
  sampleWeight: Float64Array,
  k: number,
  l2: number,
  fitIntercept: boolean,
) {
  const p = X.cols;
  const m = k === 2 ? 1 : k;
  const z = new Float64Array(m);
  let totalWeight = 0;
  for (let r = 0; r < X.rows; r++) totalWeight += sampleWeight[r] as number;
  const data = X.data;
  const rows = X.rows;
  return (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const s = sampleWeight[r] as number;
      if (s === 0) continue;
      const off = r * p;
      for (let c = 0; c < m; c++) {
        let v = theta[m * p + c] as number;
        const w = c * p;
        for (let j = 0; j < p; j++) v += (theta[w + j] as number) * (data[off + j] as number);
        z[c] = v;
      }
      const label = y[r] as number;
      if (m === 1) {
        const v = z[0] as number;
        // One exp serves both the softplus and the sigmoid: e = exp(-|v|).
        const e = Math.exp(-Math.abs(v));
        const softplus = Math.max(v, 0) + Math.log1p(e);
        loss += s * (softplus - (label === 1 ? v : 0));
        const prob = v >= 0 ? 1 / (1 + e) : e / (1 + e);
        z[0] = s * (prob - label);
      } else {
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < m; c++) max = Math.max(max, z[c] as number);
        let sum = 0;
        for (let c = 0; c < m; c++) sum += Math.exp((z[c] as number) - max);
        const lse = max + Math.log(sum);
        loss += s * (lse - (z[label] as number));
        for (let c = 0; c < m; c++) z[c] = s * (Math.exp((z[c] as number) - lse) - (c === label ? 1 : 0));
      }
      for (let c = 0; c < m; c++) {
        const residual = z[c] as number;
        const w = c * p;
        for (let j = 0; j < p; j++) grad[w + j] = (grad[w + j] as number) + residual * (data[off + j] as number);
        grad[m * p + c] = (grad[m * p + c] as number) + residual;
      }
    }
    loss /= totalWeight;
    let norm2 = 0;
    for (let i = 0; i < m * p; i++) {
      const t = theta[i] as number;
      norm2 += t * t;
      grad[i] = (grad[i] as number) / totalWeight + l2 * t;
    }
    for (let c = 0; c < m; c++) grad[m * p + c] = fitIntercept ? (grad[m * p + c] as number) / totalWeight : 0;
    return loss + 0.5 * l2 * norm2;
  };
}

/**
 * Fits a binary or multinomial (softmax) logistic regression on numeric features, with the objective
 * and parameters of sklearn's `LogisticRegression` (see {@link LogisticPenalty}; `multi_class='auto'`
 * behaviour: one weight row for two classes, softmax for more). L2 and no penalty are minimised by
 * L-BFGS, L1 and elastic net by OWL-QN (L-BFGS restricted to orthants), both in
 * {@link minimizeLbfgs}; class weights follow sklearn's `class_weight`. Standardise features first.
 *
 * @example
 * const X = fromRows([[0, 1], [1, 0], [2, 2], [3, 1]]);
 * const model = fitLogisticRegression(X, Int32Array.from([0, 0, 1, 1]), { C: 10 });
 * predictLogistic(model, X); // Int32Array [0, 0, 1, 1]
 */
export function fitLogisticRegression(
  X: Matrix,
  y: Int32Array,
  options: LogisticRegressionOptions = {},
): LogisticRegressionModel {
  const penalty = options.penalty ?? 'l2';
  if (!['none', 'l2', 'l1', 'elasticnet'].includes(penalty)) {
    throw invalid('penalty', `penalty must be one of none, l2, l1, elasticnet, got ${String(penalty)}`);
  }
  const C = options.C ?? 1;
  if (!(Number.isFinite(C) && C > 0)) throw invalid('C', `C must be a finite number > 0, got ${C}`);
  const l1Ratio = penalty === 'l1' ? 1 : penalty === 'elasticnet' ? (options.l1Ratio ?? 0.5) : 0;
  if (!(l1Ratio >= 0 && l1Ratio <= 1)) throw invalid('l1Ratio', `l1Ratio must be in [0, 1], got ${l1Ratio}`);
  const tol = options.tol ?? 1e-6;
  if (!(Number.isFinite(tol) && tol >= 0)) throw invalid('tol', `tol must be a number >= 0, got ${tol}`);
  const maxIter = options.maxIter ?? 1000;
  if (!Number.isInteger(maxIter) || maxIter < 1) throw invalid('maxIter', 'maxIter must be an integer >= 1');
  const fitIntercept = options.fitIntercept ?? true;
  checkMatrix(X);
  const counts = classCounts(y, X.rows);
  const k = counts.length;
  const weights = classWeights(counts, X.rows, options.classWeight);
  const sampleWeight = new Float64Array(X.rows);
  let totalWeight = 0;
  for (let r = 0; r < X.rows; r++) {
    sampleWeight[r] = weights[y[r] as number] as number;
    totalWeight += sampleWeight[r] as number;
  }
  if (!(totalWeight > 0)) throw invalid('classWeight', 'classWeight gives every row weight 0');

  const p = X.cols;
  const m = k === 2 ? 1 : k;
  const penaltyScale = penalty === 'none' ? 0 : 1 / (C * totalWeight);
  const objective = logLossObjective(X, y, sampleWeight, k, (1 - l1Ratio) * penaltyScale, fitIntercept);
  let l1: Float64Array | undefined;
  if (l1Ratio > 0) {
    l1 = new Float64Array(m * p + m);
    l1.fill(l1Ratio * penaltyScale, 0, m * p);
  }
  const result = minimizeLbfgs(objective, new Float64Array(m * p + m), { gtol: tol, maxIter, l1 });
  const coef = result.x.slice(0, m * p);
  const intercept = result.x.slice(m * p);
  if (m > 1) {
    let mean = 0;
    for (let c = 0; c < m; c++) mean += intercept[c] as number;
    for (let c = 0; c < m; c++) intercept[c] = (intercept[c] as number) - mean / m;
  }
  return {
    kind: 'logistic-regression',
    penalty,
    classes: k,
    coef,
    intercept,
    features: [...X.names],
    iterations: result.iterations,
    converged: result.converged,
  };
}

/**
 * Class probabilities of a fitted {@link LogisticRegressionModel}: a rows × classes matrix (columns
 * named by class index), as sklearn's `predict_proba` — for two classes [1 − σ(z), σ(z)].
 *
 * @example
 * const proba = predictLogisticProba(model, X); // proba.data[r * model.classes + c] = P(class c | row r)
 */
export function predictLogisticProba(model: LogisticRegressionModel, X: Matrix): Matrix {
  checkMatrix(X);
  const p = model.features.length;
  if (X.cols !== p) throw invalid('X', `X has ${X.cols} columns but the model was fitted on ${p}`);
  const k = model.classes;
  const m = k === 2 ? 1 : k;
  const out = zeros(
    X.rows,
    k,
    Array.from({ length: k }, (_, c) => String(c)),
  );
  for (let r = 0; r < X.rows; r++) {
    const off = r * p;
    const o = r * k;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < m; c++) {
      let v = model.intercept[c] as number;
      const w = c * p;
      for (let j = 0; j < p; j++) v += (model.coef[w + j] as number) * (X.data[off + j] as number);
      out.data[o + c] = v;
      max = Math.max(max, v);
    }
    if (m === 1) {
      const v = out.data[o] as number;
      const p1 = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      out.data[o] = 1 - p1;
      out.data[o + 1] = p1;
    } else {
      let sum = 0;
      for (let c = 0; c < m; c++) {
        const e = Math.exp((out.data[o + c] as number) - max);
        out.data[o + c] = e;
        sum += e;
      }
      for (let c = 0; c < m; c++) out.data[o + c] = (out.data[o + c] as number) / sum;
    }
  }
  return out;
}

/**
 * The most probable class index per row (the first on ties, as sklearn).
 *
 * @example
 * const labels = predictLogistic(model, X); // Int32Array of class indices
 */
export function predictLogistic(model: LogisticRegressionModel, X: Matrix): Int32Array {
  const proba = predictLogisticProba(model, X);
  const k = model.classes;
  const out = new Int32Array(X.rows);
  for (let r = 0; r < X.rows; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((proba.data[r * k + c] as number) > (proba.data[r * k + best] as number)) best = c;
    out[r] = best;
  }
  return out;
}
