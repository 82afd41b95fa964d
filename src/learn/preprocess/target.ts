import { invalidParameter, KilnError } from '../../core/index.js';
import { kFold, type Split, stratifiedKFold } from '../cv.js';
import {
  type CategoricalBlock,
  type Category,
  categoryLookup,
  categoryPositions,
  countCategories,
  type NumericBlock,
} from './block.js';
import type { TargetStep } from './spec.js';

/** Fitted target encoding on the full training data; `mean` is used for unknown categories. */
export interface FittedTarget {
  kind: 'target';
  categories: Category[];
  encodings: number[];
  mean: number;
}

/** The numeric target a pipeline with target encoding is fitted with; `binary` means every value is 0 or 1. */
export interface TargetValues {
  y: Float64Array;
  binary: boolean;
}

/**
 * Encodings of `nCategories` categories from the rows `rows` (all rows when undefined), as sklearn 1.3's
 * `_fit_encoding_fast_auto_smooth` (smooth 'auto') or `_fit_encoding_fast` (smooth m).
 */
function fitEncoding(
  positions: Int32Array,
  y: Float64Array,
  rows: Int32Array | undefined,
  nCategories: number,
  smooth: 'auto' | number,
): { encodings: Float64Array; mean: number } {
  const n = rows ? rows.length : positions.length;
  const row = rows ? (i: number) => rows[i] as number : (i: number) => i;
  let total = 0;
  for (let i = 0; i < n; i++) total += y[row(i)] as number;
  const mean = total / n;
  const sums = new Float64Array(nCategories);
  const counts = new Float64Array(nCategories);
  for (let i = 0; i < n; i++) {
    const r = row(i);
    const p = positions[r] as number;
    sums[p] = (sums[p] as number) + (y[r] as number);
    counts[p] = (counts[p] as number) + 1;
  }
  const encodings = new Float64Array(nCategories);
  if (smooth !== 'auto') {
    for (let c = 0; c < nCategories; c++) {
      const denominator = (counts[c] as number) + smooth;
      encodings[c] = denominator === 0 ? mean : ((sums[c] as number) + smooth * mean) / denominator;
    }
    return { encodings, mean };
  }
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = (y[row(i)] as number) - mean;
    squares += d * d;
  }
  const variance = squares / n;
  const categoryMeans = Float64Array.from(sums, (s, c) => s / (counts[c] as number));
  const squaredDiffs = new Float64Array(nCategories);
  for (let i = 0; i < n; i++) {
    const r = row(i);
    const p = positions[r] as number;
    const d = (y[r] as number) - (categoryMeans[p] as number);
    squaredDiffs[p] = (squaredDiffs[p] as number) + d * d;
  }
  for (let c = 0; c < nCategories; c++) {
    const count = counts[c] as number;
    const lambda = (variance * count) / (variance * count + (squaredDiffs[c] as number) / count);
    // NaN when the category is absent from these rows, or when both variances are 0.
    encodings[c] = Number.isNaN(lambda) ? mean : lambda * (categoryMeans[c] as number) + (1 - lambda) * mean;
  }
  return { encodings, mean };
}

function folds(target: TargetValues, k: number, seed: number, field: string): Split[] {
  const n = target.y.length;
  if (k > n) throw invalidParameter(`${field}.folds`, `${k} folds need at least ${k} rows, got ${n}`);
  try {
    return target.binary
      ? [...stratifiedKFold(Int32Array.from(target.y), k, { shuffle: true, seed })]
      : [...kFold(n, k, { shuffle: true, seed })];
  } catch (error) {
    if (error instanceof KilnError) throw invalidParameter(`${field}.folds`, error.message);
    throw error;
  }
}

/**
 * Fits target encoding on all rows and returns, for those same rows, the out-of-fold encodings:
 * each fold's rows are encoded by an encoding fitted on the other folds only.
 */
export function fitTarget(
  step: TargetStep,
  block: CategoricalBlock,
  target: TargetValues,
  name: string,
  field: string,
): { fitted: FittedTarget; outOfFold: NumericBlock } {
  const smooth = step.smooth ?? 'auto';
  const { categories } = countCategories(block);
  const positions = categoryPositions(block, categoryLookup(categories, block.dictionary));
  const full = fitEncoding(positions, target.y, undefined, categories.length, smooth);
  const out = new Float64Array(positions.length);
  for (const { train, test } of folds(target, step.folds ?? 5, step.seed ?? 0, field)) {
    const { encodings } = fitEncoding(positions, target.y, train, categories.length, smooth);
    for (let i = 0; i < test.length; i++) {
      const r = test[i] as number;
      out[r] = encodings[positions[r] as number] as number;
    }
  }
  return {
    fitted: { kind: 'target', categories, encodings: Array.from(full.encodings), mean: full.mean },
    outOfFold: { kind: 'numeric', columns: [out], names: [name] },
  };
}

/** Applies the full-data encoding; unknown categories (and missing, if unseen at fit) get the target mean. */
export function applyTarget(fitted: FittedTarget, block: CategoricalBlock, name: string): NumericBlock {
  const positions = categoryPositions(block, categoryLookup(fitted.categories, block.dictionary));
  const out = new Float64Array(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i] as number;
    out[i] = p < 0 ? fitted.mean : (fitted.encodings[p] as number);
  }
  return { kind: 'numeric', columns: [out], names: [name] };
}
