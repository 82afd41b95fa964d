import { invalidParameter } from '../../core/index.js';
import type { NumericBlock } from './block.js';
import { presentSum } from './impute.js';
import type { MinMaxStep, StandardStep } from './spec.js';

/** Fitted standard scaling: `(x - mean) / scale` per column (mean 0 / scale 1 when switched off). */
export interface FittedStandard {
  kind: 'standard';
  mean: number[];
  scale: number[];
}

/** Fitted min-max scaling: `x * scale + min` per column, sklearn's `scale_` and `min_`. */
export interface FittedMinMax {
  kind: 'minmax';
  scale: number[];
  min: number[];
}

const EPS = 2 ** -52;

/**
 * Mean and population variance of the non-NaN values, computed as sklearn's
 * `_incremental_mean_and_var` does on one batch (two passes with a correction term).
 */
function meanAndVariance(values: Float64Array, field: string): { mean: number; variance: number; n: number } {
  const { sum, count } = presentSum(values);
  if (count === 0) throw invalidParameter(field, 'cannot scale a column that is entirely missing');
  const mean = sum / count;
  let correction = 0;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    const d = v - mean;
    correction += d;
    squares += d * d;
  }
  return { mean, variance: (squares - (correction * correction) / count) / count, n: count };
}

/** Fits standard scaling; near-constant columns (sklearn's `_is_constant_feature`) get scale 1. */
export function fitStandard(step: StandardStep, block: NumericBlock, field: string): FittedStandard {
  const mean: number[] = [];
  const scale: number[] = [];
  for (const values of block.columns) {
    const stats = meanAndVariance(values, field);
    mean.push(step.withMean === false ? 0 : stats.mean);
    if (step.withStd === false) {
      scale.push(1);
    } else {
      const { variance, n } = stats;
      const bound = n * EPS * variance + (n * stats.mean * EPS) ** 2;
      scale.push(variance <= bound ? 1 : Math.sqrt(variance));
    }
  }
  return { kind: 'standard', mean, scale };
}

/** Applies {@link fitStandard}'s state; NaN stays NaN. */
export function applyStandard(fitted: FittedStandard, block: NumericBlock): NumericBlock {
  const columns = block.columns.map((values, c) => {
    const mean = fitted.mean[c] as number;
    const scale = fitted.scale[c] as number;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = ((values[i] as number) - mean) / scale;
    return out;
  });
  return { kind: 'numeric', columns, names: block.names };
}

/** Fits min-max scaling; a constant column gets scale `high - low` (sklearn's zero-range rule). */
export function fitMinMax(step: MinMaxStep, block: NumericBlock, field: string): FittedMinMax {
  const [low, high] = step.featureRange ?? [0, 1];
  const scale: number[] = [];
  const min: number[] = [];
  for (const values of block.columns) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) throw invalidParameter(field, 'cannot scale a column that is entirely missing');
    const range = hi - lo;
    const s = (high - low) / (range < 10 * EPS ? 1 : range);
    scale.push(s);
    min.push(low - lo * s);
  }
  return { kind: 'minmax', scale, min };
}

/** Applies {@link fitMinMax}'s state; NaN stays NaN, values outside the fitted range are not clipped. */
export function applyMinMax(fitted: FittedMinMax, block: NumericBlock): NumericBlock {
  const columns = block.columns.map((values, c) => {
    const scale = fitted.scale[c] as number;
    const min = fitted.min[c] as number;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = (values[i] as number) * scale + min;
    return out;
  });
  return { kind: 'numeric', columns, names: block.names };
}
