/**
 * A smooth objective for {@link minimizeLbfgs}: returns f(x) and writes ∇f(x) into `grad`
 * (every entry, the buffer is reused between calls).
 */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** Options for {@link minimizeLbfgs}. */
export interface LbfgsOptions {
  /** How many (step, gradient change) pairs approximate the inverse Hessian; default 10. */
  memory?: number;
  /** Iteration limit; default 1000. */
  maxIter?: number;
  /** Converged when the largest |component| of the (pseudo-)gradient is at most this; default 1e-6. */
  gtol?: number;
  /**
   * Converged when an iteration lowers the objective by at most `ftol · max(|f|, 1)`; default 64 · 2⁻⁵²,
   * as sklearn asks of scipy.
   */
  ftol?: number;
  /**
   * Per-coordinate L1 weights λᵢ ≥ 0. When given, the minimised function is f(x) + Σ λᵢ|xᵢ| and the
   * method is OWL-QN (orthant-wise L-BFGS), which leaves exact zeros; coordinates with λᵢ = 0 are free.
   */
  l1?: Float64Array;
}

/** Where {@link minimizeLbfgs} stopped. */
export interface LbfgsResult {
  x: Float64Array;
  /** The objective at `x`, including the L1 term. */
  value: number;
  iterations: number;
  /** False when the iteration limit was hit or the line search could not make progress first. */
  converged: boolean;
}

const ARMIJO = 1e-4;
const MAX_BACKTRACKS = 60;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function l1Term(x: Float64Array, l1: Float64Array | undefined): number {
  if (!l1) return 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (l1[i] as number) * Math.abs(x[i] as number);
  return s;
}

/** The minimum-norm subgradient of f + Σλ|x| (the gradient itself without L1). */
function pseudoGradient(x: Float64Array, g: Float64Array, l1: Float64Array | undefined, out: Float64Array): void {
  if (!l1) {
    out.set(g);
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const gi = g[i] as number;
    const li = l1[i] as number;
    const xi = x[i] as number;
    if (xi > 0) out[i] = gi + li;
    else if (xi < 0) out[i] = gi - li;
    else if (gi + li < 0) out[i] = gi + li;
    else if (gi - li > 0) out[i] = gi - li;
    else out[i] = 0;
  }
}

/**
 * Minimises a smooth convex function, optionally plus a weighted L1 norm, by limited-memory BFGS:
 * the two-loop recursion gives the quasi-Newton direction, a backtracking (Armijo) line search picks
 * the step, and pairs with non-positive curvature are skipped. With `l1` the method is OWL-QN
 * (Andrew & Gao 2007): pseudo-gradient, direction and steps constrained to the current orthant.
 * The logistic learners use it for their L2 and L1 / elastic-net objectives.
 *
 * @example
 * // (x0 − 3)² + (x1 + 1)²
 * const { x } = minimizeLbfgs((x, g) => {
 *   g[0] = 2 * (x[0]! - 3);
 *   g[1] = 2 * (x[1]! + 1);
 *   return (x[0]! - 3) ** 2 + (x[1]! + 1) ** 2;
 * }, new Float64Array(2)); // x ≈ [3, -1]
 */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const n = x0.length;
  const memory = options.memory ?? 10;
  const maxIter = options.maxIter ?? 1000;
  const gtol = options.gtol ?? 1e-6;
  const ftol = options.ftol ?? 64 * Number.EPSILON;
  const l1 = options.l1;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  const pg = new Float64Array(n);
  const d = new Float64Array(n);
  const sMem = Array.from({ length: memory }, () => new Float64Array(n));
  const yMem = Array.from({ length: memory }, () => new Float64Array(n));
  const rho = new Float64Array(memory);
  const alpha = new Float64Array(memory);
  let stored = 0;
  let newest = -1;

  let f = objective(x, g) + l1Term(x, l1);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    pseudoGradient(x, g, l1, pg);
    let pgMax = 0;
    for (let i = 0; i < n; i++) pgMax = Math.max(pgMax, Math.abs(pg[i] as number));
    if (pgMax <= gtol) {
      converged = true;
      break;
    }

    // Two-loop recursion: d = −H·pg.
    for (let i = 0; i < n; i++) d[i] = -(pg[i] as number);
    for (let k = 0; k < stored; k++) {
      const j = (newest - k + memory) % memory;
      const a = (rho[j] as number) * dot(sMem[j] as Float64Array, d);
      alpha[j] = a;
      const y = yMem[j] as Float64Array;
      for (let i = 0; i < n; i++) d[i] = (d[i] as number) - a * (y[i] as number);
    }
    if (stored > 0) {
      const y = yMem[newest] as Float64Array;
      const gamma = 1 / ((rho[newest] as number) * dot(y, y));
      for (let i = 0; i < n; i++) d[i] = (d[i] as number) * gamma;
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (newest - k + memory) % memory;
      const b = (rho[j] as number) * dot(yMem[j] as Float64Array, d);
      const s = sMem[j] as Float64Array;
      const c = (alpha[j] as number) - b;
      for (let i = 0; i < n; i++) d[i] = (d[i] as number) + c * (s[i] as number);
    }
    if (l1) {
      for (let i = 0; i < n; i++) if ((l1[i] as number) > 0 && (d[i] as number) * (pg[i] as number) >= 0) d[i] = 0;
    }
    let slope = dot(pg, d);
    if (!(slope < 0)) {
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -(pg[i] as number);
      slope = -dot(pg, pg);
    }

    let step = 1;
    if (stored === 0) {
      let dNorm = 0;
      for (let i = 0; i < n; i++) dNorm += (d[i] as number) ** 2;
      step = Math.min(1, 1 / Math.sqrt(dNorm));
    }
    let fNew = Number.NaN;
    let accepted = false;
    for (let t = 0; t < MAX_BACKTRACKS; t++) {
      for (let i = 0; i < n; i++) {
        let v = (x[i] as number) + step * (d[i] as number);
        if (l1 && (l1[i] as number) > 0) {
          const xi = x[i] as number;
          const orthant = xi !== 0 ? Math.sign(xi) : -Math.sign(pg[i] as number);
          if (v * orthant <= 0) v = 0;
        }
        xNew[i] = v;
      }
      fNew = objective(xNew, gNew) + l1Term(xNew, l1);
      let decrease = 0;
      if (l1) for (let i = 0; i < n; i++) decrease += (pg[i] as number) * ((xNew[i] as number) - (x[i] as number));
      else decrease = step * slope;
      if (fNew <= f + ARMIJO * decrease) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;

    const next = (newest + 1) % memory;
    const s = sMem[next] as Float64Array;
    const y = yMem[next] as Float64Array;
    for (let i = 0; i < n; i++) {
      s[i] = (xNew[i] as number) - (x[i] as number);
      y[i] = (gNew[i] as number) - (g[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * dot(y, y)) {
      rho[next] = 1 / sy;
      newest = next;
      stored = Math.min(stored + 1, memory);
    } else if (stored === memory) {
      stored--; // the skipped pair overwrote the oldest one
    }
    const fOld = f;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = fNew;
    if (fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) {
      iterations++;
      converged = true;
      break;
    }
  }
  return { x, value: f, iterations, converged };
}
