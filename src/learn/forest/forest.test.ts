import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { FloatColumn } from '../frame.js';
import { fromRows, type Matrix } from '../matrix.js';
import { PENGUIN_NUMBERS, penguinRecords, seattleFrame } from '../testing/vega.js';
import { fitForest, fitForestWithOob } from './fit.js';
import type { ForestOptions } from './options.js';
import { type ForestModel, predictForest, predictForestProba } from './predict.js';

/** Penguins with all four measurements: the measurements, and the species as 0 / 1 / 2. */
function penguins(): { X: Matrix; y: Int32Array } {
  const records = penguinRecords().filter((r) => PENGUIN_NUMBERS.every((n) => typeof r[n] === 'number'));
  const species = [...new Set(records.map((r) => r.Species as string))];
  return {
    X: fromRows(
      records.map((r) => PENGUIN_NUMBERS.map((n) => r[n] as number)),
      [...PENGUIN_NUMBERS],
    ),
    y: Int32Array.from(records, (r) => species.indexOf(r.Species as string)),
  };
}

/** seattle-weather: precipitation, temp_min, wind → temp_max (1,461 days). */
function seattle(): { X: Matrix; y: Float64Array } {
  const frame = seattleFrame();
  const column = (name: string) => (frame.columns.find((c) => c.name === name) as FloatColumn).values;
  const inputs = ['precipitation', 'temp_min', 'wind'].map(column);
  return {
    X: fromRows(
      Array.from({ length: frame.rows }, (_, r) => inputs.map((values) => values[r] as number)),
      ['precipitation', 'temp_min', 'wind'],
    ),
    y: Float64Array.from(column('temp_max')),
  };
}

async function rejectsInvalid(promise: Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KilnError, String(error));
    assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
    assert.equal(error.details?.field, field, error.message);
    return true;
  });
}

