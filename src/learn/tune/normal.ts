/**
 * The standard normal functions the Parzen estimators need, accurate far into the tails: a kernel
 * with σ = range/100 puts the bounds 100 σ away, where Φ underflows, so everything that can be
 * is computed in log space.
 */

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const LOG_HALF = Math.log(0.5);

/**
 * erf(x)·e^{x²}·√π/(2x) as the all-positive series Σ (2x²)ⁿ / (1·3·…·(2n+1)): no cancellation, so it
 * is accurate wherever it converges quickly (|x| < 3).
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * x * Math.exp(-x2) * sum;
}

/** e^{x²}·erfc(x) for x ≥ 3, from the continued fraction 1/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))). */
function erfcxLarge(x: number): number {
  // Modified Lentz evaluation: stops as soon as the fraction has converged (few terms for large x).
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    d = 1 / (x + (k / 2) * d);
    c = x + k / 2 / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / (Math.sqrt(Math.PI) * f);
}

/**
 * The complementary error function, relative accuracy ~1e-15 over the whole line.
 *
 * @example
 * erfc(0); // 1
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) return 1 - erfSeries(x);
  if (x > 27.3) return 0; // e^{-x²} underflows
  return Math.exp(-x * x) * erfcxLarge(x);
}

/**
 * log Φ(x), the log of the standard normal CDF, finite down to x ≈ -1e154.
 *
 * @example
 * logNdtr(-40); // ≈ -804.608 (Φ(-40) itself underflows)
 */
export function logNdtr(x: number): number {
  if (x > 5) return Math.log1p(-0.5 * erfc(x / SQRT2));
  if (x > -4.5) return Math.log(0.5 * erfc(-x / SQRT2));
  const t = -x / SQRT2;
  return Math.log(0.5 * erfcxLarge(t)) - t * t;
}

/** log φ(z) for the standard normal density. */
export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log(e^p − e^q) for p ≥ q. */
function logDiff(p: number, q: number): number {
  return p + Math.log1p(-Math.exp(q - p));
}

/**
 * log of the standard normal mass on [a, b], computed in whichever tail keeps it accurate.
 *
 * @example
 * logGaussMass(-Infinity, 0); // log(0.5)
 */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  // A bound more than 8.5 σ out leaves a tail below 1e-17, invisible next to 1: skip its erfc.
  const lowerTail = a < -8.5 ? 0 : 0.5 * erfc(-a / SQRT2);
  const upperTail = b > 8.5 ? 0 : 0.5 * erfc(b / SQRT2);
  return Math.log1p(-lowerTail - upperTail);
}

/** Acklam's rational approximation of Φ⁻¹(p) for 0 < p ≤ 0.5 (relative error ~1e-9, refined below). */
function ndtriLowerGuess(p: number): number {
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q +
        4.374664141464968) *
        q +
        2.938163982698783) /
      ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r + 1.38357751867269e2) * r -
      3.066479806614716e1) *
      r +
      2.506628277459239) *
      q) /
    (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r + 6.680131188771972e1) * r -
      1.328068155288572e1) *
      r +
      1)
  );
}

/**
 * Φ⁻¹(e^y): the normal quantile of a log probability y ≤ 0, so quantiles deep in the lower tail
 * (e^y below the smallest double) still come out right. Newton steps on log Φ polish the guess.
 *
 * @example
 * ndtriExp(Math.log(0.975)); // ≈ 1.959964
 */
export function ndtriExp(y: number): number {
  if (y >= 0) return Number.POSITIVE_INFINITY;
  if (y > LOG_HALF) return -ndtriExp(Math.log(-Math.expm1(y)));
  let x: number;
  if (y > -700) x = ndtriLowerGuess(Math.exp(y));
  else {
    const s = -2 * y;
    x = -Math.sqrt(s - Math.log(2 * Math.PI * s));
  }
  for (let i = 0; i < 3; i++) {
    const logPhi = logNdtr(x);
    const step = (logPhi - y) / Math.exp(logNormalPdf(x) - logPhi);
    x -= step;
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/**
 * A draw from the standard normal truncated to [a, b] by inversion of the uniform `u` ∈ [0, 1):
 * the quantile is taken in the tail nearer the interval so it stays exact when the interval lies
 * many σ away from the mean.
 *
 * @example
 * truncatedNormalQuantile(0.5, -1, 1); // 0
 */
export function truncatedNormalQuantile(u: number, a: number, b: number): number {
  if (u <= 0) return a;
  const mass = logGaussMass(a, b);
  let x: number;
  if (a < 0) {
    const logPhiLow = logNdtr(a);
    const logU = Math.log(u) + mass;
    const hi = Math.max(logPhiLow, logU);
    x = ndtriExp(hi + Math.log1p(Math.exp(Math.min(logPhiLow, logU) - hi)));
  } else {
    const logPhiHigh = logNdtr(-b);
    const logU = Math.log1p(-u) + mass;
    const hi = Math.max(logPhiHigh, logU);
    x = -ndtriExp(hi + Math.log1p(Math.exp(Math.min(logPhiHigh, logU) - hi)));
  }
  return Math.min(b, Math.max(a, x));
}
