import { KilnError } from '../core/index.js';
import type { Matrix } from './matrix.js';

/**
 * Which regularised least-squares problem to solve, each with the objective and `alpha` convention of
 * the sklearn class of the same role, so parameters carry over unchanged:
 * - `none` — `LinearRegression`: ‖y − Xw − b‖²;
 * - `l2` — `Ridge`: ‖y − Xw − b‖² + α‖w‖² (solved in closed form);
 * - `l1` — `Lasso`: 1/(2n)·‖y − Xw − b‖² + α‖w‖₁;
 * - `elasticnet` — `ElasticNet`: 1/(2n)·‖y − Xw − b‖² + α·l1Ratio·‖w‖₁ + α(1 − l1Ratio)/2·‖w‖².
 */
export type LinearPenalty = 'none' | 'l2' | 'l1' | 'elasticnet';

/** Options for {@link fitLinearRegression}; names follow sklearn's arguments in camelCase. */
export interface LinearRegressionOptions {
  /** Default `none` (ordinary least squares). */
  penalty?: LinearPenalty;
  /** Penalty strength α ≥ 0; default 1 (ignored by `none`). */
  alpha?: number;
  /** Share of L1 in `elasticnet`, in [0, 1]; default 0.5. */
  l1Ratio?: number;
  /** Fit an unpenalised intercept b; default true. */
  fitIntercept?: boolean;
  /** Coordinate descent stops when the duality gap is below `tol · ‖y − ȳ‖²`, as sklearn; default 1e-4. */
  tol?: number;
  /** Coordinate descent sweeps at most; default 1000. */
  maxIter?: number;
}

/**
 * A fitted linear regression: ŷ = X·coef + intercept. A plain object with no functions; `coef` is a
 * Float64Array, so the caller converts it (`Array.from`) before `JSON.stringify` and back after parsing.
 */
export interface LinearRegressionModel {
  kind: 'linear-regression';
  penalty: LinearPenalty;
  /** One weight per input column, in the order of `features`. */
  coef: Float64Array;
  intercept: number;
  /** The column names of the training matrix. */
  features: string[];
  /** Coordinate descent sweeps used (0 for the closed-form penalties). */
  iterations: number;
  /** False when coordinate descent hit `maxIter` before its duality gap closed. */
  converged: boolean;
}

function invalid(field: string, message: string): KilnError {
  return new KilnError('INVALID_PARAMETER_VALUE', message, { field });
}

/**
 * Refuses an empty or mis-sized matrix and non-finite values (learners take imputed, numeric features),
 * naming the first bad cell in a KilnError for `field`.
 *
 * @example
 * checkMatrix(fromRows([[1, Number.NaN]])); // throws: X has NaN at row 0, column x1
 */
