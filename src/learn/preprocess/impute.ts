import { invalidParameter } from '../../core/index.js';
import { type CategoricalBlock, countCategories, type NumericBlock } from './block.js';
import type { ImputeStep } from './spec.js';

/**
 * Fitted imputation: one fill value per numeric column (or one string for a categorical column),
 * and whether each column emits a missing indicator.
 */
export interface FittedImpute {
  kind: 'impute';
  fill: (number | string)[];
  indicator: boolean[];
}

/** sklearn's default constant for string columns. */
const DEFAULT_CATEGORY_FILL = 'missing_value';

function sortedPresent(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i] as number)) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out[j++] = v;
  }
  return out.sort();
}

/** Sum and count of the non-NaN values, Neumaier-compensated so large columns keep full precision. */
export function presentSum(values: Float64Array): { sum: number; count: number } {
  let sum = 0;
  let compensation = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
    count++;
  }
  return { sum: sum + compensation, count };
}

function numericFill(step: ImputeStep, values: Float64Array, field: string): number {
  if (step.strategy === 'constant') {
    if (typeof step.fillValue === 'string') {
      throw invalidParameter(`${field}.fillValue`, 'must be a number for a numeric column', step.fillValue);
    }
    return step.fillValue ?? 0;
  }
  if (step.strategy === 'mean') {
    const { sum, count } = presentSum(values);
    if (count === 0) throw invalidParameter(field, 'cannot impute a column that is entirely missing');
    return sum / count;
  }
  const sorted = sortedPresent(values);
  const n = sorted.length;
  if (n === 0) throw invalidParameter(field, 'cannot impute a column that is entirely missing');
  if (step.strategy === 'median') {
    const mid = n >> 1;
    return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }
  // most_frequent: the first longest run of the sorted values is the smallest value among ties.
  let best = sorted[0] as number;
  let bestRun = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    if (j - i > bestRun) {
      bestRun = j - i;
      best = sorted[i] as number;
    }
    i = j;
  }
  return best;
}

function hasMissing(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i] as number)) return true;
  return false;
}

function indicatorOf(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number.isNaN(values[i] as number) ? 1 : 0;
  return out;
}

/** Fits imputation on numeric columns; see {@link ImputeStep}. */
export function fitImputeNumeric(step: ImputeStep, block: NumericBlock, field: string): FittedImpute {
  return {
    kind: 'impute',
    fill: block.columns.map((values) => numericFill(step, values, field)),
    indicator: block.columns.map((values) => step.addIndicator === true && hasMissing(values)),
  };
}

/** Fills NaN in each column; indicator columns (before filling) come back separately. */
export function applyImputeNumeric(
  fitted: FittedImpute,
  block: NumericBlock,
): { out: NumericBlock; indicators: NumericBlock } {
  const indicators: NumericBlock = { kind: 'numeric', columns: [], names: [] };
  const columns = block.columns.map((values, c) => {
    if (fitted.indicator[c]) {
      indicators.columns.push(indicatorOf(values));
      indicators.names.push(`${block.names[c]}.missing`);
    }
    const fill = fitted.fill[c] as number;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      out[i] = Number.isNaN(v) ? fill : v;
    }
    return out;
  });
  return { out: { kind: 'numeric', columns, names: block.names }, indicators };
}

/** Fits imputation on a categorical column: `most_frequent` or `constant` only. */
export function fitImputeCategorical(step: ImputeStep, block: CategoricalBlock, field: string): FittedImpute {
  let fill: string;
  if (step.strategy === 'constant') {
    if (typeof step.fillValue === 'number') {
      throw invalidParameter(`${field}.fillValue`, 'must be a string for a categorical column', step.fillValue);
    }
    fill = step.fillValue ?? DEFAULT_CATEGORY_FILL;
  } else if (step.strategy === 'most_frequent') {
    const { categories, counts } = countCategories(block);
    let best = -1;
    categories.forEach((c, i) => {
      // Sorted categories: the first of the largest count is the smallest string among ties.
      if (c !== null && (best < 0 || (counts[i] as number) > (counts[best] as number))) best = i;
    });
    if (best < 0) throw invalidParameter(field, 'cannot impute a column that is entirely missing');
    fill = categories[best] as string;
  } else {
    throw invalidParameter(`${field}.strategy`, `'${step.strategy}' needs a numeric column; this one is categorical`);
  }
  let missing = false;
  for (let i = 0; i < block.codes.length && !missing; i++) missing = (block.codes[i] as number) < 0;
  return { kind: 'impute', fill: [fill], indicator: [step.addIndicator === true && missing] };
}

/** Replaces missing codes by the fill category, adding it to the dictionary when it is new. */
export function applyImputeCategorical(
  fitted: FittedImpute,
  block: CategoricalBlock,
  name: string,
): { out: CategoricalBlock; indicators: NumericBlock } {
  const fill = fitted.fill[0] as string;
  let dictionary = block.dictionary;
  let fillCode = dictionary.indexOf(fill);
  if (fillCode < 0) {
    dictionary = [...dictionary, fill];
    fillCode = dictionary.length - 1;
  }
  const { codes } = block;
  const out = new Int32Array(codes.length);
  const indicators: NumericBlock = { kind: 'numeric', columns: [], names: [] };
  const indicator = fitted.indicator[0] ? new Float64Array(codes.length) : undefined;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    if (c < 0) {
      out[i] = fillCode;
      if (indicator) indicator[i] = 1;
    } else out[i] = c;
  }
  if (indicator) {
    indicators.columns.push(indicator);
    indicators.names.push(`${name}.missing`);
  }
  return { out: { kind: 'categorical', codes: out, dictionary }, indicators };
}
