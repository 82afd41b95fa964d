import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { fromRows, type Matrix } from '../matrix.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { VEGA_DATA } from '../testing/vega.js';
import { parseXgboostJson, predictXgboost, xgboostFeatureNames } from './xgboost.js';

/** A one-split stump in XGBoost 1.7's JSON layout: x0 < 0.1 → leaf -1, else +2; missing goes right. */
function stumpDocument(overrides: { objective?: string; numClass?: string; treeInfo?: number[] } = {}) {
  const tree = {
    base_weights: [0, -1, 2],
    categories: [],
    categories_nodes: [],
    categories_segments: [],
    categories_sizes: [],
    default_left: [0, 0, 0],
    id: 0,
    left_children: [1, -1, -1],
    loss_changes: [1, 0, 0],
    parents: [2147483647, 0, 0],
    right_children: [2, -1, -1],
    split_conditions: [0.1, -1, 2],
    split_indices: [0, 0, 0],
    split_type: [0, 0, 0],
    sum_hessian: [2, 1, 1],
    tree_param: { num_deleted: '0', num_feature: '2', num_nodes: '3', size_leaf_vector: '0' },
  };
  return {
    learner: {
      attributes: {},
      feature_names: ['a', 'b'],
      feature_types: [],
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: '1', size_leaf_vector: '0' },
          tree_info: overrides.treeInfo ?? [0],
          trees: [tree],
        },
        name: 'gbtree',
      },
      learner_model_param: {
        base_score: '5E-1',
        boost_from_average: '1',
        num_class: overrides.numClass ?? '0',
        num_feature: '2',
        num_target: '1',
      },
      objective: { name: overrides.objective ?? 'reg:squarederror', reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  };
}

type Doc = ReturnType<typeof stumpDocument>;

function rejects(text: string, field: string, pattern: RegExp): void {
  assert.throws(
    () => parseXgboostJson(text),
    (error: unknown) =>
      error instanceof KilnError &&
      error.code === 'INVALID_PARAMETER_VALUE' &&
      error.details?.field === field &&
      pattern.test(error.message),
  );
}

function firstTree(doc: Doc): Doc['learner']['gradient_booster']['model']['trees'][number] {
  const tree = doc.learner.gradient_booster.model.trees[0];
  assert.ok(tree);
  return tree;
}

function mutated(change: (doc: Doc) => void): string {
  const doc = stumpDocument();
  change(doc);
  return JSON.stringify(doc);
}