export function checkMatrix(X: Matrix, field = 'X'): void {
  if (X.rows < 1 || X.cols < 1) throw invalid(field, `${field} must have at least one row and one column`);
  if (X.data.length !== X.rows * X.cols) {
    throw invalid(field, `${field} has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  }
  for (let i = 0; i < X.data.length; i++) {
    const v = X.data[i] as number;
    if (!Number.isFinite(v)) {
      const r = Math.floor(i / X.cols);
      const name = X.names[i % X.cols] ?? `x${i % X.cols}`;
      throw invalid(field, `${field} has ${v} at row ${r}, column ${name}; impute or drop missing values first`);
    }
  }
}

function checkNumber(value: number, field: string, min: number, max = Number.POSITIVE_INFINITY): void {
  if (!(Number.isFinite(value) && value >= min && value <= max)) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in [${min}, ${max}]`;
    throw invalid(field, `${field} must be a number ${range}, got ${value}`);
  }
}

/** Column means (zeros without an intercept: no centring). */
function columnMeans(X: Matrix, center: boolean): Float64Array {
  const means = new Float64Array(X.cols);
  if (!center) return means;
  for (let r = 0; r < X.rows; r++) {
    const off = r * X.cols;
    for (let c = 0; c < X.cols; c++) means[c] = (means[c] as number) + (X.data[off + c] as number);
  }
  for (let c = 0; c < X.cols; c++) means[c] = (means[c] as number) / X.rows;
  return means;
}

/**
 * Solves (XcᵀXc + λI)w = Xcᵀyc by Cholesky, Xc and yc centred by `means` / `yMean`. Throws when the
 * matrix is not positive definite (collinear or constant columns with λ = 0).
 */
function solveNormalEquations(X: Matrix, y: Float64Array, means: Float64Array, yMean: number, lambda: number) {
  const p = X.cols;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  const row = new Float64Array(p);
  for (let r = 0; r < X.rows; r++) {
    const off = r * p;
    for (let c = 0; c < p; c++) row[c] = (X.data[off + c] as number) - (means[c] as number);
    const yr = (y[r] as number) - yMean;
    for (let i = 0; i < p; i++) {
      const xi = row[i] as number;
      b[i] = (b[i] as number) + xi * yr;
      const ai = i * p;
      for (let j = 0; j <= i; j++) a[ai + j] = (a[ai + j] as number) + xi * (row[j] as number);
    }
  }
  let trace = 0;
  for (let i = 0; i < p; i++) {
    a[i * p + i] = (a[i * p + i] as number) + lambda;
    trace += a[i * p + i] as number;
  }
  // In-place Cholesky, lower triangle: a = LLᵀ.
  for (let j = 0; j < p; j++) {
    let diag = a[j * p + j] as number;
    for (let k = 0; k < j; k++) diag -= (a[j * p + k] as number) ** 2;
    if (!(diag > 1e-12 * Math.max(trace, Number.MIN_VALUE))) {
      throw invalid(
        'X',
        `X is rank deficient: column ${X.names[j] ?? j} is constant or a linear combination of earlier columns; ` +
          "drop it or use penalty 'l2'",
      );
    }
    const ljj = Math.sqrt(diag);
    a[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let v = a[i * p + j] as number;
      for (let k = 0; k < j; k++) v -= (a[i * p + k] as number) * (a[j * p + k] as number);
      a[i * p + j] = v / ljj;
    }
  }
  const w = b;
  for (let i = 0; i < p; i++) {
    let v = w[i] as number;
    for (let k = 0; k < i; k++) v -= (a[i * p + k] as number) * (w[k] as number);
    w[i] = v / (a[i * p + i] as number);
  }
  for (let i = p - 1; i >= 0; i--) {
    let v = w[i] as number;
    for (let k = i + 1; k < p; k++) v -= (a[k * p + i] as number) * (w[k] as number);
    w[i] = v / (a[i * p + i] as number);
  }
  return w;
}

/**
 * sklearn's `enet_coordinate_descent` on centred data: cyclic updates of each weight with the residual
 * kept current, stopping on the duality gap. Minimises ½‖y − Xw‖² + l1·‖w‖₁ + ½·l2·‖w‖².
 */
function coordinateDescent(
  X: Matrix,
  yc: Float64Array,
  means: Float64Array,
  l1: number,
  l2: number,
  tol: number,
  maxIter: number,
) {
  const n = X.rows;
  const p = X.cols;
  const cols = new Float64Array(n * p); // column-major, centred
  const norms = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < p; c++) {
      const v = (X.data[r * p + c] as number) - (means[c] as number);
      cols[c * n + r] = v;
      norms[c] = (norms[c] as number) + v * v;
    }
  }
  const w = new Float64Array(p);
  const residual = Float64Array.from(yc);
  let yNorm2 = 0;
  for (let r = 0; r < n; r++) yNorm2 += (yc[r] as number) ** 2;
  const gapTol = tol * yNorm2;

  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    let wMax = 0;
    let dwMax = 0;
    for (let c = 0; c < p; c++) {
      const norm = norms[c] as number;
      if (norm === 0) continue;
      const old = w[c] as number;
      const off = c * n;
      let rho = 0;
      for (let r = 0; r < n; r++) rho += (cols[off + r] as number) * (residual[r] as number);
      rho += old * norm;
      const shrunk = Math.sign(rho) * Math.max(Math.abs(rho) - l1, 0);
      const next = shrunk / (norm + l2);
      if (next !== old) {
        const delta = next - old;
        for (let r = 0; r < n; r++) residual[r] = (residual[r] as number) - delta * (cols[off + r] as number);
        w[c] = next;
      }
      dwMax = Math.max(dwMax, Math.abs(next - old));
      wMax = Math.max(wMax, Math.abs(next));
    }
    if (wMax === 0 || dwMax / wMax < tol || iterations === maxIter - 1) {
      // Duality gap, exactly as sklearn computes it.
      let dualNorm = 0;
      for (let c = 0; c < p; c++) {
        let xtr = 0;
        const off = c * n;
        for (let r = 0; r < n; r++) xtr += (cols[off + r] as number) * (residual[r] as number);
        dualNorm = Math.max(dualNorm, Math.abs(xtr - l2 * (w[c] as number)));
      }
      let rNorm2 = 0;
      let ry = 0;
      for (let r = 0; r < n; r++) {
        rNorm2 += (residual[r] as number) ** 2;
        ry += (residual[r] as number) * (yc[r] as number);
      }
      let wNorm2 = 0;
      let wL1 = 0;
      for (let c = 0; c < p; c++) {
        wNorm2 += (w[c] as number) ** 2;
        wL1 += Math.abs(w[c] as number);
      }
      let scale = 1;
      let gap = rNorm2;
      if (dualNorm > l1) {
        scale = l1 / dualNorm;
        gap = 0.5 * (rNorm2 + rNorm2 * scale * scale);
      }
      gap += l1 * wL1 - scale * ry + 0.5 * l2 * (1 + scale * scale) * wNorm2;
      if (gap < gapTol) {
        iterations++;
        converged = true;
        break;
      }
    }
  }
  return { w, iterations, converged };
}

