import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import {
  fitLogisticRegression,
  type LogisticRegressionModel,
  type LogisticRegressionOptions,
  predictLogistic,
  predictLogisticProba,
} from './logistic.js';
import { fromRows, type Matrix } from './matrix.js';
import { assertInvalid } from './testing/assert.js';
import { pythonSkip, runPython } from './testing/python.js';
import { PENGUINS_JSON } from './testing/vega.js';

const SPECIES = ['Adelie', 'Chinstrap', 'Gentoo'];

/** Penguins with all four measurements, standardised; species as class indices 0..2. */
function penguinsSpecies(): { X: Matrix; y: Int32Array } {
  const records = JSON.parse(readFileSync(PENGUINS_JSON, 'utf8')) as Record<string, number | string | null>[];
  const features = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
  const rows = records.filter((r) => features.every((f) => typeof r[f] === 'number'));
  const X = fromRows(
    rows.map((r) => features.map((f) => r[f] as number)),
    features,
  );
  for (let c = 0; c < X.cols; c++) {
    let mean = 0;
    for (let r = 0; r < X.rows; r++) mean += X.data[r * X.cols + c] as number;
    mean /= X.rows;
    let variance = 0;
    for (let r = 0; r < X.rows; r++) variance += ((X.data[r * X.cols + c] as number) - mean) ** 2;
    const sd = Math.sqrt(variance / X.rows);
    for (let r = 0; r < X.rows; r++) X.data[r * X.cols + c] = ((X.data[r * X.cols + c] as number) - mean) / sd;
  }
  return { X, y: Int32Array.from(rows, (r) => SPECIES.indexOf(r['Species'] as string)) };
}

function toRows(X: Matrix): number[][] {
  return Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols)));
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

/** Multinomial intercepts are only defined up to a common shift: compare them centred. */
function centred(values: number[]): number[] {
  if (values.length < 2) return values;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return values.map((v) => v - mean);
}

interface Reference {
  coef: number[];
  intercept: number[];
  proba: number[];
  predictions: number[];
}

interface Spec extends LogisticRegressionOptions {
  label: string;
  /** Allowed relative error of coefficients and intercepts; probabilities get a tenth of it, at most 1e-5. */
  tol: number;
}

/**
 * sklearn's reference: newton-cg at tol 1e-9 for L2 / no penalty (scipy's L-BFGS stops on a relative
 * objective change of 2e-9 there: 7e-5 off on make_classification), saga at tol 1e-8 for L1 / elastic net.
 */
const SKLEARN_LOGISTIC = `
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.datasets import make_classification
req = json.load(sys.stdin)
if 'generate' in req:
    X, y = make_classification(**req['generate'])
else:
    X, y = np.array(req['X']), np.array(req['y'])
out = {'X': X.tolist(), 'y': y.tolist(), 'fits': []}
for spec in req['fits']:
    pen = spec.get('penalty', 'l2')
    cw = spec.get('classWeight')
    if isinstance(cw, dict):
        cw = {int(k): v for k, v in cw.items()}
    kw = dict(C=spec.get('C', 1.0), class_weight=cw, fit_intercept=spec.get('fitIntercept', True))
    if pen in ('l2', 'none'):
        m = LogisticRegression(penalty=pen, solver='newton-cg', tol=1e-9, max_iter=1000, **kw)
    else:
        m = LogisticRegression(penalty=pen, solver='saga', tol=1e-8, max_iter=1000000,
                               l1_ratio=spec.get('l1Ratio', 0.5) if pen == 'elasticnet' else None, **kw)
    m.fit(X, y)
    out['fits'].append({'coef': m.coef_.ravel().tolist(), 'intercept': np.atleast_1d(m.intercept_).tolist(),
                        'proba': m.predict_proba(X).ravel().tolist(), 'predictions': m.predict(X).tolist()})
print(json.dumps(out))
`;

function compare(X: Matrix, y: Int32Array, specs: Spec[], fits: Reference[]): LogisticRegressionModel[] {
  return specs.map((spec, i) => {
    const ref = fits[i] as Reference;
    const { label, tol, ...options } = spec;
    const model = fitLogisticRegression(X, y, { ...options, tol: 1e-10, maxIter: 10_000 });
    assertClose(model.coef, ref.coef, tol, `${label} coef`);
    assertClose(centred(Array.from(model.intercept)), centred(ref.intercept), tol, `${label} intercept`, 1);
    assertClose(predictLogisticProba(model, X).data, ref.proba, Math.min(tol / 10, 1e-5), `${label} proba`, 1);
    const predicted = predictLogistic(model, X);
    const disagreements = ref.predictions.filter((p, r) => p !== predicted[r]).length;
    assert.equal(disagreements, 0, `${label}: predicted classes`);
    if (options.penalty === 'l1' || options.penalty === 'elasticnet') {
      assert.deepEqual(
        Array.from(model.coef, (c) => c === 0),
        ref.coef.map((c) => c === 0),
        `${label}: zero pattern`,
      );
    }
    return model;
  });
}

