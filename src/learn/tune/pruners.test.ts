import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../random.js';
import { assertInvalid } from '../testing/assert.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { shouldPrune } from './pruners.js';
import { checkPrunerSpec, type PrunerSpec } from './specs.js';
import type { Direction, TrialRecord } from './trials.js';

/** Learning curves: trial i reports curves[i][s] at step s (a few NaN, some ties, some flat). */
function learningCurves(nTrials: number, nSteps: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: nTrials }, (_, i) => {
    const final = rng();
    const speed = 2 + 10 * rng();
    return Array.from({ length: nSteps }, (_, s) => {
      if (i === 7 && s === 3) return Number.NaN;
      if (i === 9) return 0.5;
      return Math.round((final + (1 - final) * Math.exp(-s / speed) + 0.05 * rng()) * 1000) / 1000;
    });
  });
}

/**
 * Runs the curves through a study sequentially, asking `decide` after every report as Optuna's
 * `optimize` loop does; a pruned trial stops reporting. Returns per trial the step it was pruned at
 * (or -1).
 */
function replay(curves: number[][], decide: (history: TrialRecord[], trial: TrialRecord, step: number) => boolean) {
  const history: TrialRecord[] = [];
  return curves.map((curve, number) => {
    const trial: TrialRecord = { number, state: 'running', params: {}, intermediate: [] };
    let prunedAt = -1;
    for (const [step, value] of curve.entries()) {
      trial.intermediate.push([step, value]);
      if (decide(history, trial, step)) {
        prunedAt = step;
        break;
      }
    }
    trial.state = prunedAt >= 0 ? 'pruned' : 'complete';
    if (prunedAt < 0) trial.value = curve.at(-1) as number;
    history.push(trial);
    return prunedAt;
  });
}

const OPTUNA_REPLAY = `
import json, math, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
spec = json.load(sys.stdin)
curves = [[float('nan') if v is None else v for v in c] for c in spec['curves']]
kind, o = spec['pruner'], spec['options']
if kind == 'median':
    pruner = optuna.pruners.MedianPruner(n_startup_trials=o['nStartupTrials'], n_warmup_steps=o['nWarmupSteps'],
                                         interval_steps=o['intervalSteps'], n_min_trials=o['nMinTrials'])
else:
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=o['minResource'], reduction_factor=o['reductionFactor'],
                                                    min_early_stopping_rate=o['minEarlyStoppingRate'],
                                                    bootstrap_count=o['bootstrapCount'])
study = optuna.create_study(direction=spec['direction'], pruner=pruner)
pruned_at = []
for curve in curves:
    trial = study.ask()
    at = -1
    for step, value in enumerate(curve):
        trial.report(value, step)
        if trial.should_prune():
            at = step
            break
    if at >= 0:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    else:
        study.tell(trial, curve[-1])
    pruned_at.append(at)
print(json.dumps(pruned_at))
`;

const CASES: { name: string; pruner: PrunerSpec; direction: Direction; steps: number }[] = [
  { name: 'median, defaults, minimize', pruner: { type: 'median' }, direction: 'minimize', steps: 12 },
  { name: 'median, defaults, maximize', pruner: { type: 'median' }, direction: 'maximize', steps: 12 },
  {
    name: 'median, warm-up 3, every 2 steps, 3 trials at the step',
    pruner: { type: 'median', nStartupTrials: 2, nWarmupSteps: 3, intervalSteps: 2, nMinTrials: 3 },
    direction: 'minimize',
    steps: 12,
  },
  { name: 'asha, defaults (auto min resource)', pruner: { type: 'asha' }, direction: 'minimize', steps: 20 },
  {
    name: 'asha, min resource 1, η 2, maximize',
    pruner: { type: 'asha', minResource: 1, reductionFactor: 2 },
    direction: 'maximize',
    steps: 20,
  },
  {
    name: 'asha, min resource 2, η 3, early-stopping rate 1, bootstrap 2',
    pruner: { type: 'asha', minResource: 2, reductionFactor: 3, minEarlyStoppingRate: 1, bootstrapCount: 2 },
    direction: 'minimize',
    steps: 30,
  },
];

describe('pruners against Optuna 3.1', { skip: pythonSkip(['optuna']) }, () => {
  for (const { name, pruner, direction, steps } of CASES) {
    it(`${name}: the same trials are pruned at the same steps`, () => {
      const curves = learningCurves(40, steps, steps + name.length);
      const options = checkPrunerSpec(pruner);
      const kind = options.type;
      const expected = runPython<number[]>(OPTUNA_REPLAY, {
        curves: curves.map((c) => c.map((v) => (Number.isNaN(v) ? null : v))),
        pruner: kind,
        options,
        direction,
      });
      const actual = replay(curves, (history, trial, step) => shouldPrune(pruner, direction, history, trial, step));
      assert.deepEqual(actual, expected);
      assert.ok(
        expected.some((at) => at >= 0) && expected.some((at) => at < 0),
        'the case prunes some trials and keeps others',
      );
    });
  }
});

describe('shouldPrune', () => {
  const complete = (number: number, values: number[]): TrialRecord => ({
    number,
    state: 'complete',
    params: {},
    value: values.at(-1) as number,
    intermediate: values.map((v, s) => [s, v]),
  });

  it('median: prunes a trial worse than the median of complete trials at that step, and only then', () => {
    const history = [1, 2, 3, 4, 5].map((v, i) => complete(i, [v, v]));
    const worse: TrialRecord = { number: 5, state: 'running', params: {}, intermediate: [[0, 3.5]] };
    const better: TrialRecord = { number: 6, state: 'running', params: {}, intermediate: [[0, 2.5]] };
    assert.equal(shouldPrune({ type: 'median' }, 'minimize', history, worse, 0), true);
    assert.equal(shouldPrune({ type: 'median' }, 'minimize', history, better, 0), false);
    assert.equal(shouldPrune({ type: 'median' }, 'maximize', history, worse, 0), false);
    assert.equal(shouldPrune({ type: 'none' }, 'minimize', history, worse, 0), false);
    assert.equal(shouldPrune({ type: 'median' }, 'minimize', history.slice(0, 4), worse, 0), false, 'startup');
  });

  it('judges a trial on its reports up to the given step only', () => {
    const history = [1, 2, 3, 4, 5].map((v, i) => complete(i, [v, v, v]));
    const trial: TrialRecord = {
      number: 5,
      state: 'running',
      params: {},
      intermediate: [
        [0, 9],
        [1, 0],
      ],
    };
    assert.equal(shouldPrune({ type: 'median' }, 'minimize', history, trial, 0), true);
    assert.equal(shouldPrune({ type: 'median' }, 'minimize', history, trial, 1), false);
  });

  it('rejects a negative or fractional step, naming it', () => {
    const trial: TrialRecord = { number: 0, state: 'running', params: {}, intermediate: [] };
    assertInvalid(() => shouldPrune({ type: 'median' }, 'minimize', [], trial, -1), 'step');
    assertInvalid(() => shouldPrune({ type: 'median' }, 'minimize', [], trial, 1.5), 'step');
  });
});
