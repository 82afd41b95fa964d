import { KilnError } from '../core/index.js';

/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same stream on every machine,
 * so shuffled folds, bagging and subsampling are reproducible from a run's logged `seed` param.
 * Returns a function yielding doubles in [0, 1). Not for cryptography.
 *
 * @example
 * const rng = createRng(42);
 * const u = rng(); // 0 <= u < 1, identical for every run seeded with 42
 */
export function createRng(seed: number): () => number {
  if (!Number.isFinite(seed)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `seed must be a finite number, got ${seed}`, { field: 'seed' });
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles `values` in place (Fisher–Yates) with `rng`, so every permutation is equally likely and a
 * seeded rng gives the same permutation every time. Returns the same array.
 *
 * @example
 * const order = shuffleInPlace(Int32Array.from({ length: 10 }, (_, i) => i), createRng(7));
 */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(values: T, rng: () => number): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = values[i] as number;
    values[i] = values[j] as number;
    values[j] = tmp;
  }
  return values;
}