describe('logistic regression vs sklearn 1.2 on penguins', { skip: pythonSkip(['sklearn']) }, () => {
  const { X, y } = penguinsSpecies();
  const adelie = Int32Array.from(y, (c) => (c === 0 ? 1 : 0));
  const species: Spec[] = [
    { label: 'multinomial L2', tol: 1e-4 },
    { label: 'multinomial L2 C=0.05', C: 0.05, tol: 1e-4 },
    { label: 'multinomial balanced', classWeight: 'balanced', C: 0.5, tol: 1e-4 },
    { label: 'multinomial class weight map', classWeight: { 1: 3, 2: 0.5 }, tol: 1e-4 },
    { label: 'multinomial L1', penalty: 'l1', C: 0.1, tol: 1e-4 },
  ];
  const binary: Spec[] = [
    { label: 'binary L2', tol: 1e-4 },
    { label: 'binary balanced', classWeight: 'balanced', C: 0.2, tol: 1e-4 },
    { label: 'binary no intercept', fitIntercept: false, C: 0.3, tol: 1e-4 },
    { label: 'binary L1', penalty: 'l1', C: 0.05, tol: 1e-4 },
    { label: 'binary elastic net', penalty: 'elasticnet', l1Ratio: 0.6, C: 0.05, tol: 1e-4 },
  ];
  let speciesRef: Reference[];
  let binaryRef: Reference[];
  before(() => {
    speciesRef = runPython<{ fits: Reference[] }>(SKLEARN_LOGISTIC, {
      X: toRows(X),
      y: Array.from(y),
      fits: species,
    }).fits;
    binaryRef = runPython<{ fits: Reference[] }>(SKLEARN_LOGISTIC, {
      X: toRows(X),
      y: Array.from(adelie),
      fits: binary,
    }).fits;
  });

  it('classifies species like sklearn (multinomial: L2, class weights, L1)', () => {
    assert.equal(X.rows, 342);
    const models = compare(X, y, species, speciesRef);
    assert.equal(models[0]?.classes, 3);
    assert.equal(models[0]?.coef.length, 12);
    assert.ok(
      models[4]?.coef.some((c) => c === 0),
      'the L1 fit has exact zeros',
    );
  });

  it('separates Adelie from the rest like sklearn (binary: L2, balanced, no intercept, L1, elastic net)', () => {
    const models = compare(X, adelie, binary, binaryRef);
    assert.equal(models[0]?.coef.length, 4);
    assert.equal(models[0]?.intercept.length, 1);
  });
});

describe('logistic regression vs sklearn 1.2 on make_classification', { skip: pythonSkip(['sklearn']) }, () => {
  const specs: Spec[] = [
    { label: 'L2', C: 0.5, tol: 1e-4 },
    { label: 'balanced', classWeight: 'balanced', tol: 1e-4 },
    { label: 'L1', penalty: 'l1', C: 0.02, tol: 1e-4 },
    { label: 'elastic net', penalty: 'elasticnet', l1Ratio: 0.3, C: 0.05, tol: 1e-4 },
  ];
  const binarySpecs: Spec[] = [...specs, { label: 'no penalty', penalty: 'none', tol: 1e-4 }];
  const generate = (classes: number, weights: number[]) => ({
    n_samples: 400,
    n_features: 10,
    n_informative: 4,
    n_redundant: 2,
    n_classes: classes,
    weights,
    flip_y: 0.05,
    random_state: 7,
  });
  let binary: { X: number[][]; y: number[]; fits: Reference[] };
  let multi: { X: number[][]; y: number[]; fits: Reference[] };
  before(() => {
    binary = runPython(SKLEARN_LOGISTIC, { generate: generate(2, [0.8]), fits: binarySpecs });
    multi = runPython(SKLEARN_LOGISTIC, { generate: generate(4, [0.4, 0.3, 0.2]), fits: specs });
  });

  it('matches on imbalanced binary data, also without a penalty', () => {
    compare(fromRows(binary.X), Int32Array.from(binary.y), binarySpecs, binary.fits);
  });

  it('matches on four classes', () => {
    const models = compare(fromRows(multi.X), Int32Array.from(multi.y), specs, multi.fits);
    assert.equal(models[0]?.classes, 4);
  });
});

