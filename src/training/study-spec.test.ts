import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { checkStudySpec, directionOf, studySpecToWire } from './study-spec.js';
import { finalMetricNames, trialRequest } from './study-training-runner.js';

const base = {
  data: 'flights@1',
  target: 'delayed',
  task: 'binary',
  model: 'gbdt',
  space: { max_depth: { type: 'int', low: 3, high: 10 } },
};

function rejects(body: unknown, field: string): void {
  assert.throws(
    () => checkStudySpec(body),
    (err: unknown) => {
      assert.ok(err instanceof KilnError);
      assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
      assert.ok(String(err.details?.field).startsWith(field), `${field}: ${err.message}`);
      return true;
    },
  );
}

describe('study specs', () => {
  it('fills the defaults: metric by task, direction by metric, TPE seed 0, median pruner, 20 trials one at a time', () => {
    const spec = checkStudySpec(base);
    assert.equal(spec.metric, 'validation_log_loss');
    assert.equal(spec.direction, 'minimize');
    assert.equal(spec.sampler.type, 'tpe');
    assert.equal(spec.sampler.seed, 0);
    assert.equal(spec.sampler.nStartupTrials, 10, "Optuna's TPE defaults, filled in by the sampler's own check");
    assert.equal(spec.pruner.type, 'median');
    assert.equal(spec.nTrials, 20);
    assert.equal(spec.parallelism, 1);
    assert.equal(spec.name, 'gbdt-flights');
    assert.equal(checkStudySpec({ ...base, task: 'regression' }).metric, 'validation_rmse');
  });

  it('infers the direction from the metric name and refuses to guess for unknown metrics', () => {
    assert.equal(directionOf('validation_auc'), 'maximize');
    assert.equal(directionOf('eval_r2'), 'maximize');
    assert.equal(directionOf('train_f1_macro'), 'maximize');
    assert.equal(directionOf('validation_mae'), 'minimize');
    assert.equal(directionOf('validation_wobble'), undefined);
    assert.equal(checkStudySpec({ ...base, metric: 'validation_auc' }).direction, 'maximize');
    assert.equal(checkStudySpec({ ...base, metric: 'wobble', direction: 'maximize' }).direction, 'maximize');
    rejects({ ...base, metric: 'wobble' }, 'direction');
  });

  it('round-trips through its wire form, which is what a study stores', () => {
    const spec = checkStudySpec({
      ...base,
      eval_data: 'flights@2',
      features: ['distance', 'hour'],
      params: { n_estimators: 50, grow_policy: 'lossguide' },
      sampler: { type: 'random', seed: 3 },
      pruner: { type: 'asha', reductionFactor: 3 },
      n_trials: 12,
      parallelism: 3,
      timeout_seconds: 600,
      register_best: 'flights-delay',
      experiment: 'tuning',
    });
    assert.deepEqual(checkStudySpec(studySpecToWire(spec)), spec);
  });

  it('caps a grid study at the grid size and parallelism at the trial count', () => {
    const grid = checkStudySpec({
      ...base,
      space: { max_depth: { type: 'int', low: 3, high: 5 }, booster: { type: 'categorical', choices: ['a', 'b'] } },
      sampler: { type: 'grid' },
      n_trials: 100,
      parallelism: 10,
    });
    assert.equal(grid.nTrials, 6);
    assert.equal(grid.parallelism, 6);
  });

  it('names the field of every mistake', () => {
    rejects(null, 'spec');
    rejects({ ...base, data: undefined }, 'data');
    rejects({ ...base, target: '' }, 'target');
    rejects({ ...base, task: 'ranking' }, 'task');
    rejects({ ...base, model: 'svm' }, 'model');
    rejects({ ...base, space: undefined }, 'space');
    rejects({ ...base, space: { max_depth: { type: 'int', low: 9, high: 1 } } }, 'space.max_depth');
    rejects({ ...base, params: { max_depth: 4 } }, 'params.max_depth');
    rejects({ ...base, params: { eta: [0.1] } }, 'params.eta');
    rejects({ ...base, n_trials: 1.5 }, 'n_trials');
    rejects({ ...base, parallelism: 0 }, 'parallelism');
    rejects({ ...base, timeout_seconds: -1 }, 'timeout_seconds');
    rejects({ ...base, validation_fraction: 1 }, 'validation_fraction');
    rejects({ ...base, features: [] }, 'features');
    rejects({ ...base, sampler: { type: 'cmaes' } }, 'sampler');
    rejects({ ...base, pruner: { type: 'hyperband' } }, 'pruner');
    rejects({ ...base, direction: 'up' }, 'direction');
    rejects({ ...base, register_best: ' padded ' }, 'register_best');
  });

  it('builds each trial request from the template, the base params and the sampled params', () => {
    const spec = checkStudySpec({ ...base, params: { n_estimators: 50 }, experiment: 'tuning', name: 'delays' });
    const request = trialRequest(spec, { number: 4, params: { max_depth: 7, booster: null } });
    assert.deepEqual(request, {
      data: 'flights@1',
      target: 'delayed',
      task: 'binary',
      model: 'gbdt',
      params: { n_estimators: 50, max_depth: 7 },
      experiment: 'tuning',
      runName: 'delays-trial-4',
    });
  });

  it("renames gradient boosting's per-round log losses to the final metrics' names", () => {
    assert.deepEqual(finalMetricNames({ validation_mlogloss: 0.5, train_logloss: 0.4, validation_rmse: 2 }), {
      validation_log_loss: 0.5,
      train_log_loss: 0.4,
      validation_rmse: 2,
    });
  });
});
