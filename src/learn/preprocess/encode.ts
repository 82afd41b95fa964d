import {
  type CategoricalBlock,
  type Category,
  categoryLookup,
  categoryPositions,
  countCategories,
  fromJsonNumber,
  type NumericBlock,
  type OneHotBlock,
} from './block.js';
import type { OneHotStep, OrdinalStep } from './spec.js';

/**
 * Fitted one-hot encoding: one output column per entry of `categories` (null = missing), then one
 * `(other)` column when `infrequent` is non-empty.
 */
export interface FittedOneHot {
  kind: 'onehot';
  categories: Category[];
  infrequent: Category[];
  handleUnknown: 'ignore' | 'infrequent_if_exist';
}

/** Fitted ordinal encoding: category i → i; null stands for NaN in the two fallback values. */
export interface FittedOrdinal {
  kind: 'ordinal';
  categories: string[];
  unknownValue: number | null;
  missingValue: number | null;
}

/** The output name of a one-hot column. */
function oneHotName(name: string, category: Category): string {
  return `${name}=${category === null ? '(missing)' : category}`;
}

/**
 * Positions (in `categories` order) of the infrequent categories, exactly as sklearn 1.2's
 * `OneHotEncoder._identify_infrequent`: below `minFrequency`, then — when more than
 * `maxCategories` outputs would remain — the smallest counts by a stable sort.
 */
function infrequentPositions(counts: readonly number[], rows: number, step: OneHotStep): Set<number> {
  const infrequent = new Set<number>();
  const mf = step.minFrequency;
  if (mf !== undefined) {
    const threshold = mf >= 1 ? mf : rows * mf;
    counts.forEach((n, i) => {
      if (n < threshold) infrequent.add(i);
    });
  }
  const mc = step.maxCategories;
  if (mc !== undefined && mc < counts.length - infrequent.size + 1) {
    const byCount = counts.map((_, i) => i).sort((a, b) => (counts[a] as number) - (counts[b] as number) || a - b);
    for (const i of byCount.slice(0, counts.length - mc + 1)) infrequent.add(i);
  }
  return infrequent;
}

/** Fits one-hot encoding on the categories present in `block`; see {@link OneHotStep}. */
export function fitOneHot(step: OneHotStep, block: CategoricalBlock): FittedOneHot {
  const { categories, counts } = countCategories(block);
  const infrequentAt = infrequentPositions(counts, block.codes.length, step);
  return {
    kind: 'onehot',
    categories: categories.filter((_, i) => !infrequentAt.has(i)),
    infrequent: categories.filter((_, i) => infrequentAt.has(i)),
    handleUnknown: step.handleUnknown ?? 'infrequent_if_exist',
  };
}

/** The output column names of a fitted one-hot step on column `name`. */
export function oneHotNames(fitted: FittedOneHot, name: string): string[] {
  const names = fitted.categories.map((c) => oneHotName(name, c));
  if (fitted.infrequent.length > 0) names.push(`${name}=(other)`);
  return names;
}

/** Applies {@link fitOneHot}'s state, keeping the result as one hot index per row. */
export function applyOneHot(fitted: FittedOneHot, block: CategoricalBlock, name: string): OneHotBlock {
  const other = fitted.infrequent.length > 0 ? fitted.categories.length : -1;
  const all = [...fitted.categories, ...fitted.infrequent];
  const lookup = categoryLookup(all, block.dictionary);
  const unknown = fitted.handleUnknown === 'infrequent_if_exist' ? other : -1;
  const remap = (p: number) => (p < 0 ? unknown : p >= fitted.categories.length ? other : p);
  lookup.byCode = lookup.byCode.map(remap);
  lookup.missing = remap(lookup.missing);
  return { kind: 'onehot', hot: categoryPositions(block, lookup), names: oneHotNames(fitted, name) };
}

/** Fits ordinal encoding on the (non-missing) categories present in `block`, sorted. */
export function fitOrdinal(step: OrdinalStep, block: CategoricalBlock): FittedOrdinal {
  const { categories } = countCategories(block);
  return {
    kind: 'ordinal',
    categories: categories.filter((c): c is string => c !== null),
    unknownValue: step.unknownValue === undefined ? -1 : step.unknownValue,
    missingValue: step.missingValue === undefined ? null : step.missingValue,
  };
}

/** Applies {@link fitOrdinal}'s state: one numeric column named after the input column. */
export function applyOrdinal(fitted: FittedOrdinal, block: CategoricalBlock, name: string): NumericBlock {
  const lookup = categoryLookup(fitted.categories, block.dictionary);
  const unknown = fromJsonNumber(fitted.unknownValue);
  const missing = fromJsonNumber(fitted.missingValue);
  const value = Float64Array.from(lookup.byCode, (p) => (p < 0 ? unknown : p));
  const { codes } = block;
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    out[i] = c < 0 ? missing : (value[c] as number);
  }
  return { kind: 'numeric', columns: [out], names: [name] };
}
