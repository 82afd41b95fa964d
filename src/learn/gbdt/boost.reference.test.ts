import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromRows } from '../matrix.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { PENGUINS_JSON } from '../testing/vega.js';
import { fitGbdt } from './boost.js';
import { predictGbdt } from './predict.js';

/** ROC AUC by the rank-sum (Mann–Whitney) formula, ties given their average rank. */
function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function rmse(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += ((pred[i] as number) - (y[i] as number)) ** 2;
  return Math.sqrt(s / y.length);
}

const PARAMS = { maxDepth: 6, learningRate: 0.1, lambda: 1, nRounds: 100 };

/** Generates a data set with sklearn, trains XGBoost hist with PARAMS and returns both data and its test predictions. */
const XGB_SCRIPT = `
import json, sys
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification, make_regression
a = json.load(sys.stdin)
if a['kind'] == 'classification':
    X, y = make_classification(n_samples=a['rows'], n_features=20, n_informative=10, random_state=0)
    objective = 'binary:logistic'
else:
    X, y = make_regression(n_samples=a['rows'], n_features=20, n_informative=10, noise=20.0, random_state=0)
    objective = 'reg:squarederror'
n = a['train']
params = {'objective': objective, 'tree_method': 'hist', 'max_bin': 255, 'max_depth': a.get('max_depth', 6), 'eta': 0.1,
          'lambda': 1, 'base_score': float(y[:n].mean()), 'nthread': 2,
          'grow_policy': a.get('grow_policy', 'depthwise'), 'max_leaves': a.get('max_leaves', 0)}
booster = xgb.train(params, xgb.DMatrix(X[:n], label=y[:n]), 100)
print(json.dumps({'X': X.tolist(), 'y': y.tolist(), 'pred': booster.predict(xgb.DMatrix(X[n:])).tolist()}))
`;

function split(X: number[][], y: number[], train: number) {
  return {
    train: { X: fromRows(X.slice(0, train)), y: Float64Array.from(y.slice(0, train)) },
    test: { X: fromRows(X.slice(train)), y: Float64Array.from(y.slice(train)) },
  };
}

describe('gbdt vs XGBoost 1.7 hist', { skip: pythonSkip(['xgboost', 'sklearn']) }, () => {
  it('binary classification: test AUC within 0.005 of XGBoost on make_classification 20,000 × 20', async () => {
    const ref = runPython<{ X: number[][]; y: number[]; pred: number[] }>(XGB_SCRIPT, {
      kind: 'classification',
      rows: 20_000,
      train: 15_000,
    });
    const { train, test } = split(ref.X, ref.y, 15_000);
    const model = await fitGbdt(train.X, train.y, { objective: 'binary:logistic', ...PARAMS });
    const ours = auc(predictGbdt(model, test.X), test.y);
    const theirs = auc(ref.pred, test.y);
    assert.ok(Math.abs(ours - theirs) <= 0.005, `AUC ${ours} vs XGBoost ${theirs}`);
  });

  it('lossguide (leaf-wise, 31 leaves, no depth limit): test AUC within 0.005 of XGBoost grow_policy=lossguide', async () => {
    const ref = runPython<{ X: number[][]; y: number[]; pred: number[] }>(XGB_SCRIPT, {
      kind: 'classification',
      rows: 20_000,
      train: 15_000,
      grow_policy: 'lossguide',
      max_depth: 0,
      max_leaves: 31,
    });
    const { train, test } = split(ref.X, ref.y, 15_000);
    const model = await fitGbdt(train.X, train.y, {
      objective: 'binary:logistic',
      ...PARAMS,
      growPolicy: 'lossguide',
      maxDepth: 0,
      maxLeaves: 31,
    });
    assert.ok(model.trees.every((t) => t.left.filter((l) => l === -1).length <= 31));
    const ours = auc(predictGbdt(model, test.X), test.y);
    const theirs = auc(ref.pred, test.y);
    assert.ok(Math.abs(ours - theirs) <= 0.005, `AUC ${ours} vs XGBoost ${theirs}`);
  });

  it('regression: test RMSE within 2 % of XGBoost on make_regression 20,000 × 20', async () => {
    const ref = runPython<{ X: number[][]; y: number[]; pred: number[] }>(XGB_SCRIPT, {
      kind: 'regression',
      rows: 20_000,
      train: 15_000,
    });
    const { train, test } = split(ref.X, ref.y, 15_000);
    const model = await fitGbdt(train.X, train.y, { objective: 'reg:squarederror', ...PARAMS });
    const ours = rmse(predictGbdt(model, test.X), test.y);
    const theirs = rmse(ref.pred, test.y);
    assert.ok(Math.abs(ours - theirs) <= 0.02 * theirs, `RMSE ${ours} vs XGBoost ${theirs}`);
  });

  it('multiclass: penguin species accuracy close to XGBoost, missing measurements kept as NaN', async () => {
    const records = JSON.parse(readFileSync(PENGUINS_JSON, 'utf8')) as Record<string, number | string | null>[];
    const features = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
    const species = [...new Set(records.map((r) => r.Species as string))].sort();
    const X = records.map((r) => features.map((f) => (typeof r[f] === 'number' ? (r[f] as number) : Number.NaN)));
    const y = records.map((r) => species.indexOf(r.Species as string));
    assert.ok(
      X.some((row) => row.some(Number.isNaN)),
      'penguins has missing measurements',
    );
    const isTest = (i: number) => i % 3 === 0;
    const pick = <T>(rows: T[], test: boolean) => rows.filter((_, i) => isTest(i) === test);
    const params = { max_depth: 3, eta: 0.3, rounds: 30 };
    const ref = runPython<{ pred: number[][] }>(
      `
import json, sys
import numpy as np
import xgboost as xgb
a = json.load(sys.stdin)
X = np.array(a['X'], dtype=float)  # NaN arrives as null
p = a['params']
booster = xgb.train({'objective': 'multi:softprob', 'num_class': 3, 'tree_method': 'hist', 'max_bin': 255,
                     'max_depth': p['max_depth'], 'eta': p['eta'], 'nthread': 2},
                    xgb.DMatrix(X, label=a['y']), p['rounds'])
print(json.dumps({'pred': booster.predict(xgb.DMatrix(np.array(a['Xtest'], dtype=float))).tolist()}))
`,
      {
        X: pick(X, false).map((row) => row.map((v) => (Number.isNaN(v) ? null : v))),
        y: pick(y, false),
        Xtest: pick(X, true).map((row) => row.map((v) => (Number.isNaN(v) ? null : v))),
        params,
      },
    );
    const model = await fitGbdt(fromRows(pick(X, false)), Int32Array.from(pick(y, false)), {
      objective: 'multi:softprob',
      maxDepth: params.max_depth,
      learningRate: params.eta,
      nRounds: params.rounds,
    });
    const testY = pick(y, true);
    const probs = predictGbdt(model, fromRows(pick(X, true)));
    const argmax = (row: ArrayLike<number>) => Array.from(row).indexOf(Math.max(...Array.from(row)));
    let ours = 0;
    let theirs = 0;
    testY.forEach((label, i) => {
      if (argmax(probs.subarray(3 * i, 3 * i + 3)) === label) ours++;
      if (argmax(ref.pred[i] as number[]) === label) theirs++;
    });
    assert.ok(
      Math.abs(ours - theirs) / testY.length <= 0.02,
      `accuracy ${ours} vs XGBoost ${theirs} of ${testY.length}`,
    );
    assert.ok(ours / testY.length > 0.93, `accuracy ${ours / testY.length}`);
  });
});
