import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromRows, type Matrix, takeMatrixRows } from '../matrix.js';
import { accuracy, r2, rocAuc } from '../metrics/index.js';
import { createRng, shuffleInPlace } from '../random.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { PENGUIN_NUMBERS, penguinRecords, VEGA_DATA } from '../testing/vega.js';
import { fitForestWithOob } from './fit.js';
import type { ForestOptions } from './options.js';
import { type ForestModel, type ForestTree, predictForest, predictForestProba } from './predict.js';

/** Fits sklearn's model `kind` with `params` on the training rows and reports on the test rows. */
const SKLEARN_SCRIPT = `
import json, sys
import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
a = json.load(sys.stdin)
Xtr, ytr, Xte = np.array(a['Xtr'], dtype=float), np.array(a['ytr']), np.array(a['Xte'], dtype=float)
kind = a['kind']
Model = {'forest-c': RandomForestClassifier, 'forest-r': RandomForestRegressor,
         'tree-c': DecisionTreeClassifier, 'tree-r': DecisionTreeRegressor}[kind]
m = Model(**a['params']).fit(Xtr, ytr)
out = {'pred': m.predict(Xte).tolist(), 'importance': m.feature_importances_.tolist()}
if kind.endswith('-c'):
    out['proba'] = m.predict_proba(Xte).tolist()
if a['params'].get('oob_score'):
    out['oob'] = m.oob_score_
if kind.startswith('tree'):
    t = m.tree_
    v = t.value[:, 0, :]
    if kind == 'tree-c':
        v = v / v.sum(axis=1, keepdims=True)
    out['tree'] = {'feature': t.feature.tolist(), 'threshold': t.threshold.tolist(),
                   'left': t.children_left.tolist(), 'right': t.children_right.tolist(), 'value': v.tolist(),
                   'impurity': t.impurity.tolist(), 'weight': t.weighted_n_node_samples.tolist()}
print(json.dumps(out))
`;

interface SklearnTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[][];
  impurity: number[];
  weight: number[];
}

interface SklearnAnswer {
  pred: number[];
  proba?: number[][];
  importance: number[];
  oob?: number;
  tree?: SklearnTree;
}

interface Split {
  Xtr: Matrix;
  ytr: Float64Array;
  Xte: Matrix;
  yte: Float64Array;
}

function rowsOf(X: Matrix): number[][] {
  return Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols)));
}

function sklearn(kind: string, data: Split, params: Record<string, unknown>): SklearnAnswer {
  return runPython<SklearnAnswer>(SKLEARN_SCRIPT, {
    kind,
    params,
    Xtr: rowsOf(data.Xtr),
    ytr: Array.from(data.ytr),
    Xte: rowsOf(data.Xte),
  });
}

/** A seeded shuffle of the rows, the first `testShare` of them held out. */
function trainTestSplit(X: Matrix, y: Float64Array, testShare: number, seed: number): Split {
  const order = shuffleInPlace(
    Int32Array.from({ length: X.rows }, (_, i) => i),
    createRng(seed),
  );
  const cut = Math.round(X.rows * testShare);
  const test = order.subarray(0, cut);
  const train = order.subarray(cut);
  return {
    Xtr: takeMatrixRows(X, train),
    ytr: Float64Array.from(train, (r) => y[r] as number),
    Xte: takeMatrixRows(X, test),
    yte: Float64Array.from(test, (r) => y[r] as number),
  };
}

/** Penguins with every measurement and sex known: 4 measurements, island and sex codes; species 0 / 1 / 2. */
function penguins(): { X: Matrix; y: Float64Array } {
  const records = penguinRecords().filter(
    (r) => PENGUIN_NUMBERS.every((n) => typeof r[n] === 'number') && (r.Sex === 'MALE' || r.Sex === 'FEMALE'),
  );
  const species = [...new Set(records.map((r) => r.Species as string))];
  const islands = [...new Set(records.map((r) => r.Island as string))];
  const X = fromRows(
    records.map((r) => [
      ...PENGUIN_NUMBERS.map((n) => r[n] as number),
      islands.indexOf(r.Island as string),
      r.Sex === 'MALE' ? 1 : 0,
    ]),
    [...PENGUIN_NUMBERS, 'island', 'sex'],
  );
  return { X, y: Float64Array.from(records, (r) => species.indexOf(r.Species as string)) };
}

