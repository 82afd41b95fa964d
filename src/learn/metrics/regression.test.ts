import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRng } from '../random.js';
import { assertInvalid } from '../testing/assert.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { mae, mape, r2, rmse } from './regression.js';

function assertClose(actual: number, expected: number, message?: string): void {
  const tolerance = 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${message ?? ''} ${actual} vs ${expected}`);
}

/** Seeded targets (some exactly 0, for MAPE's ε guard) with noisy predictions, and a constant target. */
function makeCases(): { yTrue: Float64Array; yPred: Float64Array }[] {
  const rng = createRng(17);
  const n = 800;
  const yTrue = Float64Array.from({ length: n }, (_, i) => (i % 50 === 0 ? 0 : 100 * (rng() - 0.3)));
  const yPred = Float64Array.from(yTrue, (y) => y + 10 * (rng() - 0.5));
  const constant = new Float64Array(30).fill(4.5);
  return [
    { yTrue, yPred },
    { yTrue: yTrue.filter((y) => y !== 0), yPred: yPred.filter((_, i) => yTrue[i] !== 0) },
    { yTrue: constant, yPred: Float64Array.from(constant, (y) => y + rng()) },
    { yTrue: constant, yPred: constant },
  ];
}

describe('regression metrics, closed form', () => {
  it('a perfect fit scores 0 error and R² 1; predicting the mean scores R² 0', () => {
    const y = [1, 2, 3, 4];
    assert.equal(rmse(y, y), 0);
    assert.equal(mae(y, y), 0);
    assert.equal(mape(y, y), 0);
    assert.equal(r2(y, y), 1);
    assert.equal(r2(y, [2.5, 2.5, 2.5, 2.5]), 0);
    assert.equal(rmse([0, 0], [3, 4]), Math.sqrt(12.5));
    assert.equal(mae([0, 0], [3, -4]), 3.5);
    assert.equal(mape([2, -4], [3, -2]), 0.5);
  });

  it('rejects mismatched, empty and non-finite inputs, naming the field', () => {
    assertInvalid(() => rmse([1, 2], [1]), 'yPred');
    assertInvalid(() => mae([], []), 'yTrue');
    assertInvalid(() => mape([1, Number.NaN], [1, 2]), 'yTrue');
    assertInvalid(() => r2([1, 2], [1, Number.POSITIVE_INFINITY]), 'yPred');
  });
});

describe('regression metrics vs sklearn 1.2', { skip: pythonSkip(['sklearn']) }, () => {
  const SCRIPT = `
import json, sys
from sklearn import metrics as M
cases = json.load(sys.stdin)
print(json.dumps([[M.mean_squared_error(c['t'], c['p'], squared=False), M.mean_absolute_error(c['t'], c['p']),
                   M.mean_absolute_percentage_error(c['t'], c['p']), M.r2_score(c['t'], c['p'])] for c in cases]))
`;
  const cases = makeCases();
  let ref: number[][];
  before(() => {
    ref = runPython(
      SCRIPT,
      cases.map(({ yTrue, yPred }) => ({ t: [...yTrue], p: [...yPred] })),
    );
  });

  it('RMSE, MAE, MAPE (zeros in the target included) and R² (constant target included)', () => {
    cases.forEach(({ yTrue, yPred }, i) => {
      const [expectedRmse, expectedMae, expectedMape, expectedR2] = ref[i] as number[];
      assertClose(rmse(yTrue, yPred), expectedRmse as number, `case ${i} rmse`);
      assertClose(mae(yTrue, yPred), expectedMae as number, `case ${i} mae`);
      assertClose(mape(yTrue, yPred), expectedMape as number, `case ${i} mape`);
      assertClose(r2(yTrue, yPred), expectedR2 as number, `case ${i} r2`);
    });
  });
});
