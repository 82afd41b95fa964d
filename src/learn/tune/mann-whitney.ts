import { invalidParameter } from '../../core/index.js';
import { erfc } from './normal.js';

/** Which way the one-sided test looks: `greater` asks whether x tends to be larger than y. */
export type Alternative = 'greater' | 'less' | 'two-sided';

export interface MannWhitneyResult {
  /** U of the first sample: the number of (x, y) pairs with x > y, ties counting one half. */
  u: number;
  /** p-value of the normal approximation with tie and continuity corrections. */
  p: number;
}

/**
 * The Mann–Whitney U test (normal approximation, tie-corrected, with continuity correction, as
 * `scipy.stats.mannwhitneyu(x, y, alternative, method='asymptotic')`): how a benchmark decides that
 * one optimiser's best values are not worse than another's without assuming their distribution.
 * Use it for samples of about 10 or more each, where the approximation holds.
 *
 * @example
 * const { p } = mannWhitneyU(kilnBest, optunaBest, 'greater'); // p < 0.05: Kiln's are larger (worse, minimising)
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative): MannWhitneyResult {
  if (x.length === 0) throw invalidParameter('x', 'must not be empty');
  if (y.length === 0) throw invalidParameter('y', 'must not be empty');
  for (const [name, sample] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (sample.some((v) => Number.isNaN(v))) throw invalidParameter(name, 'must not contain NaN');
  }
  const n1 = x.length;
  const n2 = y.length;
  const n = n1 + n2;
  const pooled = [...x.map((v) => [v, 0] as const), ...y.map((v) => [v, 1] as const)].sort((a, b) => a[0] - b[0]);
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && (pooled[j + 1] as readonly [number, number])[0] === (pooled[i] as readonly [number, number])[0])
      j++;
    const rank = (i + j) / 2 + 1;
    const size = j - i + 1;
    tieTerm += size ** 3 - size;
    for (let k = i; k <= j; k++) if ((pooled[k] as readonly [number, number])[1] === 0) rankSumX += rank;
    i = j + 1;
  }
  const u1 = rankSumX - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = (u - mean - 0.5) / sd;
  const tail = 0.5 * erfc(z / Math.SQRT2);
  const p = Math.min(1, Math.max(0, alternative === 'two-sided' ? 2 * tail : tail));
  return { u: u1, p: sd === 0 ? 1 : p };
}
