import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Frame } from './frame.js';
import { accuracy, averagePrecision, brierScore, f1Score, logLoss, mae, r2, rmse, rocAuc } from './metrics/index.js';
import { predictModel, type TrainedModel } from './model.js';
import { assertInvalid } from './testing/assert.js';
import {
  categoricalColumn,
  floatColumn,
  penguinFrame,
  penguinRecords,
  seattleFrame,
  VEGA_DATA,
} from './testing/vega.js';
import { evaluateModel, type TrainSpec, trainModel } from './train.js';
import { encodeTarget, holdoutSplit } from './train-data.js';
import { resolveParams, withDefaults } from './train-params.js';

/** flights-2k.json: hour, weekday and month of departure, distance, origin, destination, and delayed = delay > 15. */
function flightsFrame(): Frame {
  const records = JSON.parse(readFileSync(`${VEGA_DATA}flights-2k.json`, 'utf8')) as {
    date: string;
    delay: number;
    distance: number;
    origin: string;
    destination: string;
  }[];
  const dates = records.map((r) => Date.parse(`${r.date.replaceAll('/', '-').replace(' ', 'T')}:00Z`));
  return {
    rows: records.length,
    columns: [
      { kind: 'datetime', name: 'date', values: Float64Array.from(dates) },
      floatColumn(
        'distance',
        records.map((r) => r.distance),
      ),
      categoricalColumn(
        'origin',
        records.map((r) => r.origin),
      ),
      categoricalColumn(
        'destination',
        records.map((r) => r.destination),
      ),
      categoricalColumn(
        'delayed',
        records.map((r) => String(r.delay > 15)),
      ),
    ],
  };
}

/** The class index of every label of `prediction` in `classes`. */
function indices(prediction: string[], classes: readonly string[]): Float64Array {
  return Float64Array.from(prediction, (label) => classes.indexOf(label));
}

/** Recomputes the task's metrics from predictModel's output with the metrics module, independently of trainModel. */
function recompute(model: TrainedModel, frame: Frame): Record<string, number> {
  const { y, kept } = encodeTarget(frame, model.target, model.task, model.classes);
  assert.equal(kept.length, frame.rows, 'the test frames have no missing target');
  const out = predictModel(model, frame);
  if (model.task === 'regression') {
    const values = out.prediction as Float64Array;
    return { rmse: rmse(y, values), mae: mae(y, values), r2: r2(y, values) };
  }
  const classes = model.classes as string[];
  const predicted = indices(out.prediction as string[], classes);
  const proba = out.probabilities as Float64Array;
  if (model.task === 'binary') {
    const positive = Float64Array.from({ length: y.length }, (_, r) => proba[2 * r + 1] as number);
    return {
      auc: rocAuc(y, positive),
      pr_auc: averagePrecision(y, positive),
      log_loss: logLoss(y, positive),
      accuracy: accuracy(y, predicted),
      f1: f1Score(y, predicted, 'binary'),
      brier: brierScore(y, positive),
    };
  }
  return {
    accuracy: accuracy(y, predicted),
    f1_macro: f1Score(y, predicted, 'macro'),
    f1_weighted: f1Score(y, predicted, 'weighted'),
    log_loss: logLoss(y, proba),
    auc_ovr: rocAuc(y, proba),
  };
}

function assertMetricsMatch(actual: Record<string, number>, expected: Record<string, number>): void {
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(actual[key] !== undefined, `metric ${key} is reported`);
    assert.ok(Math.abs((actual[key] as number) - value) <= 1e-12, `${key}: ${actual[key]} vs ${value}`);
  }
}

const penguins = penguinFrame(penguinRecords().filter((r) => r.Species !== null));