describe('parseXgboostJson / predictXgboost on a hand-written stump', () => {
  it('splits on float32(x) < condition, sends NaN by default_left and adds the base score', () => {
    const model = parseXgboostJson(JSON.stringify(stumpDocument()));
    // 0.1 is not a float32; XGBoost compares float32(0.1) with float32(0.1): equal, so not less → right.
    const just = 0.1 - 1e-10; // rounds to the same float32 as 0.1, so it also goes right
    const X = fromRows([
      [0, 5],
      [0.1, 5],
      [just, 5],
      [Math.fround(0.1) - 1e-8, 5],
      [Number.NaN, 5],
    ]);
    assert.deepEqual(Array.from(predictXgboost(model, X)), [-0.5, 2.5, 2.5, -0.5, 2.5]);
    assert.deepEqual(xgboostFeatureNames(model), ['a', 'b']);
  });

  it('follows default_left for missing values', () => {
    const model = parseXgboostJson(
      mutated((doc) => {
        firstTree(doc).default_left = [1, 0, 0];
      }),
    );
    assert.deepEqual(Array.from(predictXgboost(model, fromRows([[Number.NaN, 0]]))), [-0.5]);
  });

  it('applies the logistic link to base_score and the sigmoid to the margin', () => {
    const model = parseXgboostJson(JSON.stringify(stumpDocument({ objective: 'binary:logistic' })));
    assert.equal(model.baseMargin, 0);
    const X = fromRows([[0, 0]]);
    assert.deepEqual(Array.from(predictXgboost(model, X, { outputMargin: true })), [-1]);
    assert.ok(Math.abs((predictXgboost(model, X)[0] as number) - 1 / (1 + Math.exp(1))) < 1e-12);
  });

  it('rejects a matrix with the wrong number of columns', () => {
    const model = parseXgboostJson(JSON.stringify(stumpDocument()));
    assert.throws(
      () => predictXgboost(model, fromRows([[1, 2, 3]])),
      (error: unknown) => error instanceof KilnError && error.details?.field === 'X',
    );
  });

  it('rejects documents it cannot predict exactly, naming the JSON path', () => {
    const valid = JSON.stringify(stumpDocument());
    rejects(valid.slice(0, valid.length / 2), '(document)', /not valid JSON/);
    rejects('[1, 2]', '(document)', /must be a JSON object/);
    rejects(
      JSON.stringify(stumpDocument({ objective: 'rank:pairwise' })),
      'learner.objective.name',
      /must be one of .*"rank:pairwise"/,
    );
    rejects(
      mutated((doc) => {
        firstTree(doc).split_type = [1, 0, 0];
      }),
      'learner.gradient_booster.model.trees[0].split_type[0]',
      /categorical split/,
    );
    rejects(
      mutated((doc) => {
        doc.learner.gradient_booster.name = 'dart';
      }),
      'learner.gradient_booster.name',
      /"gbtree"/,
    );
    rejects(
      mutated((doc) => {
        doc.learner.learner_model_param.base_score = 'abc';
      }),
      'learner.learner_model_param.base_score',
      /finite number/,
    );
    rejects(
      mutated((doc) => {
        delete (doc.learner as Partial<Doc['learner']>).learner_model_param;
      }),
      'learner.learner_model_param',
      /is missing/,
    );
    rejects(
      mutated((doc) => {
        firstTree(doc).left_children = [0, -1, -1];
      }),
      'learner.gradient_booster.model.trees[0].left_children[0]',
      /node index in \(0, 3\)/,
    );
    rejects(
      mutated((doc) => {
        firstTree(doc).split_indices = [7, 0, 0];
      }),
      'learner.gradient_booster.model.trees[0].split_indices[0]',
      /\[0, 2\)/,
    );
    rejects(
      mutated((doc) => {
        firstTree(doc).split_conditions = [0.1, -1];
      }),
      'learner.gradient_booster.model.trees[0].split_conditions',
      /2 entries, expected 3/,
    );
    rejects(
      JSON.stringify(stumpDocument({ objective: 'multi:softprob', numClass: '3', treeInfo: [3] })),
      'learner.gradient_booster.model.tree_info[0]',
      /\[0, 3\)/,
    );
    rejects(
      JSON.stringify(stumpDocument({ objective: 'multi:softprob', numClass: '0' })),
      'learner.learner_model_param.num_class',
      /≥ 2/,
    );
  });
});

interface Reference {
  model: string;
  X: (number | null)[][];
  pred: number[];
  margin: number[];
  softmax?: { model: string; pred: number[] };
}

