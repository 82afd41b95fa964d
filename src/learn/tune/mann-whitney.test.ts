import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../random.js';
import { assertInvalid } from '../testing/assert.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { type Alternative, mannWhitneyU } from './mann-whitney.js';

describe('mannWhitneyU against scipy.stats.mannwhitneyu (asymptotic)', { skip: pythonSkip(['scipy']) }, () => {
  it('gives the same U and p-values, with ties, for all three alternatives', () => {
    const rng = createRng(5);
    const samples = [
      [Array.from({ length: 20 }, () => rng()), Array.from({ length: 20 }, () => rng() + 0.3)],
      [
        Array.from({ length: 12 }, () => Math.round(rng() * 4)),
        Array.from({ length: 17 }, () => Math.round(rng() * 5)),
      ],
      [Array.from({ length: 30 }, () => rng() * 10), Array.from({ length: 9 }, () => rng() * 9)],
    ];
    const alternatives: Alternative[] = ['greater', 'less', 'two-sided'];
    const expected = runPython<[number, number][][]>(
      `
import json, sys
from scipy.stats import mannwhitneyu
d = json.load(sys.stdin)
print(json.dumps([[[float(v) for v in mannwhitneyu(x, y, alternative=a, method='asymptotic')] for a in d['alts']]
                  for x, y in d['samples']]))`,
      { samples, alts: alternatives },
    );
    samples.forEach(([x, y], i) => {
      alternatives.forEach((alternative, j) => {
        const { u, p } = mannWhitneyU(x as number[], y as number[], alternative);
        const [eu, ep] = (expected[i] as [number, number][])[j] as [number, number];
        assert.ok(Math.abs(u - eu) < 1e-9, `U ${u} vs ${eu}`);
        assert.ok(Math.abs(p - ep) < 1e-9, `p ${p} vs ${ep} (${alternative}, sample ${i})`);
      });
    });
  });
});

describe('mannWhitneyU', () => {
  it('finds a clear shift significant and identical samples not', () => {
    const low = Array.from({ length: 15 }, (_, i) => i);
    const high = low.map((v) => v + 20);
    assert.ok(mannWhitneyU(high, low, 'greater').p < 0.001);
    assert.ok(mannWhitneyU(high, low, 'less').p > 0.999);
    assert.equal(mannWhitneyU([1, 1, 1], [1, 1, 1], 'greater').p, 1);
  });

  it('rejects empty samples and NaN, naming the sample', () => {
    assertInvalid(() => mannWhitneyU([], [1], 'less'), 'x');
    assertInvalid(() => mannWhitneyU([1], [Number.NaN], 'less'), 'y');
  });
});
