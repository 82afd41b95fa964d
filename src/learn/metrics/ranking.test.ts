import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRng } from '../random.js';
import { assertInvalid } from '../testing/assert.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { averagePrecision, rocAuc } from './ranking.js';

function assertClose(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9, `${message ?? ''} ${actual} vs ${expected}`);
}

/** Seeded binary scores at three tie levels and a rare-positive case, plus 5-class probabilities. */
function makeData() {
  const rng = createRng(99);
  const binary = [2, 1, 0].map((decimals) => {
    const y = new Int32Array(500);
    const s = new Float64Array(500);
    const scale = 10 ** decimals;
    for (let i = 0; i < y.length; i++) {
      y[i] = rng() < 0.4 ? 1 : 0;
      s[i] = Math.round((0.3 * (y[i] as number) + rng()) * scale) / scale;
    }
    return { y, s };
  });
  const rareY = Int32Array.from({ length: 2000 }, () => (rng() < 0.03 ? 1 : 0));
  const rareS = Float64Array.from(rareY, (y) => Math.round((y + 2 * rng()) * 1000) / 1000 - 5);
  binary.push({ y: rareY, s: rareS });
  const k = 5;
  const m = 600;
  const yMulti = new Int32Array(m);
  const pMulti = new Float64Array(m * k);
  for (let r = 0; r < m; r++) {
    const label = Math.floor(rng() * k);
    yMulti[r] = label;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(Math.round((rng() + (c === label ? 0.8 : 0)) * 10) / 10);
      pMulti[r * k + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) pMulti[r * k + c] = (pMulti[r * k + c] as number) / sum;
  }
  return { binary, k, yMulti, pMulti };
}

describe('ranking metrics, closed form', () => {
  it('ROC AUC is 1 for a perfect ranking, 0 reversed, 0.5 when all scores tie', () => {
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
    assert.equal(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0);
    assert.equal(rocAuc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]), 0.5);
    // One positive tied with one of two negatives: 1.5 of 2 pairs ordered right.
    assert.equal(rocAuc([0, 0, 1], [0.2, 0.5, 0.5]), 0.75);
    assert.equal(rocAuc(Int32Array.from([0, 1, 2]), [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7]), 1);
  });

  it('average precision is 1 for a perfect ranking and the prevalence when all scores tie', () => {
    assert.equal(averagePrecision([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
    assert.equal(averagePrecision([0, 1, 0, 0], [0.3, 0.3, 0.3, 0.3]), 0.25);
    // Ranking 1, 0, 1: precision 1 at recall ½, then 2/3 at recall 1.
    assertClose(averagePrecision([1, 0, 1], [0.9, 0.8, 0.7]), 0.5 + (0.5 * 2) / 3);
  });

  it('rejects one class, mismatched lengths, NaN and non-probability rows, naming the field', () => {
    assertInvalid(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3]), 'yTrue');
    assertInvalid(() => rocAuc([0, 0], [0.1, 0.2]), 'yTrue');
    assertInvalid(() => rocAuc([0, 1, 1], [0.1, 0.2]), 'scores');
    assertInvalid(() => rocAuc([], []), 'yTrue');
    assertInvalid(() => rocAuc([0, Number.NaN], [0.1, 0.2]), 'yTrue');
    assertInvalid(() => rocAuc([0, 1], [0.1, Number.NaN]), 'scores');
    assertInvalid(() => rocAuc([0, 2], [0.1, 0.2]), 'yTrue');
    assertInvalid(() => rocAuc([0, 1], [0.5, 0.6, 0.2, 0.8]), 'scores');
    assertInvalid(() => rocAuc([0, 0, 1], [0.5, 0.3, 0.2, 0.4, 0.4, 0.2, 0.1, 0.1, 0.8]), 'yTrue');
    assertInvalid(() => averagePrecision([0, 0], [0.1, 0.2]), 'yTrue');
    assertInvalid(() => averagePrecision([0, 1], [0.1]), 'scores');
  });
});

describe('ranking metrics vs sklearn 1.2', { skip: pythonSkip(['sklearn']) }, () => {
  const SCRIPT = `
import json, sys
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score
d = json.load(sys.stdin)
pm = np.array(d['pMulti']).reshape(-1, d['k'])
print(json.dumps({
  'auc': [roc_auc_score(b['y'], b['s']) for b in d['binary']],
  'ap': [average_precision_score(b['y'], b['s']) for b in d['binary']],
  'ovr': roc_auc_score(d['yMulti'], pm, multi_class='ovr', average='macro'),
}))
`;
  const data = makeData();
  let ref: { auc: number[]; ap: number[]; ovr: number };
  before(() => {
    ref = runPython(SCRIPT, {
      binary: data.binary.map(({ y, s }) => ({ y: [...y], s: [...s] })),
      k: data.k,
      yMulti: [...data.yMulti],
      pMulti: [...data.pMulti],
    });
  });

  it('binary ROC AUC with ties', () => {
    data.binary.forEach(({ y, s }, i) => {
      assertClose(rocAuc(y, s), ref.auc[i] as number, `case ${i}`);
    });
  });

  it('average precision with ties', () => {
    data.binary.forEach(({ y, s }, i) => {
      assertClose(averagePrecision(y, s), ref.ap[i] as number, `case ${i}`);
    });
  });

  it('one-vs-rest macro ROC AUC from class probabilities', () => {
    assertClose(rocAuc(data.yMulti, data.pMulti), ref.ovr);
  });
});
