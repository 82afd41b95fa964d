import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { fitLinearRegression, type LinearPenalty, type LinearRegressionOptions, predictLinear } from './linear.js';
import { fromRows, type Matrix } from './matrix.js';
import { assertInvalid } from './testing/assert.js';
import { pythonSkip, runPython } from './testing/python.js';
import { PENGUINS_JSON } from './testing/vega.js';

/** Penguins with all three beak / flipper measurements and body mass, features standardised. */
function penguinsRegression(): { X: Matrix; y: Float64Array } {
  const records = JSON.parse(readFileSync(PENGUINS_JSON, 'utf8')) as Record<string, number | string | null>[];
  const features = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)'];
  const rows = records.filter((r) => [...features, 'Body Mass (g)'].every((f) => typeof r[f] === 'number'));
  const X = fromRows(
    rows.map((r) => features.map((f) => r[f] as number)),
    features,
  );
  standardise(X);
  return { X, y: Float64Array.from(rows, (r) => r['Body Mass (g)'] as number) };
}

/** Zero mean, unit (population) standard deviation per column, as sklearn's StandardScaler. */
function standardise(X: Matrix): void {
  for (let c = 0; c < X.cols; c++) {
    let mean = 0;
    for (let r = 0; r < X.rows; r++) mean += X.data[r * X.cols + c] as number;
    mean /= X.rows;
    let variance = 0;
    for (let r = 0; r < X.rows; r++) variance += ((X.data[r * X.cols + c] as number) - mean) ** 2;
    const sd = Math.sqrt(variance / X.rows);
    for (let r = 0; r < X.rows; r++) X.data[r * X.cols + c] = ((X.data[r * X.cols + c] as number) - mean) / sd;
  }
}

function matrixFrom(rows: number[][]): Matrix {
  return fromRows(rows);
}