describe('random forest', () => {
  it('is deterministic by seed, on one thread or two', async () => {
    const { X, y } = seattle();
    // 1,461 rows × 150 trees is enough work for the second thread to start.
    const options: ForestOptions = { task: 'regression', nEstimators: 150, seed: 11 };
    const one = await fitForest(X, y, { ...options, threads: 1 });
    const two = await fitForest(X, y, { ...options, threads: 2 });
    assert.deepEqual(two, one);
    const other = await fitForest(X, y, { ...options, seed: 12, threads: 1 });
    assert.notDeepEqual(other.trees[0], one.trees[0]);
  });

  it('survives JSON and predicts the same after it', async () => {
    const { X, y } = penguins();
    const model = await fitForest(X, y, { task: 'classification', nEstimators: 20, seed: 1 });
    const copy = JSON.parse(JSON.stringify(model)) as ForestModel;
    assert.deepEqual(predictForestProba(copy, X), predictForestProba(model, X));
    assert.equal(model.kind, 'forest');
    assert.equal(model.classes, 3);
    assert.equal(model.trees.length, 20);
  });

  it('averages the trees’ class probabilities and predicts the most probable class', async () => {
    const { X, y } = penguins();
    const model = await fitForest(X, y, { task: 'classification', nEstimators: 10, seed: 2 });
    const proba = predictForestProba(model, X);
    const labels = predictForest(model, X);
    for (let r = 0; r < X.rows; r++) {
      const row = Array.from(proba.subarray(r * 3, r * 3 + 3));
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      assert.equal(labels[r], row.indexOf(Math.max(...row)));
    }
  });

  it('reports impurity importances that sum to 1 and out-of-bag outputs per row', async () => {
    const { X, y } = penguins();
    const { model, oobDecision } = await fitForestWithOob(X, y, {
      task: 'classification',
      nEstimators: 30,
      oobScore: true,
      seed: 3,
    });
    assert.equal(model.featureImportances.length, 4);
    assert.ok(model.featureImportances.every((v) => v >= 0));
    assert.ok(Math.abs(model.featureImportances.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(oobDecision && oobDecision.length === X.rows * 3);
    // With 30 trees a row is in every bootstrap sample with probability 0.632^30 ≈ 1e-6: every row is scored.
    for (let r = 0; r < X.rows; r++) {
      const sum = oobDecision.subarray(r * 3, r * 3 + 3).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-12, `row ${r} sums to ${sum}`);
    }
    assert.ok((model.oobScore as number) > 0.9);
  });

  it('weighs each root by its bootstrap draw: maxSamples draws, or every row once without bootstrap', async () => {
    const { X, y } = seattle();
    const drawn = await fitForest(X, y, { task: 'regression', nEstimators: 3, maxDepth: 2, maxSamples: 500 });
    for (const tree of drawn.trees) {
      assert.equal(tree.weight[0], 500);
      assert.ok((tree.samples[0] as number) < 500);
    }
    const whole = await fitForest(X, y, { task: 'regression', nEstimators: 2, maxDepth: 2, bootstrap: false });
    for (const tree of whole.trees) assert.deepEqual([tree.samples[0], tree.weight[0]], [X.rows, X.rows]);
  });

  it('learns where missing values go: a feature missing for one species separates it', async () => {
    const { X, y } = penguins();
    const gentoo = 2;
    const beak = fromRows(
      Array.from({ length: X.rows }, (_, r) => [y[r] === gentoo ? Number.NaN : (X.data[r * 4] as number)]),
      ['beak_length'],
    );
    const model = await fitForest(beak, y, {
      task: 'classification',
      nEstimators: 1,
      bootstrap: false,
      maxDepth: 1,
      seed: 0,
    });
    const tree = model.trees[0] as ForestModel['trees'][number];
    const missingChild = tree.defaultLeft[0] === 1 ? (tree.left[0] as number) : (tree.right[0] as number);
    assert.deepEqual(tree.value.slice(missingChild * 3, missingChild * 3 + 3), [0, 0, 1]);
    assert.deepEqual(Array.from(predictForest(model, fromRows([[Number.NaN], [40]]))).slice(0, 1), [gentoo]);
  });

  it('sends missing values to the bigger child where training saw none', async () => {
    const { X, y } = penguins();
    const model = await fitForest(X, y, { task: 'classification', nEstimators: 1, bootstrap: false, maxDepth: 1 });
    const tree = model.trees[0] as ForestModel['trees'][number];
    const [l, r] = [tree.left[0] as number, tree.right[0] as number];
    const bigger = (tree.samples[l] as number) >= (tree.samples[r] as number) ? l : r;
    const proba = predictForestProba(model, fromRows([[Number.NaN, Number.NaN, Number.NaN, Number.NaN]]));
    assert.deepEqual(Array.from(proba), tree.value.slice(bigger * 3, bigger * 3 + 3));
  });

  it('calls onTree after every tree and stops when it returns true', async () => {
    const { X, y } = penguins();
    const seen: [number, number][] = [];
    const model = await fitForest(X, y, {
      task: 'classification',
      nEstimators: 50,
      threads: 1,
      onTree: (done, total) => {
        seen.push([done, total]);
        return done === 5;
      },
    });
    assert.deepEqual(
      seen,
      [1, 2, 3, 4, 5].map((done) => [done, 50]),
    );
    assert.equal(model.trees.length, 5);
  });

  it('rejects with the abort reason when its signal aborts', async () => {
    const { X, y } = seattle();
    const controller = new AbortController();
    const training = fitForest(X, y, {
      task: 'regression',
      nEstimators: 200,
      signal: controller.signal,
      onTree: (done) => {
        if (done === 3) controller.abort();
      },
    });
    await assert.rejects(training, { name: 'AbortError' });
    await assert.rejects(fitForest(X, y, { task: 'regression', signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  it('answers bad input with a 400 naming the field', async () => {
    const { X, y } = penguins();
    const classify = (options: Partial<ForestOptions>) =>
      fitForest(X, y, { task: 'classification', nEstimators: 2, ...options });
    await rejectsInvalid(classify({ task: 'clustering' as never }), 'task');
    await rejectsInvalid(classify({ nEstimators: 0 }), 'nEstimators');
    await rejectsInvalid(classify({ maxDepth: 0 }), 'maxDepth');
    await rejectsInvalid(classify({ minSamplesSplit: 1.5 }), 'minSamplesSplit');
    await rejectsInvalid(classify({ minSamplesLeaf: 0 }), 'minSamplesLeaf');
    await rejectsInvalid(classify({ maxFeatures: 5 }), 'maxFeatures');
    await rejectsInvalid(classify({ maxFeatures: 'half' as never }), 'maxFeatures');
    await rejectsInvalid(classify({ bootstrap: false, oobScore: true }), 'oobScore');
    await rejectsInvalid(classify({ bootstrap: false, maxSamples: 0.5 }), 'maxSamples');
    await rejectsInvalid(classify({ maxSamples: 10_000 }), 'maxSamples');
    await rejectsInvalid(classify({ criterion: 'squared_error' }), 'criterion');
    await rejectsInvalid(classify({ classWeight: { 7: 2 } }), 'classWeight');
    await rejectsInvalid(classify({ maxBins: 300 }), 'maxBins');
    await rejectsInvalid(classify({ threads: 0 }), 'threads');
    await rejectsInvalid(classify({ numClasses: 2 }), 'y');
    await rejectsInvalid(fitForest(X, y.subarray(1), { task: 'classification' }), 'y');
    await rejectsInvalid(
      fitForest(
        X,
        Float64Array.from(y, (v) => v + 0.5),
        { task: 'classification' },
      ),
      'y',
    );
    await rejectsInvalid(
      fitForest(X, Float64Array.from(y), { task: 'regression', classWeight: 'balanced' }),
      'classWeight',
    );
    const infinite = fromRows([[1], [Number.POSITIVE_INFINITY]]);
    await rejectsInvalid(fitForest(infinite, Float64Array.of(0, 1), { task: 'regression' }), 'X');
    const model = await classify({});
    assert.throws(
      () => predictForest(model, fromRows([[1, 2]])),
      (e: unknown) => e instanceof KilnError && e.details?.field === 'X',
    );
    const regression = await fitForest(X, Float64Array.from(y), { task: 'regression', nEstimators: 2 });
    assert.throws(
      () => predictForestProba(regression, X),
      (e: unknown) => e instanceof KilnError && e.details?.field === 'model',
    );
  });
});
