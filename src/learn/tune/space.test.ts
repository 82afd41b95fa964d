import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertInvalid } from '../testing/assert.js';
import { checkSearchSpace, paramOrder } from './space.js';
import { checkPrunerSpec, checkSamplerSpec } from './specs.js';

describe('checkSearchSpace', () => {
  it('accepts every distribution kind and returns a clean copy', () => {
    const input = {
      model: { type: 'categorical', choices: ['gbdt', 'linear', null, 3, true] },
      lr: { type: 'float', low: 1e-4, high: 0.3, log: true, when: { param: 'model', equals: ['gbdt'] } },
      alpha: { type: 'float', low: 0, high: 1, step: 0.1 },
      depth: { type: 'int', low: 1, high: 16, step: 3 },
      leaves: { type: 'int', low: 2, high: 1024, log: true },
      fixed: { type: 'float', low: 2, high: 2 },
    };
    const space = checkSearchSpace(input);
    assert.deepEqual(space, input);
    assert.notEqual(space.model, input.model);
  });

  const cases: [string, unknown, string, RegExp?][] = [
    ['not an object', [], 'space'],
    ['empty', {}, 'space'],
    ['unknown type', { a: { type: 'normal' } }, 'space.a.type'],
    ['low not a number', { a: { type: 'float', low: '0', high: 1 } }, 'space.a.low'],
    ['infinite high', { a: { type: 'float', low: 0, high: Number.POSITIVE_INFINITY } }, 'space.a.high'],
    ['low above high', { a: { type: 'int', low: 5, high: 1 } }, 'space.a.high', />= low/],
    ['fractional int bound', { a: { type: 'int', low: 0.5, high: 3 } }, 'space.a.low', /integer/],
    ['log with zero low', { a: { type: 'float', low: 0, high: 1, log: true } }, 'space.a.low', /log/],
    ['log int below 1', { a: { type: 'int', low: 0, high: 8, log: true } }, 'space.a.low'],
    ['log with step', { a: { type: 'float', low: 1, high: 8, log: true, step: 1 } }, 'space.a.step'],
    ['negative step', { a: { type: 'float', low: 0, high: 1, step: -0.1 } }, 'space.a.step'],
    ['range not a multiple of step', { a: { type: 'float', low: 0, high: 1, step: 0.3 } }, 'space.a.step', /multiple/],
    ['int range not a multiple of step', { a: { type: 'int', low: 0, high: 10, step: 3 } }, 'space.a.step'],
    ['unknown key', { a: { type: 'float', low: 0, high: 1, lgo: true } }, 'space.a.lgo'],
    ['empty choices', { a: { type: 'categorical', choices: [] } }, 'space.a.choices'],
    ['object choice', { a: { type: 'categorical', choices: ['x', {}] } }, 'space.a.choices[1]'],
    ['duplicate choice', { a: { type: 'categorical', choices: [1, 2, 1] } }, 'space.a.choices[2]', /duplicate/],
    [
      'unknown parent',
      { a: { type: 'int', low: 0, high: 1, when: { param: 'b', equals: [1] } } },
      'space.a.when.param',
    ],
    [
      'numeric parent',
      { b: { type: 'int', low: 0, high: 1 }, a: { type: 'int', low: 0, high: 1, when: { param: 'b', equals: [1] } } },
      'space.a.when.param',
      /categorical/,
    ],
    [
      'value not a parent choice',
      {
        b: { type: 'categorical', choices: ['x'] },
        a: { type: 'int', low: 0, high: 1, when: { param: 'b', equals: ['y'] } },
      },
      'space.a.when.equals[0]',
    ],
    [
      'cycle',
      {
        a: { type: 'categorical', choices: [1], when: { param: 'b', equals: [1] } },
        b: { type: 'categorical', choices: [1], when: { param: 'a', equals: [1] } },
      },
      'space.a.when',
      /cycle/,
    ],
  ];
  for (const [name, space, field, pattern] of cases) {
    it(`rejects ${name}, naming ${field}`, () => assertInvalid(() => checkSearchSpace(space, 'space'), field, pattern));
  }

  it('orders parents before their children', () => {
    const space = checkSearchSpace({
      depth: { type: 'int', low: 1, high: 3, when: { param: 'booster', equals: ['tree'] } },
      booster: { type: 'categorical', choices: ['tree', 'linear'], when: { param: 'model', equals: ['xgb'] } },
      model: { type: 'categorical', choices: ['xgb', 'lr'] },
      c: { type: 'float', low: 0, high: 1 },
    });
    assert.deepEqual(paramOrder(space), ['model', 'booster', 'depth', 'c']);
  });
});

describe('sampler and pruner specs', () => {
  it('fill in Optuna 3.1 defaults', () => {
    assert.deepEqual(checkSamplerSpec({ type: 'tpe', seed: 3 }), {
      type: 'tpe',
      seed: 3,
      nStartupTrials: 10,
      nEiCandidates: 24,
      multivariate: false,
      gamma: 0.1,
      priorWeight: 1,
      considerEndpoints: false,
      considerMagicClip: true,
      constantLiar: false,
    });
    assert.deepEqual(checkSamplerSpec({ type: 'grid' }), { type: 'grid' });
    assert.deepEqual(checkPrunerSpec({ type: 'median' }), {
      type: 'median',
      nStartupTrials: 5,
      nWarmupSteps: 0,
      intervalSteps: 1,
      nMinTrials: 1,
    });
    assert.deepEqual(checkPrunerSpec({ type: 'asha' }), {
      type: 'asha',
      minResource: 'auto',
      reductionFactor: 4,
      minEarlyStoppingRate: 0,
      bootstrapCount: 0,
    });
  });

  it('name the bad field', () => {
    assertInvalid(() => checkSamplerSpec({ type: 'cmaes' }), 'sampler.type');
    assertInvalid(() => checkSamplerSpec(null), 'sampler');
    assertInvalid(() => checkSamplerSpec({ type: 'tpe', seed: 1.5 }), 'sampler.seed');
    assertInvalid(() => checkSamplerSpec({ type: 'tpe', nStartupTrials: -1 }), 'sampler.nStartupTrials');
    assertInvalid(() => checkSamplerSpec({ type: 'tpe', gamma: 2 }), 'sampler.gamma');
    assertInvalid(() => checkSamplerSpec({ type: 'tpe', multivariate: 'yes' }), 'sampler.multivariate');
    assertInvalid(() => checkSamplerSpec({ type: 'random', nEiCandidates: 5 }), 'sampler.nEiCandidates');
    assertInvalid(
      () => checkSamplerSpec({ type: 'tpe', nEiCandidate: 5 }, 'study.sampler'),
      'study.sampler.nEiCandidate',
    );
    assertInvalid(() => checkPrunerSpec({ type: 'hyperband' }), 'pruner.type');
    assertInvalid(() => checkPrunerSpec({ type: 'median', intervalSteps: 0 }), 'pruner.intervalSteps');
    assertInvalid(() => checkPrunerSpec({ type: 'asha', reductionFactor: 1 }), 'pruner.reductionFactor');
    assertInvalid(() => checkPrunerSpec({ type: 'asha', minResource: 'min' }), 'pruner.minResource');
    assertInvalid(() => checkPrunerSpec({ type: 'asha', bootstrapCount: 2 }), 'pruner.bootstrapCount');
  });
});