/** max |a − b| ≤ tol · max(|b|∞, floor): relative to the size of the reference vector. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string, floor = 0) {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] as number));
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs((actual[i] as number) - (expected[i] as number));
    assert.ok(
      diff <= tol * scale,
      `${label}[${i}]: ${actual[i]} vs ${expected[i]} (diff ${diff}, allowed ${tol * scale})`,
    );
  }
}

interface Reference {
  coef: number[];
  intercept: number;
  predictions: number[];
}

const SKLEARN_LINEAR = `
import json, sys
import numpy as np
from sklearn.linear_model import LinearRegression, Ridge, Lasso, ElasticNet
from sklearn.datasets import make_regression
req = json.load(sys.stdin)
if 'generate' in req:
    X, y = make_regression(**req['generate'])
else:
    X, y = np.array(req['X']), np.array(req['y'])
out = {'X': X.tolist(), 'y': y.tolist(), 'fits': []}
for spec in req['fits']:
    pen, fi = spec['penalty'], spec.get('fitIntercept', True)
    if pen == 'none':
        m = LinearRegression(fit_intercept=fi)
    elif pen == 'l2':
        m = Ridge(alpha=spec['alpha'], fit_intercept=fi, solver='cholesky')
    elif pen == 'l1':
        m = Lasso(alpha=spec['alpha'], fit_intercept=fi, tol=1e-12, max_iter=1000000)
    else:
        m = ElasticNet(alpha=spec['alpha'], l1_ratio=spec['l1Ratio'], fit_intercept=fi, tol=1e-12, max_iter=1000000)
    m.fit(X, y)
    out['fits'].append({'coef': m.coef_.tolist(), 'intercept': float(m.intercept_), 'predictions': m.predict(X).tolist()})
print(json.dumps(out))
`;

const FITS: (LinearRegressionOptions & { penalty: LinearPenalty })[] = [
  { penalty: 'none' },
  { penalty: 'l2', alpha: 10 },
  { penalty: 'l1', alpha: 2 },
  { penalty: 'elasticnet', alpha: 0.5, l1Ratio: 0.3 },
  { penalty: 'l1', alpha: 5, fitIntercept: false },
];

function compareFits(X: Matrix, y: Float64Array, fits: Reference[]): void {
  FITS.forEach((spec, i) => {
    const ref = fits[i] as Reference;
    const label = `${spec.penalty} ${JSON.stringify(spec)}`;
    const model = fitLinearRegression(X, y, { ...spec, tol: 1e-12, maxIter: 100_000 });
    assert.ok(model.converged, `${label}: converged`);
    assertClose(model.coef, ref.coef, 1e-4, `${label} coef`);
    assertClose([model.intercept], [ref.intercept], 1e-4, `${label} intercept`, 1);
    assertClose(predictLinear(model, X), ref.predictions, 1e-5, `${label} predictions`);
    assert.deepEqual(
      Array.from(model.coef, (c) => c === 0),
      ref.coef.map((c) => c === 0),
      `${label}: zero pattern`,
    );
  });
}

describe('linear regression vs sklearn 1.2', { skip: pythonSkip(['sklearn']) }, () => {
  it('matches LinearRegression, Ridge, Lasso and ElasticNet on penguins body mass', () => {
    const { X, y } = penguinsRegression();
    assert.equal(X.rows, 342);
    const ref = runPython<{ fits: Reference[] }>(SKLEARN_LINEAR, { X: toRows(X), y: Array.from(y), fits: FITS });
    compareFits(X, y, ref.fits);
  });

  let generated: { X: number[][]; y: number[]; fits: Reference[] };
  before(() => {
    generated = runPython(SKLEARN_LINEAR, {
      generate: { n_samples: 300, n_features: 12, n_informative: 6, noise: 20, bias: 7.5, random_state: 3 },
      fits: FITS,
    });
  });

  it('matches them on make_regression data, lasso zeroing the uninformative columns', () => {
    const X = matrixFrom(generated.X);
    const y = Float64Array.from(generated.y);
    compareFits(X, y, generated.fits);
    const lasso = generated.fits[2] as Reference;
    assert.ok(
      lasso.coef.some((c) => c === 0),
      'the lasso reference has exact zeros, so the zero pattern check means something',
    );
  });
});

function toRows(X: Matrix): number[][] {
  return Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols)));
}

describe('linear regression, closed-form answers', () => {
  // y = 3 − 2·x0 + 0.5·x1 + 4·x2 exactly.
  const X = matrixFrom([
    [1, 0, 2],
    [2, 1, 0],
    [0, 3, 1],
    [4, 1, 1],
    [3, 5, 2],
    [1, 1, 7],
  ]);
  const truth = [-2, 0.5, 4];
  const y = Float64Array.from(toRows(X), (row) => 3 + row.reduce((s, v, j) => s + v * (truth[j] as number), 0));

  it('ordinary least squares recovers exactly linear coefficients and intercept', () => {
    const model = fitLinearRegression(X, y);
    assertClose(model.coef, truth, 1e-12, 'coef');
    assert.ok(Math.abs(model.intercept - 3) < 1e-12, `intercept ${model.intercept}`);
    assertClose(predictLinear(model, X), y, 1e-12, 'predictions');
    assert.equal(model.kind, 'linear-regression');
  });

  it('coordinate descent with a tiny penalty gets the same answer', () => {
    const model = fitLinearRegression(X, y, { penalty: 'elasticnet', alpha: 1e-10, tol: 1e-14, maxIter: 100_000 });
    assertClose(model.coef, truth, 1e-6, 'coef');
  });

  it('without an intercept fits through the origin', () => {
    const y0 = Float64Array.from(y, (v) => v - 3);
    const model = fitLinearRegression(X, y0, { fitIntercept: false });
    assert.equal(model.intercept, 0);
    assertClose(model.coef, truth, 1e-12, 'coef');
  });

  it('ridge shrinks towards zero and a huge lasso alpha zeroes every weight', () => {
    const ridge = fitLinearRegression(X, y, { penalty: 'l2', alpha: 5 });
    const norm = (w: Float64Array) => Math.hypot(...w);
    assert.ok(norm(ridge.coef) < Math.hypot(...truth));
    const lasso = fitLinearRegression(X, y, { penalty: 'l1', alpha: 1e6 });
    assert.deepEqual(Array.from(lasso.coef), [0, 0, 0]);
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    assert.ok(Math.abs(lasso.intercept - mean) < 1e-12);
  });

  it('is a plain JSON object once the typed array is converted', () => {
    const model = fitLinearRegression(X, y);
    const json = JSON.parse(JSON.stringify({ ...model, coef: Array.from(model.coef) }));
    const back = { ...json, coef: Float64Array.from(json.coef) };
    assert.deepEqual(predictLinear(back, X), predictLinear(model, X));
  });
});

describe('linear regression, bad input', () => {
  const X = matrixFrom([
    [1, 2],
    [2, 1],
    [3, 4],
  ]);
  const y = Float64Array.from([1, 2, 3]);
  const rejects = assertInvalid;

  it('refuses NaN in X, naming the cell', () => {
    const bad = matrixFrom([
      [1, 2],
      [2, Number.NaN],
      [3, 4],
    ]);
    rejects(() => fitLinearRegression(bad, y), 'X', /NaN at row 1, column x1/);
  });

  it('refuses NaN in y, a length mismatch and a non-Float64Array target', () => {
    rejects(() => fitLinearRegression(X, Float64Array.from([1, Number.NaN, 3])), 'y', /NaN at row 1/);
    rejects(() => fitLinearRegression(X, Float64Array.from([1, 2])), 'y', /2 values but X has 3 rows/);
    rejects(() => fitLinearRegression(X, [1, 2, 3] as unknown as Float64Array), 'y', /Float64Array/);
  });

  it('refuses bad parameters', () => {
    rejects(() => fitLinearRegression(X, y, { penalty: 'l2', alpha: -1 }), 'alpha', />= 0/);
    rejects(() => fitLinearRegression(X, y, { penalty: 'elasticnet', l1Ratio: 1.5 }), 'l1Ratio', /\[0, 1\]/);
    rejects(() => fitLinearRegression(X, y, { penalty: 'l3' as LinearPenalty }), 'penalty', /l3/);
    rejects(() => fitLinearRegression(X, y, { maxIter: 0 }), 'maxIter', />= 1/);
  });

  it('refuses collinear columns for least squares but fits them with ridge', () => {
    const collinear = matrixFrom([
      [1, 2],
      [2, 4],
      [3, 6],
    ]);
    rejects(() => fitLinearRegression(collinear, y), 'X', /rank deficient.*column x1/);
    assert.ok(Number.isFinite(fitLinearRegression(collinear, y, { penalty: 'l2', alpha: 1 }).coef[0]));
  });

  it('refuses a prediction matrix of the wrong width', () => {
    const model = fitLinearRegression(X, y);
    rejects(() => predictLinear(model, matrixFrom([[1, 2, 3]])), 'X', /3 columns but the model was fitted on 2/);
  });
});
