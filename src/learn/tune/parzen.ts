import { logGaussMass, truncatedNormalQuantile } from './normal.js';
import { type Distribution, stepValue } from './space.js';

/** The knobs of Optuna's `_ParzenEstimatorParameters` (the prior is always on, as in Optuna ≥ 4.3). */
export interface ParzenOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  multivariate: boolean;
}

interface NumericKernels {
  kind: 'numeric';
  distribution: Exclude<Distribution, { type: 'categorical' }>;
  /** Bounds in the internal space: log-transformed, widened by half a step for discrete grids. */
  low: number;
  high: number;
  /** Bin width of a discrete grid, or 0 for a continuous (or log-int) parameter. */
  q: number;
  mus: Float64Array;
  sigmas: Float64Array;
  /** log of each component's mass inside [low, high] (the truncation normaliser). */
  logMass: Float64Array;
}

interface CategoricalKernels {
  kind: 'categorical';
  nChoices: number;
  /** Row-major components × choices. */
  probs: Float64Array;
}

/**
 * A Parzen estimator as in Optuna's TPE: one kernel per observation plus a prior kernel, mixed with
 * `default_weights` (older observations ramped down past 25). Univariate estimators have one
 * parameter; the multivariate one shares the component choice across parameters.
 */
export interface ParzenEstimator {
  weights: Float64Array;
  kernels: (NumericKernels | CategoricalKernels)[];
}

const EPS = 1e-12;
const SIGMA0_MAGNITUDE = 0.2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Optuna's `default_weights(n)`: ones, with a linear ramp from 1/n to 1 over the oldest n − 25. */
export function defaultWeights(n: number): Float64Array {
  const weights = new Float64Array(n).fill(1);
  const ramp = n - 25;
  if (n >= 25 && ramp > 0) {
    for (let i = 0; i < ramp; i++) weights[i] = ramp === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (ramp - 1);
  }
  return weights;
}

/** numpy's round-half-to-even, so discrete values land where Optuna's do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The indices that sort `values`, ties in index order: a native numeric sort of the values, then each
 * index placed by binary search (much faster than sorting indices with a comparator).
 */
function stableArgsort(values: Float64Array): Int32Array {
  const sorted = values.slice().sort();
  const next = new Int32Array(values.length);
  const order = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    order[lo + (next[lo] as number)] = i;
    next[lo] = (next[lo] as number) + 1;
  }
  return order;
}

/** Internal-space bounds and bin width (Optuna's `_calculate_parzen_bounds`). */
function parzenBounds(d: Exclude<Distribution, { type: 'categorical' }>): { low: number; high: number; q: number } {
  if (d.type === 'float') {
    if (d.log) return { low: Math.log(d.low), high: Math.log(d.high), q: 0 };
    if (d.step !== undefined) return { low: d.low - 0.5 * d.step, high: d.high + 0.5 * d.step, q: d.step };
    return { low: d.low, high: d.high, q: 0 };
  }
  if (d.log) return { low: Math.log(d.low - 0.5), high: Math.log(d.high + 0.5), q: 0 };
  const step = d.step ?? 1;
  return { low: d.low - 0.5 * step, high: d.high + 0.5 * step, q: step };
}

function numericKernels(
  distribution: Exclude<Distribution, { type: 'categorical' }>,
  observed: Float64Array,
  options: ParzenOptions,
  sigma0: number,
): NumericKernels {
  const { low, high, q } = parzenBounds(distribution);
  const n = observed.length;
  const mus = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) mus[i] = distribution.log ? Math.log(observed[i] as number) : (observed[i] as number);
  mus[n] = 0.5 * (low + high);
  const sigmas = new Float64Array(n + 1);
  if (options.multivariate) sigmas.fill(sigma0 * (high - low));
  else {
    // Bandwidth = distance to the farther neighbour, the bounds counting as neighbours.
    const order = stableArgsort(mus);
    const m = order.length;
    const sorted = new Float64Array(m + 2);
    sorted[0] = low;
    for (let k = 0; k < m; k++) sorted[k + 1] = mus[order[k] as number] as number;
    sorted[m + 1] = high;
    for (let k = 0; k < m; k++) {
      const left = (sorted[k + 1] as number) - (sorted[k] as number);
      const right = (sorted[k + 2] as number) - (sorted[k + 1] as number);
      sigmas[order[k] as number] = Math.max(left, right);
    }
    if (!options.considerEndpoints && m + 2 >= 4) {
      sigmas[order[0] as number] = (sorted[2] as number) - (sorted[1] as number);
      sigmas[order[m - 1] as number] = (sorted[m] as number) - (sorted[m - 1] as number);
    }
  }
  const maxSigma = high - low;
  const minSigma = options.considerMagicClip ? (high - low) / Math.min(100, 1 + n + 1) : EPS;
  for (let i = 0; i < n; i++) sigmas[i] = Math.min(maxSigma, Math.max(minSigma, sigmas[i] as number));
  sigmas[n] = high - low;
  const logMass = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const mu = mus[i] as number;
    const sigma = sigmas[i] as number;
    logMass[i] = logGaussMass((low - mu) / sigma, (high - mu) / sigma);
  }
  return { kind: 'numeric', distribution, low, high, q, mus, sigmas, logMass };
}