describe('trainModel on real data', () => {
  for (const model of ['gbdt', 'forest', 'logistic'] as const) {
    it(`${model}: penguin species (multiclass), metrics equal recomputing them from predictModel`, async () => {
      const { train, holdout } = holdoutSplit(penguins, 0.3, 1);
      const spec: TrainSpec = { task: 'classification', target: 'Species', model, params: { n_estimators: 20 } };
      if (model === 'logistic') spec.params = { C: 1 };
      const result = await trainModel(train, spec, { validation: holdout });
      assert.equal(result.model.task, 'multiclass');
      assert.deepEqual(result.model.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
      assert.ok((result.metrics.validation_accuracy as number) > 0.93, JSON.stringify(result.metrics));
      assertMetricsMatch(evaluateModel(result.model, holdout), recompute(result.model, holdout));
      const validation = Object.fromEntries(
        Object.entries(result.metrics)
          .filter(([k]) => k.startsWith('validation_'))
          .map(([k, v]) => [k.slice('validation_'.length), v]),
      );
      assertMetricsMatch(validation, recompute(result.model, holdout));
      assert.ok(Object.keys(Object.values(result.importance)[0] ?? {}).length > 0);
    });
  }

  for (const model of ['linear', 'gbdt'] as const) {
    it(`${model}: seattle-weather temp_max (regression) with date parts, metrics equal recomputing them`, async () => {
      const frame = seattleFrame();
      const { train, holdout } = holdoutSplit(frame, 0.25, 3);
      const result = await trainModel(
        train,
        { task: 'regression', target: 'temp_max', model, params: model === 'gbdt' ? { n_estimators: 30 } : {} },
        { validation: holdout },
      );
      assert.ok((result.metrics.validation_r2 as number) > 0.7, JSON.stringify(result.metrics));
      assertMetricsMatch(evaluateModel(result.model, holdout), recompute(result.model, holdout));
      const names = result.model.preprocessing.names;
      assert.ok(names.includes('date.month') && !names.includes('date.hour'), 'only varying date parts');
    });
  }

  it('gbdt: delayed flights (binary, native categorical origin/destination), with per-round history', async () => {
    const { train, holdout } = holdoutSplit(flightsFrame(), 0.3, 0);
    const steps: number[] = [];
    const result = await trainModel(
      train,
      {
        task: 'classification',
        target: 'delayed',
        model: 'gbdt',
        params: { n_estimators: 25, max_depth: 4, eta: 0.1 },
      },
      { validation: holdout, onIteration: (step) => void steps.push(step) },
    );
    assert.equal(result.model.task, 'binary');
    assert.deepEqual(result.model.classes, ['false', 'true']);
    assert.deepEqual(
      steps,
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.equal(result.history.validation_logloss?.length, 25);
    assert.ok((result.metrics.validation_auc as number) > 0.55, JSON.stringify(result.metrics));
    assertMetricsMatch(evaluateModel(result.model, holdout), recompute(result.model, holdout));
    assert.ok(result.importance.gain !== undefined && result.importance.split !== undefined);
  });

  it('stops gradient boosting when onIteration answers true, keeping the rounds so far', async () => {
    const result = await trainModel(
      penguins,
      { task: 'multiclass', target: 'Species', model: 'gbdt', params: { n_estimators: 100 } },
      { validation: penguins, onIteration: (step) => step >= 2 },
    );
    assert.equal(result.model.learner.kind === 'gbdt' ? result.model.learner.trees.length : 0, 9);
  });
});

describe('training specs and targets', () => {
  it('resolves aliases and CLI strings by the declared type, and records every default', () => {
    assert.deepEqual(resolveParams('gbdt', { eta: '0.1', num_boost_round: '40', grow_policy: 'lossguide' }), {
      learning_rate: 0.1,
      n_estimators: 40,
      grow_policy: 'lossguide',
    });
    assert.deepEqual(resolveParams('forest', { bootstrap: 'false', max_features: '0.5' }), {
      bootstrap: false,
      max_features: 0.5,
    });
    assert.equal(resolveParams('forest', { max_features: 'sqrt' }).max_features, 'sqrt');
    const full = withDefaults('logistic', { C: 0.5 });
    assert.equal(full.C, 0.5);
    assert.equal(full.penalty, 'l2');
    assert.equal(full.max_iter, 1000);
  });

  it('refuses unknown, duplicated and ill-typed parameters, naming them', () => {
    assertInvalid(() => resolveParams('gbdt', { depth: 3 }), 'params.depth', /valid parameters are n_estimators/);
    assertInvalid(() => resolveParams('logistic', { max_depth: 3 }), 'params.max_depth', /not a logistic parameter/);
    assertInvalid(() => resolveParams('gbdt', { eta: 0.1, learning_rate: 0.2 }), 'params.learning_rate', /second time/);
    assertInvalid(() => resolveParams('gbdt', { max_depth: '2.5' }), 'params.max_depth', /whole number/);
    assertInvalid(() => resolveParams('gbdt', { subsample: 0 }), 'params.subsample', /\(0, 1\]/);
    assertInvalid(() => resolveParams('gbdt', { grow_policy: 'wide' }), 'params.grow_policy', /depthwise, lossguide/);
    assertInvalid(() => resolveParams('forest', { bootstrap: 'maybe' }), 'params.bootstrap', /true or false/);
  });

  it('sorts classes as strings, infers binary, and drops rows whose target is missing', async () => {
    const frame: Frame = {
      rows: 8,
      columns: [floatColumn('x', [1, 2, 3, 4, 5, 6, 7, 8]), floatColumn('y', [10, 2, null, 10, 2, 2, 10, Number.NaN])],
    };
    const target = encodeTarget(frame, 'y', 'classification');
    assert.equal(target.task, 'binary');
    assert.deepEqual(target.classes, ['10', '2'], 'string order, not numeric');
    assert.deepEqual(Array.from(target.y), [0, 1, 0, 1, 1, 0]);
    assert.equal(target.dropped, 2);
    const result = await trainModel(frame, { task: 'classification', target: 'y', model: 'logistic', params: {} });
    assert.equal(result.dropped.train, 2);
    const unseen = encodeTarget({ rows: 2, columns: [floatColumn('y', [2, 5])] }, 'y', 'binary', target.classes);
    assert.deepEqual([unseen.kept.length, unseen.dropped], [1, 1]);
  });

  it('uses a given preprocessing spec instead of the default, its columns being the features', async () => {
    const preprocessing = {
      columns: { 'Flipper Length (mm)': [{ kind: 'impute' as const, strategy: 'median' as const }] },
    };
    const result = await trainModel(penguins, {
      task: 'classification',
      target: 'Species',
      model: 'logistic',
      params: {},
      preprocessing,
    });
    assert.deepEqual(result.model.preprocessing.names, ['Flipper Length (mm)']);
    assert.deepEqual(
      result.model.signature.inputs.map((i) => i.name),
      ['Flipper Length (mm)'],
    );
    assert.deepEqual(result.preprocessing, preprocessing);
    await assert.rejects(
      trainModel(penguins, {
        task: 'classification',
        target: 'Species',
        model: 'logistic',
        params: {},
        features: ['Island'],
        preprocessing,
      }),
      /preprocessing: names column 'Flipper Length \(mm\)', which is not a feature/,
    );
  });

  it('refuses a target that does not fit the task', async () => {
    assertInvalid(() => encodeTarget(penguins, 'Species', 'regression'), 'target', /numeric target/);
    assertInvalid(() => encodeTarget(penguins, 'Species', 'binary'), 'task', /2 classes/);
    assertInvalid(() => encodeTarget(penguins, 'Colour', 'binary'), 'target', /no column 'Colour'/);
    await assert.rejects(
      trainModel(penguins, { task: 'regression', target: 'Species', model: 'logistic', params: {} }),
      /the logistic model classifies/,
    );
    await assert.rejects(
      trainModel(penguins, {
        task: 'classification',
        target: 'Species',
        model: 'gbdt',
        params: {},
        features: ['Wings'],
      }),
      /no column 'Wings'/,
    );
  });
});