/**
 * Fits a linear regression by ordinary least squares, ridge, lasso or elastic net — the same objectives
 * and parameters as sklearn's `LinearRegression`, `Ridge`, `Lasso` and `ElasticNet` (see
 * {@link LinearPenalty}). `none` and `l2` solve the normal equations by Cholesky; `l1` and `elasticnet`
 * use cyclic coordinate descent with sklearn's duality-gap stopping rule. Columns and target are
 * centred when fitting an intercept, which stays unpenalised. Features are not scaled here: standardise
 * them first (penalties depend on scale).
 *
 * @example
 * const X = fromRows([[1, 2], [2, 1], [3, 5], [4, 3]]);
 * const model = fitLinearRegression(X, Float64Array.from([9, 8, 22, 18]), { penalty: 'l2', alpha: 0.1 });
 * predictLinear(model, X); // close to the targets
 */
export function fitLinearRegression(
  X: Matrix,
  y: Float64Array,
  options: LinearRegressionOptions = {},
): LinearRegressionModel {
  const penalty = options.penalty ?? 'none';
  if (!['none', 'l2', 'l1', 'elasticnet'].includes(penalty)) {
    throw invalid('penalty', `penalty must be one of none, l2, l1, elasticnet, got ${String(penalty)}`);
  }
  const alpha = options.alpha ?? 1;
  const l1Ratio = penalty === 'l1' ? 1 : (options.l1Ratio ?? 0.5);
  const fitIntercept = options.fitIntercept ?? true;
  const tol = options.tol ?? 1e-4;
  const maxIter = options.maxIter ?? 1000;
  checkNumber(alpha, 'alpha', 0);
  checkNumber(l1Ratio, 'l1Ratio', 0, 1);
  checkNumber(tol, 'tol', 0);
  if (!Number.isInteger(maxIter) || maxIter < 1) throw invalid('maxIter', `maxIter must be an integer >= 1`);
  checkMatrix(X);
  if (!(y instanceof Float64Array)) throw invalid('y', 'y must be a Float64Array of regression targets');
  if (y.length !== X.rows) throw invalid('y', `y has ${y.length} values but X has ${X.rows} rows`);
  let yMean = 0;
  for (let r = 0; r < y.length; r++) {
    const v = y[r] as number;
    if (!Number.isFinite(v)) throw invalid('y', `y has ${v} at row ${r}; drop rows with a missing target`);
    yMean += v;
  }
  yMean = fitIntercept ? yMean / y.length : 0;
  const means = columnMeans(X, fitIntercept);

  let coef: Float64Array;
  let iterations = 0;
  let converged = true;
  if (penalty === 'none' || penalty === 'l2') {
    coef = solveNormalEquations(X, y, means, yMean, penalty === 'l2' ? alpha : 0);
  } else {
    const yc = new Float64Array(y.length);
    for (let r = 0; r < y.length; r++) yc[r] = (y[r] as number) - yMean;
    const n = X.rows;
    const result = coordinateDescent(X, yc, means, alpha * l1Ratio * n, alpha * (1 - l1Ratio) * n, tol, maxIter);
    coef = result.w;
    iterations = result.iterations;
    converged = result.converged;
  }
  let intercept = yMean;
  for (let c = 0; c < X.cols; c++) intercept -= (means[c] as number) * (coef[c] as number);
  return {
    kind: 'linear-regression',
    penalty,
    coef,
    intercept: fitIntercept ? intercept : 0,
    features: [...X.names],
    iterations,
    converged,
  };
}

/**
 * Predictions X·coef + intercept of a fitted {@link LinearRegressionModel}, one per row of `X`.
 *
 * @example
 * const yHat = predictLinear(model, testMatrix); // Float64Array, testMatrix.rows long
 */
export function predictLinear(model: LinearRegressionModel, X: Matrix): Float64Array {
  checkMatrix(X);
  const p = model.coef.length;
  if (X.cols !== p) throw invalid('X', `X has ${X.cols} columns but the model was fitted on ${p}`);
  const out = new Float64Array(X.rows);
  for (let r = 0; r < X.rows; r++) {
    let s = model.intercept;
    const off = r * p;
    for (let c = 0; c < p; c++) s += (X.data[off + c] as number) * (model.coef[c] as number);
    out[r] = s;
  }
  return out;
}