function categoricalKernels(nChoices: number, observed: Float64Array, priorWeight: number): CategoricalKernels {
  const n = observed.length;
  const probs = new Float64Array((n + 1) * nChoices).fill(priorWeight / (n + 1));
  for (let i = 0; i < n; i++) {
    const cell = i * nChoices + (observed[i] as number);
    probs[cell] = (probs[cell] as number) + 1;
  }
  for (let i = 0; i <= n; i++) {
    let total = 0;
    for (let c = 0; c < nChoices; c++) total += probs[i * nChoices + c] as number;
    for (let c = 0; c < nChoices; c++) probs[i * nChoices + c] = (probs[i * nChoices + c] as number) / total;
  }
  return { kind: 'categorical', nChoices, probs };
}

/**
 * Builds the estimator over `distributions` from observations in chronological order
 * (`observed[p][i]`: parameter p of observation i, the choice index for a categorical).
 *
 * @example
 * const below = buildParzenEstimator([{ type: 'float', low: -5, high: 5 }], [Float64Array.of(0.1, -0.3)], options);
 */
export function buildParzenEstimator(
  distributions: readonly Distribution[],
  observed: readonly Float64Array[],
  options: ParzenOptions,
): ParzenEstimator {
  const n = observed[0]?.length ?? 0;
  const raw = defaultWeights(n);
  const weights = new Float64Array(n + 1);
  weights.set(raw);
  weights[n] = options.priorWeight;
  let total = 0;
  for (const w of weights) total += w;
  for (let i = 0; i <= n; i++) weights[i] = (weights[i] as number) / total;
  const sigma0 = SIGMA0_MAGNITUDE * Math.max(n, 1) ** (-1 / (distributions.length + 4));
  const kernels = distributions.map((distribution, p) => {
    const values = observed[p] as Float64Array;
    return distribution.type === 'categorical'
      ? categoricalKernels(distribution.choices.length, values, options.priorWeight)
      : numericKernels(distribution, values, options, sigma0);
  });
  return { weights, kernels };
}

/** Maps an internal-space draw back to the distribution's values (Optuna's `_transform_from_uniform`). */
function toExternal(k: NumericKernels, x: number): number {
  const d = k.distribution;
  if (d.log && d.type === 'float') return Math.min(d.high, Math.max(d.low, Math.exp(x)));
  if (d.log) return Math.min(d.high, Math.max(d.low, roundHalfEven(Math.exp(x))));
  if (k.q === 0) return x;
  const steps = Math.min(Math.max(roundHalfEven((x - d.low) / k.q), 0), Math.round((d.high - d.low) / k.q));
  return stepValue(d.low, k.q, steps);
}

/**
 * Draws `size` candidates: a component by weight, then from its kernel in every parameter. Returns
 * per parameter the values in the distribution's own units (choice index for a categorical).
 */
export function sampleParzen(estimator: ParzenEstimator, rng: () => number, size: number): Float64Array[] {
  const { weights, kernels } = estimator;
  const cumulative = new Float64Array(weights.length);
  let running = 0;
  for (let i = 0; i < weights.length; i++) {
    running += weights[i] as number;
    cumulative[i] = running;
  }
  const active = new Int32Array(size);
  for (let s = 0; s < size; s++) {
    const u = rng() * running;
    let j = 0;
    while (j < cumulative.length - 1 && (cumulative[j] as number) <= u) j++;
    active[s] = j;
  }
  return kernels.map((k) => {
    const out = new Float64Array(size);
    for (let s = 0; s < size; s++) {
      const j = active[s] as number;
      const u = rng();
      if (k.kind === 'categorical') {
        let c = 0;
        let acc = k.probs[j * k.nChoices] as number;
        while (c < k.nChoices - 1 && acc < u) acc += k.probs[j * k.nChoices + ++c] as number;
        out[s] = c;
      } else {
        const mu = k.mus[j] as number;
        const sigma = k.sigmas[j] as number;
        const z = truncatedNormalQuantile(u, (k.low - mu) / sigma, (k.high - mu) / sigma);
        out[s] = toExternal(k, mu + sigma * z);
      }
    }
    return out;
  });
}

