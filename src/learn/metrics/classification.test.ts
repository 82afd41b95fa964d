import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRng } from '../random.js';
import { assertInvalid } from '../testing/assert.js';
import { pythonSkip, runPython } from '../testing/python.js';
import {
  accuracy,
  brierScore,
  calibrationCurve,
  classScores,
  confusionMatrix,
  f1Score,
  logLoss,
  precisionScore,
  recallScore,
} from './classification.js';

function assertClose(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9, `${message ?? ''} ${actual} vs ${expected}`);
}

function assertAllClose(actual: ArrayLike<number>, expected: readonly number[], message?: string): void {
  assert.equal(actual.length, expected.length, `${message ?? ''} length`);
  for (let i = 0; i < expected.length; i++) assertClose(actual[i] as number, expected[i] as number, `${message}[${i}]`);
}

/**
 * Seeded binary and 4-class data: probabilities rounded to 2 decimals (ties, exact 0 and 1, values on
 * calibration bin edges), predictions by threshold / argmax with class 3 never predicted.
 */
function makeData() {
  const rng = createRng(2024);
  const n = 400;
  const yBinary = new Int32Array(n);
  const pBinary = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    yBinary[i] = rng() < 0.35 ? 1 : 0;
    pBinary[i] = Math.min(1, Math.max(0, Math.round((0.35 * (yBinary[i] as number) + 0.8 * rng() - 0.05) * 100) / 100));
  }
  pBinary.set([0, 1, 0.2, 0.4, 0.6, 0.8, 0.3, 0.7], 0);
  const predBinary = Int32Array.from(pBinary, (p) => (p >= 0.5 ? 1 : 0));
  const k = 4;
  const m = 300;
  const yMulti = new Int32Array(m);
  const pMulti = new Float64Array(m * k);
  const predMulti = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const u = rng();
    const label = u < 0.4 ? 0 : u < 0.7 ? 1 : u < 0.9 ? 2 : 3;
    yMulti[r] = label;
    let sum = 0;
    let best = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(2 * rng() + (c === label ? 1.2 : 0));
      pMulti[r * k + c] = e;
      sum += e;
      if (e > (pMulti[r * k + best] as number)) best = c;
    }
    for (let c = 0; c < k; c++) pMulti[r * k + c] = (pMulti[r * k + c] as number) / sum;
    predMulti[r] = best === 3 ? 2 : best;
  }
  return { yBinary, pBinary, predBinary, k, yMulti, pMulti, predMulti };
}