/** Trains XGBoost 1.7 (depth 6, 50 rounds) and returns the model JSON plus its predictions on held-out rows. */
const XGB_SCRIPT = `
import json, sys
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification, make_regression
a = json.load(sys.stdin)
rng = np.random.default_rng(0)
names = None
if a['kind'] == 'binary':
    X, y = make_classification(n_samples=3000, n_features=12, n_informative=6, random_state=0)
    X[rng.random(X.shape) < 0.05] = np.nan
    params = {'objective': 'binary:logistic'}
    names = ['f%d' % i for i in range(X.shape[1])]
elif a['kind'] == 'regression':
    X, y = make_regression(n_samples=3000, n_features=10, n_informative=6, noise=10.0, random_state=0)
    params = {'objective': 'reg:squarederror'}
else:
    X = np.array([[np.nan if v is None else v for v in row] for row in a['X']], dtype=float)
    y = np.array(a['y'])
    params = {'objective': 'multi:softprob', 'num_class': int(y.max()) + 1}
params.update({'max_depth': 6, 'eta': 0.3, 'tree_method': 'hist', 'nthread': 2, 'seed': 0})
test = np.arange(len(y)) % 4 == 0
train = ~test
dtrain = xgb.DMatrix(X[train], label=y[train], feature_names=names)
dtest = xgb.DMatrix(X[test], feature_names=names)
booster = xgb.train(params, dtrain, 50)
out = {
  'model': booster.save_raw('json').decode(),
  'X': [[None if np.isnan(v) else float(v) for v in row] for row in X[test]],
  'pred': booster.predict(dtest).ravel().tolist(),
  'margin': booster.predict(dtest, output_margin=True).ravel().tolist(),
}
if a['kind'] == 'penguins':
    params['objective'] = 'multi:softmax'
    soft = xgb.train(params, dtrain, 50)
    out['softmax'] = {'model': soft.save_raw('json').decode(), 'pred': soft.predict(dtest).ravel().tolist()}
print(json.dumps(out))
`;

function toMatrix(rows: (number | null)[][]): Matrix {
  return fromRows(rows.map((row) => row.map((v) => v ?? Number.NaN)));
}

function assertClose(actual: Float64Array, expected: readonly number[], tolerance: number): void {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  assert.ok(worst <= tolerance, `max abs diff ${worst} > ${tolerance}`);
}

describe('XGBoost JSON import vs XGBoost 1.7 predictions', { skip: pythonSkip(['xgboost', 'sklearn']) }, () => {
  it('binary:logistic with 5% missing values, named features', () => {
    const ref = runPython<Reference>(XGB_SCRIPT, { kind: 'binary' });
    const model = parseXgboostJson(ref.model);
    assert.equal(model.objective, 'binary:logistic');
    assert.equal(model.treeGroup.length, 50);
    assert.deepEqual(
      xgboostFeatureNames(model),
      Array.from({ length: 12 }, (_, i) => `f${i}`),
    );
    const X = toMatrix(ref.X);
    assert.ok(X.data.some(Number.isNaN));
    assertClose(predictXgboost(model, X), ref.pred, 1e-5);
    assertClose(predictXgboost(model, X, { outputMargin: true }), ref.margin, 1e-5);
  });

  it('reg:squarederror on make_regression', () => {
    const ref = runPython<Reference>(XGB_SCRIPT, { kind: 'regression' });
    const model = parseXgboostJson(ref.model);
    assert.equal(xgboostFeatureNames(model), undefined);
    assertClose(predictXgboost(model, toMatrix(ref.X)), ref.pred, 1e-5);
  });

  it('multi:softprob and multi:softmax on penguins with missing measurements', () => {
    const records = JSON.parse(readFileSync(`${VEGA_DATA}penguins.json`, 'utf8')) as Record<string, unknown>[];
    const columns = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
    const species = [...new Set(records.map((r) => String(r.Species)))].sort();
    const X = records.map((r) => columns.map((c) => (typeof r[c] === 'number' ? (r[c] as number) : null)));
    assert.ok(X.some((row) => row.includes(null)));
    const y = records.map((r) => species.indexOf(String(r.Species)));
    const ref = runPython<Reference>(XGB_SCRIPT, { kind: 'penguins', X, y });
    const model = parseXgboostJson(ref.model);
    assert.equal(model.numGroups, 3);
    assert.equal(model.treeGroup.length, 150);
    const test = toMatrix(ref.X);
    const proba = predictXgboost(model, test);
    assert.equal(proba.length, test.rows * 3);
    assertClose(proba, ref.pred, 1e-5);
    assertClose(predictXgboost(model, test, { outputMargin: true }), ref.margin, 1e-5);
    const softmax = parseXgboostJson(ref.softmax?.model ?? '');
    assertClose(predictXgboost(softmax, test), ref.softmax?.pred ?? [], 0);
  });
});