describe('logistic regression without Python', () => {
  const X = fromRows([
    [0, 1],
    [1, 0],
    [2, 2],
    [3, 1],
    [1, 2],
    [2, 0],
  ]);
  const y = Int32Array.from([0, 0, 1, 1, 0, 1]);

  it('probabilities sum to one and a stronger penalty pulls them towards the class prior', () => {
    const weak = fitLogisticRegression(X, y, { C: 100 });
    const strong = fitLogisticRegression(X, y, { C: 1e-6 });
    const pw = predictLogisticProba(weak, X);
    const ps = predictLogisticProba(strong, X);
    for (let r = 0; r < X.rows; r++) {
      assert.ok(Math.abs((pw.data[2 * r] as number) + (pw.data[2 * r + 1] as number) - 1) < 1e-15);
      assert.ok(Math.abs((ps.data[2 * r + 1] as number) - 0.5) < 1e-4, 'balanced classes, no signal left');
    }
    assert.deepEqual(Array.from(predictLogistic(weak, X)), Array.from(y));
  });

  it('the gradient vanishes at the fit: mean predicted probability equals the class share', () => {
    // With an unpenalised intercept, Σ (p_i − y_i) = 0 at the optimum.
    const model = fitLogisticRegression(X, Int32Array.from([0, 0, 1, 1, 1, 1]), { C: 0.5, tol: 1e-12 });
    const proba = predictLogisticProba(model, X);
    let sum = 0;
    for (let r = 0; r < X.rows; r++) sum += proba.data[2 * r + 1] as number;
    assert.ok(Math.abs(sum / X.rows - 4 / 6) < 1e-10, `mean p = ${sum / X.rows}`);
  });

  it('a class weight map doubling class 1 equals duplicating its rows', () => {
    const weighted = fitLogisticRegression(X, y, { classWeight: { 1: 2 }, tol: 1e-12 });
    const ones = [2, 3, 5];
    const dup = fromRows([...toRows(X), ...ones.map((r) => toRows(X)[r] as number[])]);
    const duplicated = fitLogisticRegression(dup, Int32Array.from([...y, 1, 1, 1]), { tol: 1e-12 });
    assertClose(weighted.coef, duplicated.coef, 1e-8, 'coef');
    assertClose(weighted.intercept, duplicated.intercept, 1e-8, 'intercept', 1);
  });

  it('is a plain JSON object once the typed arrays are converted', () => {
    const model = fitLogisticRegression(X, y);
    const json = JSON.parse(
      JSON.stringify({ ...model, coef: Array.from(model.coef), intercept: Array.from(model.intercept) }),
    );
    const back = { ...json, coef: Float64Array.from(json.coef), intercept: Float64Array.from(json.intercept) };
    assert.equal(back.kind, 'logistic-regression');
    assert.deepEqual(predictLogisticProba(back, X).data, predictLogisticProba(model, X).data);
  });
});

describe('logistic regression, bad input', () => {
  const X = fromRows([
    [1, 2],
    [2, 1],
    [3, 4],
  ]);
  const y = Int32Array.from([0, 1, 0]);
  const rejects = assertInvalid;

  it('refuses NaN and infinities in X', () => {
    const bad = fromRows([
      [1, 2],
      [Number.POSITIVE_INFINITY, 1],
      [3, 4],
    ]);
    rejects(() => fitLogisticRegression(bad, y), 'X', /Infinity at row 1, column x0/);
    const nan = fromRows([[1, Number.NaN]]);
    rejects(() => fitLogisticRegression(nan, Int32Array.from([0])), 'X', /NaN/);
  });

  it('refuses a single class, missing classes, negative codes and length mismatches in y', () => {
    rejects(() => fitLogisticRegression(X, Int32Array.from([1, 1, 1])), 'y', /class 0 never occurs/);
    rejects(() => fitLogisticRegression(X, Int32Array.from([0, 0, 0])), 'y', /at least two classes/);
    rejects(() => fitLogisticRegression(X, Int32Array.from([0, 2, 0])), 'y', /class 1 never occurs/);
    rejects(() => fitLogisticRegression(X, Int32Array.from([0, -1, 1])), 'y', /-1 at row 1/);
    rejects(() => fitLogisticRegression(X, Int32Array.from([0, 1])), 'y', /2 values but X has 3 rows/);
    rejects(() => fitLogisticRegression(X, Float64Array.from([0, 1, 0]) as unknown as Int32Array), 'y', /Int32Array/);
  });

  it('refuses bad parameters', () => {
    rejects(() => fitLogisticRegression(X, y, { C: 0 }), 'C', /> 0/);
    rejects(() => fitLogisticRegression(X, y, { penalty: 'elasticnet', l1Ratio: -0.1 }), 'l1Ratio', /\[0, 1\]/);
    rejects(() => fitLogisticRegression(X, y, { classWeight: { 5: 1 } }), 'classWeight', /unknown class 5/);
    rejects(() => fitLogisticRegression(X, y, { classWeight: { 1: -2 } }), 'classWeight', />= 0/);
    rejects(() => fitLogisticRegression(X, y, { classWeight: { 0: 0, 1: 0 } }), 'classWeight', /weight 0/);
  });

  it('refuses a prediction matrix of the wrong width', () => {
    const model = fitLogisticRegression(X, y);
    rejects(() => predictLogistic(model, fromRows([[1]])), 'X', /1 columns but the model was fitted on 2/);
  });
});