/**
 * log density (log mass for discrete grids) of each candidate under the mixture, exactly as Optuna
 * 3.1 computes it: its truncated-normal log-density leaves out the −log σ term (Optuna issue #5109,
 * changed in 3.5), which favours wide kernels in l(x)/g(x). Kiln keeps 3.1's behaviour because it is
 * the reference: with the normalised density, 10-D Rosenbrock and Ackley got significantly worse
 * than Optuna 3.1 at 100 trials (bench/tpe.ts).
 */
export function logPdfParzen(estimator: ParzenEstimator, samples: readonly Float64Array[]): Float64Array {
  const { weights, kernels } = estimator;
  const size = samples[0]?.length ?? 0;
  const nComponents = weights.length;
  // Everything that depends on the component only is hoisted out of the candidate loop: log weight
  // minus each continuous kernel's normaliser (log √2π + log mass, without log σ as in Optuna 3.1), and 1/σ.
  const base = new Float64Array(nComponents);
  for (let j = 0; j < nComponents; j++) base[j] = Math.log(weights[j] as number);
  const inverseSigmas: Float64Array[] = [];
  const massOffsets: Float64Array[] = [];
  for (const k of kernels) {
    const inverse = new Float64Array(k.kind === 'numeric' ? nComponents : 0);
    inverseSigmas.push(inverse);
    massOffsets.push(k.kind === 'numeric' && k.q !== 0 ? k.logMass : new Float64Array(0));
    if (k.kind !== 'numeric') continue;
    for (let j = 0; j < nComponents; j++) inverse[j] = 1 / (k.sigmas[j] as number);
    if (k.q !== 0) continue;
    for (let j = 0; j < nComponents; j++) base[j] = (base[j] as number) - (k.logMass[j] as number) - LOG_SQRT_2PI;
  }
  const result = new Float64Array(size);
  const only = kernels[0];
  if (kernels.length === 1 && only?.kind === 'numeric' && only.q === 0) {
    return logPdfContinuous(only, base, inverseSigmas[0] as Float64Array, samples[0] as Float64Array);
  }
  const component = new Float64Array(nComponents);
  for (let s = 0; s < size; s++) {
    component.set(base);
    for (let p = 0; p < kernels.length; p++) {
      const k = kernels[p] as NumericKernels | CategoricalKernels;
      const value = (samples[p] as Float64Array)[s] as number;
      if (k.kind === 'categorical') {
        for (let j = 0; j < nComponents; j++) {
          component[j] = (component[j] as number) + Math.log(k.probs[j * k.nChoices + value] as number);
        }
        continue;
      }
      const { mus, sigmas, q } = k;
      const x = k.distribution.log ? Math.log(value) : value;
      if (q === 0) {
        const inverse = inverseSigmas[p] as Float64Array;
        for (let j = 0; j < nComponents; j++) {
          const z = (x - (mus[j] as number)) * (inverse[j] as number);
          component[j] = (component[j] as number) - 0.5 * z * z;
        }
        continue;
      }
      const logMass = massOffsets[p] as Float64Array;
      const upper = Math.min(x + q / 2, k.high);
      const lower = Math.max(x - q / 2, k.low);
      for (let j = 0; j < nComponents; j++) {
        const mu = mus[j] as number;
        const sigma = sigmas[j] as number;
        const logBin = logGaussMass((lower - mu) / sigma, (upper - mu) / sigma);
        component[j] = (component[j] as number) + logBin - (logMass[j] as number);
      }
    }
    result[s] = logSumExp(component);
  }
  return result;
}

/** The hot path of univariate TPE (one continuous parameter): one streaming pass over the components per candidate. */
function logPdfContinuous(
  k: NumericKernels,
  base: Float64Array,
  inverse: Float64Array,
  xs: Float64Array,
): Float64Array {
  const { mus } = k;
  const n = mus.length;
  const result = new Float64Array(xs.length);
  for (let s = 0; s < xs.length; s++) {
    const raw = xs[s] as number;
    const x = k.distribution.log ? Math.log(raw) : raw;
    // Streaming log-sum-exp: rescale when a larger exponent shows up, skip terms below e^-50 of it.
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const z = (x - (mus[j] as number)) * (inverse[j] as number);
      const e = (base[j] as number) - 0.5 * z * z;
      if (e > max) {
        sum = sum * Math.exp(max - e) + 1;
        max = e;
      } else if (e - max > -50) sum += Math.exp(e - max);
    }
    result[s] = Math.log(sum) + max;
  }
  return result;
}

/** log Σ e^{c}, skipping terms below e^-50 of the largest (they cannot change a sum of ≤ 10^6 terms). */
function logSumExp(values: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < values.length; j++) if ((values[j] as number) > max) max = values[j] as number;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let j = 0; j < values.length; j++) {
    const d = (values[j] as number) - max;
    if (d > -50) sum += Math.exp(d);
  }
  return Math.log(sum) + max;
}