describe('classification metrics, closed form', () => {
  it('accuracy and the confusion matrix count hits and (true, predicted) pairs', () => {
    assert.equal(accuracy([0, 1, 2, 1], [0, 2, 2, 1]), 0.75);
    assert.equal(accuracy(Int32Array.from([1, 1]), Float64Array.from([1, 1])), 1);
    assert.deepEqual(confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2]), [
      [1, 0, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    assert.deepEqual(confusionMatrix([0, 1], [0, 0], 3), [
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('precision, recall and F1 per class and averaged', () => {
    // class 1: 2 predicted, 1 right; 3 true, 1 found.
    const yTrue = [1, 1, 1, 0, 0, 0];
    const yPred = [1, 0, 0, 1, 0, 0];
    assert.equal(precisionScore(yTrue, yPred), 0.5);
    assertClose(recallScore(yTrue, yPred), 1 / 3);
    assertClose(f1Score(yTrue, yPred), 0.4);
    const scores = classScores([0, 1, 2, 1], [0, 2, 2, 1]);
    assert.deepEqual([...scores.precision], [1, 1, 0.5]);
    assert.deepEqual([...scores.recall], [1, 0.5, 1]);
    assert.deepEqual([...scores.support], [1, 2, 1]);
    assertClose(precisionScore([0, 1, 2, 1], [0, 2, 2, 1], 'macro'), 2.5 / 3);
    assertClose(recallScore([0, 1, 2, 1], [0, 2, 2, 1], 'weighted'), 0.75);
    // A class absent from both yTrue and yPred does not dilute the macro average.
    assert.equal(precisionScore([0, 2], [0, 2], 'macro'), 1);
    // No predicted positives: precision is 0, as sklearn's zero_division default.
    assert.equal(precisionScore([0, 1], [0, 0]), 0);
  });

  it('log loss of certain right answers is ~0 and of coin flips is log 2', () => {
    assertClose(logLoss([0, 1], [0, 1]), 0);
    assertClose(logLoss([0, 1, 1], [0.5, 0.5, 0.5]), Math.LN2);
    assertClose(logLoss([2, 0], [0.25, 0.25, 0.5, 0.5, 0.25, 0.25]), Math.LN2);
    // Clipping bounds a confidently wrong answer by −log(eps).
    assertClose(logLoss([1], [0], { eps: 1e-15 }), -Math.log(1e-15));
  });

  it('Brier score and a calibration curve of a perfect forecaster', () => {
    assert.equal(brierScore([0, 1, 1], [0, 1, 1]), 0);
    assert.equal(brierScore([0, 1], [1, 0]), 1);
    const curve = calibrationCurve([0, 0, 1, 1, 1, 0, 1, 1], [0, 0, 1, 1, 0.5, 0.5, 0.5, 0.5], 3);
    assert.deepEqual([...curve.fractionPositive], [0, 0.75, 1]);
    assert.deepEqual([...curve.meanPredicted], [0, 0.5, 1]);
    assert.deepEqual([...curve.count], [2, 4, 2]);
    // A probability on an inner edge belongs to the lower bin.
    assert.deepEqual([...calibrationCurve([1, 0], [0.5, 0.9], 2).count], [1, 1]);
    assert.deepEqual([...calibrationCurve([1, 0], [0.5, 0.5], 2).meanPredicted], [0.5]);
  });

  it('rejects mismatched, empty, NaN and out-of-range inputs, naming the field', () => {
    assertInvalid(() => accuracy([0, 1], [0]), 'yPred');
    assertInvalid(() => accuracy([], []), 'yTrue');
    assertInvalid(() => accuracy([0, Number.NaN], [0, 1]), 'yTrue');
    assertInvalid(() => f1Score([0, 1.5], [0, 1], 'macro'), 'yTrue');
    assertInvalid(() => precisionScore([0, 2], [0, 1]), 'yTrue');
    assertInvalid(() => recallScore([0, 1], [0, 1], 'micro' as 'macro'), 'average');
    assertInvalid(() => confusionMatrix([0, 3], [0, 1], 3), 'yTrue');
    assertInvalid(() => logLoss([0, 1], [0.5, 0.5, 0.5]), 'probabilities');
    assertInvalid(() => logLoss([0, 3], [0.5, 0.5, 0.5, 0.5]), 'yTrue');
    assertInvalid(() => logLoss([0, 1], [0.5, Number.NaN]), 'probabilities');
    assertInvalid(() => brierScore([0, 1], [0.5, 1.2]), 'probabilities');
    assertInvalid(() => brierScore([0, 2], [0.5, 0.5]), 'yTrue');
    assertInvalid(() => calibrationCurve([0, 1], [0.5, 0.5], 0), 'bins');
    assertInvalid(() => calibrationCurve([0, 1], [0.5], 2), 'probabilities');
  });
});

describe('classification metrics vs sklearn 1.2', { skip: pythonSkip(['sklearn']) }, () => {
  const SCRIPT = `
import json, sys
import numpy as np
from sklearn import metrics as M
from sklearn.calibration import calibration_curve
d = json.load(sys.stdin)
k = d['k']
yb, pb, qb = np.array(d['yBinary']), np.array(d['pBinary']), np.array(d['predBinary'])
ym, pm, qm = np.array(d['yMulti']), np.array(d['pMulti']).reshape(-1, k), np.array(d['predMulti'])
out = {
  'accuracy': [M.accuracy_score(yb, qb), M.accuracy_score(ym, qm)],
  'confusion': M.confusion_matrix(ym, qm, labels=list(range(k))).tolist(),
  'binary': {f.__name__: f(yb, qb) for f in (M.precision_score, M.recall_score, M.f1_score)},
  'perClass': [a.tolist() for a in M.precision_recall_fscore_support(ym, qm, labels=list(range(k)), zero_division=0)],
  'logLoss': [M.log_loss(yb, pb, labels=[0, 1]), M.log_loss(yb, pb, eps=1e-15, labels=[0, 1]),
              M.log_loss(ym, pm, labels=list(range(k)))],
  'brier': M.brier_score_loss(yb, pb),
  'calibration': {str(b): [a.tolist() for a in calibration_curve(yb, pb, n_bins=b)] for b in (5, 10, 7)},
}
for avg in ('macro', 'weighted'):
  for name, y, q in (('binary', yb, qb), ('multi', ym, qm)):
    out[avg + '_' + name] = list(M.precision_recall_fscore_support(y, q, average=avg, zero_division=0)[:3])
print(json.dumps(out))
`;
  type Reference = {
    accuracy: number[];
    confusion: number[][];
    binary: Record<'precision_score' | 'recall_score' | 'f1_score', number>;
    perClass: number[][];
    logLoss: number[];
    brier: number;
    calibration: Record<string, number[][]>;
  } & Record<`${'macro' | 'weighted'}_${'binary' | 'multi'}`, number[]>;
  const data = makeData();
  let ref: Reference;
  before(() => {
    ref = runPython(SCRIPT, {
      k: data.k,
      yBinary: [...data.yBinary],
      pBinary: [...data.pBinary],
      predBinary: [...data.predBinary],
      yMulti: [...data.yMulti],
      pMulti: [...data.pMulti],
      predMulti: [...data.predMulti],
    });
  });

  it('accuracy and confusion matrix', () => {
    assertClose(accuracy(data.yBinary, data.predBinary), ref.accuracy[0] as number);
    assertClose(accuracy(data.yMulti, data.predMulti), ref.accuracy[1] as number);
    assert.deepEqual(confusionMatrix(data.yMulti, data.predMulti, data.k), ref.confusion);
  });

  it('precision, recall and F1: binary, per class, macro and weighted', () => {
    assertClose(precisionScore(data.yBinary, data.predBinary), ref.binary.precision_score);
    assertClose(recallScore(data.yBinary, data.predBinary), ref.binary.recall_score);
    assertClose(f1Score(data.yBinary, data.predBinary), ref.binary.f1_score);
    const scores = classScores(data.yMulti, data.predMulti);
    assertAllClose(scores.precision, ref.perClass[0] as number[], 'precision');
    assertAllClose(scores.recall, ref.perClass[1] as number[], 'recall');
    assertAllClose(scores.f1, ref.perClass[2] as number[], 'f1');
    assert.deepEqual([...scores.support], ref.perClass[3]);
    for (const average of ['macro', 'weighted'] as const) {
      for (const [name, y, q] of [
        ['binary', data.yBinary, data.predBinary],
        ['multi', data.yMulti, data.predMulti],
      ] as const) {
        const expected = ref[`${average}_${name}`];
        assertClose(precisionScore(y, q, average), expected[0] as number, `${average} ${name} precision`);
        assertClose(recallScore(y, q, average), expected[1] as number, `${average} ${name} recall`);
        assertClose(f1Score(y, q, average), expected[2] as number, `${average} ${name} f1`);
      }
    }
  });

  it('log loss, binary (with 0 and 1 clipped) and multiclass', () => {
    assertClose(logLoss(data.yBinary, data.pBinary), ref.logLoss[0] as number);
    assertClose(logLoss(data.yBinary, data.pBinary, { eps: 1e-15 }), ref.logLoss[1] as number);
    assertClose(logLoss(data.yMulti, data.pMulti), ref.logLoss[2] as number);
  });

  it('Brier score', () => {
    assertClose(brierScore(data.yBinary, data.pBinary), ref.brier);
  });

  it('calibration curve, probabilities on bin edges included', () => {
    for (const bins of [5, 10, 7]) {
      const curve = calibrationCurve(data.yBinary, data.pBinary, bins);
      const [fraction, mean] = ref.calibration[String(bins)] as number[][];
      assertAllClose(curve.fractionPositive, fraction as number[], `${bins} bins fraction`);
      assertAllClose(curve.meanPredicted, mean as number[], `${bins} bins mean`);
    }
  });
});