/** seattle-weather.csv: precipitation, temp_min, wind, month, day of year → temp_max and the weather class. */
function seattle(): { X: Matrix; tempMax: Float64Array; weather: Float64Array } {
  const lines = readFileSync(`${VEGA_DATA}seattle-weather.csv`, 'utf8').trim().split('\n').slice(1);
  const cells = lines.map((line) => line.split(','));
  const kinds = [...new Set(cells.map((c) => c[5] as string))].sort();
  const X = fromRows(
    cells.map((c) => {
      const date = new Date(`${c[0]}T00:00:00Z`);
      const dayOfYear = Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000);
      return [Number(c[1]), Number(c[3]), Number(c[4]), date.getUTCMonth() + 1, dayOfYear];
    }),
    ['precipitation', 'temp_min', 'wind', 'month', 'day_of_year'],
  );
  return {
    X,
    tempMax: Float64Array.from(cells, (c) => Number(c[2])),
    weather: Float64Array.from(cells, (c) => kinds.indexOf(c[5] as string)),
  };
}

/** flights-20k.json: hour, weekday, month, distance, origin and destination codes → delay > 15 min. */
function flights(): { X: Matrix; y: Float64Array } {
  const records = JSON.parse(readFileSync(`${VEGA_DATA}flights-20k.json`, 'utf8')) as {
    date: string;
    delay: number;
    distance: number;
    origin: string;
    destination: string;
  }[];
  const airports = [...new Set(records.flatMap((r) => [r.origin, r.destination]))].sort();
  const code = new Map(airports.map((a, i) => [a, i]));
  const X = fromRows(
    records.map((r) => {
      const [day, time] = r.date.split(' ') as [string, string];
      const date = new Date(`${day.replaceAll('/', '-')}T${time}:00Z`);
      return [
        date.getUTCHours(),
        date.getUTCDay(),
        date.getUTCMonth() + 1,
        r.distance,
        code.get(r.origin) as number,
        code.get(r.destination) as number,
      ];
    }),
    ['hour', 'weekday', 'month', 'distance', 'origin', 'destination'],
  );
  return { X, y: Float64Array.from(records, (r) => (r.delay > 15 ? 1 : 0)) };
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

/** Per node of the model's first tree, the impurity of the training rows reaching it (unit weights). */
function nodeImpurities(model: ForestModel, X: Matrix, y: Float64Array): number[] {
  const tree = model.trees[0] as ForestTree;
  const members: number[][] = tree.feature.map(() => []);
  for (let r = 0; r < X.rows; r++) {
    let node = 0;
    for (;;) {
      members[node]?.push(r);
      if (tree.left[node] === -1) break;
      const v = X.data[r * X.cols + (tree.feature[node] as number)] as number;
      node = (v <= (tree.threshold[node] as number) ? tree.left[node] : tree.right[node]) as number;
    }
  }
  return members.map((rows) => {
    const values = rows.map((r) => y[r] as number);
    if (model.task === 'regression') {
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    }
    const shares = Array.from(
      { length: model.classes },
      (_, c) => values.filter((v) => v === c).length / values.length,
    );
    return model.criterion === 'gini'
      ? 1 - shares.reduce((a, p) => a + p * p, 0)
      : -shares.reduce((a, p) => a + (p > 0 ? p * Math.log2(p) : 0), 0);
  });
}

/**
 * Walks our first tree and sklearn's together from the root and checks every node: the same rows, node
 * value, leaf-ness and impurity decrease of its split. Where sklearn's random feature order broke a
 * tie differently (another feature or threshold with the same decrease), the subtrees hold different
 * rows and the walk stops there. Returns how many splits were identical and how many were such ties.
 */
function compareTrees(model: ForestModel, reference: SklearnTree, X: Matrix, y: Float64Array) {
  const tree = model.trees[0] as ForestTree;
  const impurity = nodeImpurities(model, X, y);
  const k = model.outputs;
  const decrease = (w: number[], imp: number[], n: number, l: number, r: number) =>
    (w[n] as number) * (imp[n] as number) -
    (w[l] as number) * (imp[l] as number) -
    (w[r] as number) * (imp[r] as number);
  let same = 0;
  let ties = 0;
  const walk = (ours: number, theirs: number, path: string) => {
    assert.equal(tree.weight[ours], reference.weight[theirs], `${path}: rows`);
    const expected = reference.value[theirs] as number[];
    for (let j = 0; j < k; j++) {
      const v = tree.value[ours * k + j] as number;
      assert.ok(Math.abs(v - (expected[j] as number)) < 1e-9, `${path}: value ${v} vs ${expected}`);
    }
    const leaf = reference.left[theirs] === -1;
    assert.equal(tree.left[ours] === -1, leaf, `${path}: a leaf in one tree only`);
    if (leaf) return;
    const [l, r] = [tree.left[ours] as number, tree.right[ours] as number];
    const [tl, tr] = [reference.left[theirs] as number, reference.right[theirs] as number];
    const gain = decrease(tree.weight, impurity, ours, l, r);
    const theirGain = decrease(reference.weight, reference.impurity, theirs, tl, tr);
    assert.ok(
      Math.abs(gain - theirGain) <= 1e-9 * Math.max(1, Math.abs(gain)),
      `${path}: decrease ${gain} vs ${theirGain}`,
    );
    const t = reference.threshold[theirs] as number;
    const sameSplit =
      tree.feature[ours] === reference.feature[theirs] &&
      Math.abs((tree.threshold[ours] as number) - t) <= 1e-5 * Math.max(1, Math.abs(t));
    if (!sameSplit) {
      ties++;
      return;
    }
    same++;
    walk(l, tl, `${path}L`);
    walk(r, tr, `${path}R`);
  };
  walk(0, 0, 'root');
  return { same, ties };
}

/**
 * The test rows where our tree and sklearn's predict differently although the trees are identical:
 * each must have a value on a split threshold (sklearn compares float32 values, we compare doubles).
 */
function assertOnlyThresholdTiesDiffer(model: ForestModel, X: Matrix, ours: Float64Array, theirs: number[]): void {
  const tree = model.trees[0] as ForestTree;
  for (let r = 0; r < X.rows; r++) {
    if (Math.abs((ours[r] as number) - (theirs[r] as number)) < 1e-9) continue;
    let node = 0;
    let onThreshold = false;
    while (tree.left[node] !== -1) {
      const v = X.data[r * X.cols + (tree.feature[node] as number)] as number;
      const t = tree.threshold[node] as number;
      if (Math.abs(v - t) < 1e-6 * Math.max(1, Math.abs(t))) onThreshold = true;
      node = (v <= t ? tree.left[node] : tree.right[node]) as number;
    }
    assert.ok(onThreshold, `test row ${r}: ${ours[r]} vs sklearn ${theirs[r]}`);
  }
}

const singleTree: ForestOptions = {
  task: 'classification',
  nEstimators: 1,
  bootstrap: false,
  maxFeatures: 'all',
};

describe('random forest vs sklearn 1.2', { skip: pythonSkip(['sklearn']) }, () => {
  it('one tree without bagging or feature sampling is sklearn’s DecisionTreeClassifier (penguins)', async () => {
    const { X, y } = penguins();
    const data = trainTestSplit(X, y, 0.25, 1);
    for (const criterion of ['gini', 'entropy'] as const) {
      const reference = sklearn('tree-c', data, { max_depth: 4, criterion, random_state: 0 });
      const { model } = await fitForestWithOob(data.Xtr, data.ytr, { ...singleTree, maxDepth: 4, criterion });
      const { same } = compareTrees(model, reference.tree as SklearnTree, data.Xtr, data.ytr);
      assert.ok(same >= 5, `only ${same} identical splits`);
    }
  });

  it('one tree without bagging is sklearn’s DecisionTreeRegressor (seattle temp_max)', async () => {
    const { X, tempMax } = seattle();
    const data = trainTestSplit(takeColumns(X, 4), tempMax, 0.25, 2);
    const reference = sklearn('tree-r', data, { max_depth: 5, min_samples_leaf: 3, random_state: 0 });
    const { model } = await fitForestWithOob(data.Xtr, data.ytr, {
      ...singleTree,
      task: 'regression',
      maxDepth: 5,
      minSamplesLeaf: 3,
    });
    const { same, ties } = compareTrees(model, reference.tree as SklearnTree, data.Xtr, data.ytr);
    assert.ok(same >= 20, `only ${same} identical splits`);
    if (ties === 0) assertOnlyThresholdTiesDiffer(model, data.Xte, predictForest(model, data.Xte), reference.pred);
  });

  it('penguin species: test accuracy, probabilities, OOB score and importances match', async () => {
    const { X, y } = penguins();
    const data = trainTestSplit(X, y, 0.3, 3);
    const reference = sklearn('forest-c', data, { n_estimators: 200, oob_score: true, random_state: 0 });
    const { model, oobDecision } = await fitForestWithOob(data.Xtr, data.ytr, {
      task: 'classification',
      nEstimators: 200,
      oobScore: true,
      seed: 0,
    });
    const ours = accuracy(data.yte, predictForest(model, data.Xte));
    assert.ok(ours >= 0.95, `accuracy ${ours}`);
    assert.ok(Math.abs(ours - accuracy(data.yte, Float64Array.from(reference.pred))) <= 0.03);
    assert.ok(meanAbsDiff(predictForestProba(model, data.Xte), (reference.proba as number[][]).flat()) < 0.03);
    assert.ok(Math.abs((model.oobScore as number) - (reference.oob as number)) <= 0.03, `oob ${model.oobScore}`);
    assert.equal(oobDecision?.length, data.Xtr.rows * 3);
    assert.ok(meanAbsDiff(model.featureImportances, reference.importance) < 0.03, `${model.featureImportances}`);
  });

  it('seattle temp_max regression: test R² and OOB R² match', async () => {
    const { X, tempMax } = seattle();
    const data = trainTestSplit(X, tempMax, 0.25, 4);
    const reference = sklearn('forest-r', data, { n_estimators: 100, oob_score: true, random_state: 0 });
    const { model } = await fitForestWithOob(data.Xtr, data.ytr, { task: 'regression', oobScore: true, seed: 0 });
    const ours = r2(data.yte, predictForest(model, data.Xte));
    const theirs = r2(data.yte, Float64Array.from(reference.pred));
    assert.ok(ours > 0.75 && Math.abs(ours - theirs) <= 0.02, `R² ${ours} vs ${theirs}`);
    assert.ok(Math.abs((model.oobScore as number) - (reference.oob as number)) <= 0.02, `oob ${model.oobScore}`);
    assert.ok(meanAbsDiff(model.featureImportances, reference.importance) < 0.03);
  });

  it('seattle weather class, balanced class weights and entropy: accuracy and probabilities match', async () => {
    const { X, weather } = seattle();
    const data = trainTestSplit(X, weather, 0.25, 5);
    const params = { n_estimators: 100, class_weight: 'balanced', criterion: 'entropy', min_samples_leaf: 3 };
    const reference = sklearn('forest-c', data, { ...params, random_state: 0 });
    const { model } = await fitForestWithOob(data.Xtr, data.ytr, {
      task: 'classification',
      classWeight: 'balanced',
      criterion: 'entropy',
      minSamplesLeaf: 3,
      seed: 0,
    });
    const ours = accuracy(data.yte, predictForest(model, data.Xte));
    const theirs = accuracy(data.yte, Float64Array.from(reference.pred));
    assert.ok(Math.abs(ours - theirs) <= 0.04, `accuracy ${ours} vs ${theirs}`);
    assert.ok(meanAbsDiff(predictForestProba(model, data.Xte), (reference.proba as number[][]).flat()) < 0.03);
  });

  it('flights delayed > 15 min (20,000 rows): test AUC and OOB accuracy match', async () => {
    const { X, y } = flights();
    const data = trainTestSplit(X, y, 0.25, 6);
    const params = { n_estimators: 100, min_samples_leaf: 3, oob_score: true };
    const reference = sklearn('forest-c', data, { ...params, random_state: 0, n_jobs: 2 });
    const { model } = await fitForestWithOob(data.Xtr, data.ytr, {
      task: 'classification',
      minSamplesLeaf: 3,
      oobScore: true,
      seed: 0,
    });
    const positive = (proba: ArrayLike<number>) =>
      Float64Array.from({ length: data.Xte.rows }, (_, r) => proba[r * 2 + 1] as number);
    const ours = rocAuc(data.yte, positive(predictForestProba(model, data.Xte)));
    const theirs = rocAuc(
      data.yte,
      Float64Array.from(reference.proba as number[][], (p) => p[1] as number),
    );
    assert.ok(ours > 0.6 && Math.abs(ours - theirs) <= 0.01, `AUC ${ours} vs ${theirs}`);
    assert.ok(Math.abs((model.oobScore as number) - (reference.oob as number)) <= 0.01, `oob ${model.oobScore}`);
  });
});

/** The first `count` columns of X. */
function takeColumns(X: Matrix, count: number): Matrix {
  return fromRows(
    rowsOf(X).map((row) => row.slice(0, count)),
    X.names.slice(0, count),
  );
}
