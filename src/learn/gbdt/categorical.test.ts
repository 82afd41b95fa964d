import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { fromRows, type Matrix } from '../matrix.js';
import { rocAuc } from '../metrics/index.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { VEGA_DATA } from '../testing/vega.js';
import { fitBinner } from './binning.js';
import { fitGbdt } from './boost.js';
import { type GbdtModel, predictGbdt } from './predict.js';

/** Category code c repeated `n` times with label `label`. */
function block(code: number, label: number, n: number): { rows: number[][]; y: number[] } {
  return { rows: Array.from({ length: n }, () => [code]), y: Array.from({ length: n }, () => label) };
}

function dataset(blocks: { rows: number[][]; y: number[] }[]): { X: Matrix; y: Float64Array } {
  return { X: fromRows(blocks.flatMap((b) => b.rows)), y: Float64Array.from(blocks.flatMap((b) => b.y)) };
}

const ONE_SPLIT = {
  objective: 'reg:squarederror',
  nRounds: 1,
  maxDepth: 1,
  learningRate: 1,
  lambda: 0,
  minChildWeight: 0,
  baseScore: 0,
  categoricalFeatures: [0],
} as const;

describe('categorical splits', () => {
  // Codes 1 and 4 are high, the others low: no single threshold on the code separates them.
  const { X, y } = dataset([
    block(0, 0, 5),
    block(1, 10, 5),
    block(2, 0, 5),
    block(3, 0, 5),
    block(4, 10, 5),
    block(5, 0, 5),
    block(Number.NaN, 10, 3),
  ]);

  it('a partition split groups the categories by gradient ratio, missing values follow the default side', async () => {
    const model = await fitGbdt(X, y, ONE_SPLIT);
    const tree = model.trees[0];
    assert.ok(tree?.categories);
    const set = tree.categories[0] as number[];
    const highLeft = set.includes(1);
    assert.deepEqual(set, highLeft ? [1, 4] : [0, 2, 3, 5]);
    assert.equal(tree.defaultLeft[0], highLeft ? 1 : 0);
    assert.deepEqual(model.categoricalFeatures, [0]);
    const p = predictGbdt(model, fromRows([[0], [1], [2], [3], [4], [5], [Number.NaN]]));
    assert.deepEqual(Array.from(p), [0, 10, 0, 0, 10, 0, 10]);
    // A code never seen in training goes right, whatever side that is.
    const unseen = predictGbdt(model, fromRows([[99], [1.5], [-1]]));
    const right = tree.value[tree.right[0] as number] as number;
    assert.deepEqual(Array.from(unseen), [right, right, right]);
  });

  it('below maxCatToOnehot categories, one category against the rest', async () => {
    const model = await fitGbdt(X, y, { ...ONE_SPLIT, maxCatToOnehot: 7 });
    const set = model.trees[0]?.categories?.[0] as number[];
    assert.equal(set.length, 1);
    assert.ok(set[0] === 1 || set[0] === 4, `one of the high codes, got ${set}`);
    const numeric = await fitGbdt(X, y, { ...ONE_SPLIT, categoricalFeatures: [] });
    assert.equal(numeric.trees[0]?.categories, undefined);
  });

  it('survives a JSON round trip and predicts identically', async () => {
    const model = await fitGbdt(X, y, { ...ONE_SPLIT, nRounds: 5, maxDepth: 3, learningRate: 0.5 });
    const copy = JSON.parse(JSON.stringify(model)) as GbdtModel;
    const probe = fromRows([[0], [1], [4], [Number.NaN], [7]]);
    assert.deepEqual(predictGbdt(copy, probe), predictGbdt(model, probe));
  });

  it('the rarest codes share the last bin when there are more categories than bins', () => {
    const many = dataset([block(7, 0, 4), block(3, 0, 3), block(9, 0, 2), block(1, 0, 1), block(5, 0, 1)]);
    const binner = fitBinner(many.X, 3, { categoricalFeatures: [0] });
    assert.deepEqual(binner.categories?.[0], [[7], [3], [1, 5, 9]]);
  });

  it('refuses non-integer codes and out-of-range categorical columns, naming the field', async () => {
    const isField = (field: string) => (e: unknown) => e instanceof KilnError && e.details?.field === field;
    await assert.rejects(fitGbdt(fromRows([[0.5], [1]]), Float64Array.of(0, 1), ONE_SPLIT), isField('X'));
    await assert.rejects(fitGbdt(fromRows([[-2], [1]]), Float64Array.of(0, 1), ONE_SPLIT), isField('X'));
    await assert.rejects(fitGbdt(X, y, { ...ONE_SPLIT, categoricalFeatures: [3] }), isField('categoricalFeatures'));
  });
});

/** flights-20k: origin and destination airport codes, distance, departure hour; label delay > 15 min. */
function flights(): { rows: number[][]; y: number[] } {
  const records = JSON.parse(readFileSync(`${VEGA_DATA}flights-20k.json`, 'utf8')) as {
    date: string;
    delay: number;
    distance: number;
    origin: string;
    destination: string;
  }[];
  const codes = (key: 'origin' | 'destination') => {
    const seen = new Map<string, number>();
    return records.map((r) => {
      if (!seen.has(r[key])) seen.set(r[key], seen.size);
      return seen.get(r[key]) as number;
    });
  };
  const origin = codes('origin');
  const destination = codes('destination');
  return {
    rows: records.map((r, i) => [
      origin[i] as number,
      destination[i] as number,
      r.distance,
      Number(r.date.slice(11, 13)),
    ]),
    y: records.map((r) => (r.delay > 15 ? 1 : 0)),
  };
}

describe('categorical splits vs XGBoost 1.7 enable_categorical', { skip: pythonSkip(['xgboost', 'sklearn']) }, () => {
  it('flights-20k airports: AUC close to XGBoost and above ordinal coding of the same codes', async () => {
    const { rows, y } = flights();
    const n = 15_000;
    const params = { max_depth: 2, eta: 0.1, min_child_weight: 20, rounds: 100 };
    const ref = runPython<{ categorical: number[]; ordinal: number[] }>(
      `
import json, sys
import numpy as np
import xgboost as xgb
a = json.load(sys.stdin)
X = np.array(a['X'], dtype=float)
y = np.array(a['y'], dtype=float)
n, p = a['n'], a['params']
out = {}
for name, types in [('categorical', ['c', 'c', 'q', 'q']), ('ordinal', None)]:
    cat = types is not None
    train = xgb.DMatrix(X[:n], label=y[:n], feature_types=types, enable_categorical=cat)
    booster = xgb.train({'objective': 'binary:logistic', 'tree_method': 'hist', 'max_bin': 255, 'nthread': 2,
                         'max_depth': p['max_depth'], 'eta': p['eta'], 'min_child_weight': p['min_child_weight'],
                         'base_score': float(y[:n].mean())}, train, p['rounds'])
    out[name] = booster.predict(xgb.DMatrix(X[n:], feature_types=types, enable_categorical=cat)).tolist()
print(json.dumps(out))
`,
      { X: rows, y, n, params },
    );
    const train = { X: fromRows(rows.slice(0, n)), y: Float64Array.from(y.slice(0, n)) };
    const test = { X: fromRows(rows.slice(n)), y: Int32Array.from(y.slice(n)) };
    const options = {
      objective: 'binary:logistic',
      maxDepth: params.max_depth,
      learningRate: params.eta,
      minChildWeight: params.min_child_weight,
      nRounds: params.rounds,
    } as const;
    const categorical = await fitGbdt(train.X, train.y, { ...options, categoricalFeatures: [0, 1] });
    const ordinal = await fitGbdt(train.X, train.y, options);
    const ours = rocAuc(test.y, predictGbdt(categorical, test.X));
    const oursOrdinal = rocAuc(test.y, predictGbdt(ordinal, test.X));
    const theirs = rocAuc(test.y, Float64Array.from(ref.categorical));
    const theirsOrdinal = rocAuc(test.y, Float64Array.from(ref.ordinal));
    const figures = `categorical ${ours} vs XGBoost ${theirs}; ordinal ${oursOrdinal} vs XGBoost ${theirsOrdinal}`;
    assert.ok(Math.abs(ours - theirs) <= 0.01, figures);
    assert.ok(Math.abs(oursOrdinal - theirsOrdinal) <= 0.01, figures);
    assert.ok(ours > oursOrdinal + 0.01, figures);
  });
});
