import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { assertInvalid } from '../testing/assert.js';
import { gridPoints, gridSize, isGridExhausted } from './grid.js';
import { checkSearchSpace, type ParamValue, type SearchSpace } from './space.js';
import type { SamplerSpec } from './specs.js';
import { suggest } from './suggest.js';
import { bestTrial, type Direction, type TrialRecord } from './trials.js';

type Objective = (params: Record<string, ParamValue>) => number;

/** Runs a sequential study and returns its trials. */
function optimize(
  space: SearchSpace,
  sampler: SamplerSpec,
  objective: Objective,
  nTrials: number,
  direction: Direction = 'minimize',
) {
  const trials: TrialRecord[] = [];
  for (let number = 0; number < nTrials; number++) {
    const params = suggest(space, sampler, direction, trials, number);
    trials.push({ number, state: 'complete', params, value: objective(params), intermediate: [] });
  }
  return trials;
}

const QUADRATIC_SPACE = checkSearchSpace({
  x: { type: 'float', low: -10, high: 10 },
  y: { type: 'float', low: -10, high: 10 },
  z: { type: 'int', low: -10, high: 10 },
});
const quadratic: Objective = (p) =>
  ((p.x as number) - 3) ** 2 + ((p.y as number) + 1) ** 2 + ((p.z as number) - 2) ** 2;

const CONDITIONAL_SPACE = checkSearchSpace({
  model: { type: 'categorical', choices: ['gbdt', 'linear'] },
  depth: { type: 'int', low: 1, high: 8, when: { param: 'model', equals: ['gbdt'] } },
  lr: { type: 'float', low: 1e-3, high: 1, log: true, when: { param: 'model', equals: ['gbdt'] } },
  penalty: { type: 'categorical', choices: ['l1', 'l2'], when: { param: 'model', equals: ['linear'] } },
  alpha: { type: 'float', low: 0, high: 1, step: 0.05, when: { param: 'penalty', equals: ['l1'] } },
});
const conditionalObjective: Objective = (p) =>
  p.model === 'gbdt'
    ? Math.abs(Math.log10(p.lr as number) + 1) + Math.abs((p.depth as number) - 5)
    : 1 + (p.penalty === 'l1' ? (p.alpha as number) : 0.5);

const SAMPLERS: SamplerSpec[] = [
  { type: 'random', seed: 4 },
  { type: 'tpe', seed: 4 },
  { type: 'tpe', seed: 4, multivariate: true },
  { type: 'tpe', seed: 4, constantLiar: true, nStartupTrials: 5 },
];

describe('suggest: determinism and resume', () => {
  for (const sampler of SAMPLERS) {
    it(`${JSON.stringify(sampler)}: the same history gives the same parameters, also after a JSON round trip`, () => {
      const trials = optimize(CONDITIONAL_SPACE, sampler, conditionalObjective, 25);
      const next = suggest(CONDITIONAL_SPACE, sampler, 'minimize', trials, 25);
      const persisted = JSON.parse(JSON.stringify(trials)) as TrialRecord[];
      const shuffled = [...persisted].reverse();
      const withCurrent = [...shuffled, { number: 25, state: 'running' as const, params: {}, intermediate: [] }];
      assert.deepEqual(suggest(CONDITIONAL_SPACE, sampler, 'minimize', withCurrent, 25), next);
      // A study resumed from its persisted trials proposes what the uninterrupted one proposed.
      const again = optimize(CONDITIONAL_SPACE, sampler, conditionalObjective, 25);
      assert.deepEqual(again, trials);
      const otherSeed = optimize(CONDITIONAL_SPACE, { ...sampler, seed: 5 }, conditionalObjective, 25);
      assert.notDeepEqual(otherSeed, trials);
    });
  }

  it('TPE uses the random sampler’s draws for its startup trials, and its own model after', () => {
    const random = optimize(QUADRATIC_SPACE, { type: 'random', seed: 9 }, quadratic, 12);
    const tpe = optimize(QUADRATIC_SPACE, { type: 'tpe', seed: 9 }, quadratic, 12);
    assert.deepEqual(
      tpe.slice(0, 10).map((t) => t.params),
      random.slice(0, 10).map((t) => t.params),
    );
    assert.notDeepEqual(tpe[11]?.params, random[11]?.params);
  });

  it('maximising −f proposes exactly what minimising f does', () => {
    const minimized = optimize(QUADRATIC_SPACE, { type: 'tpe', seed: 2 }, quadratic, 30);
    const maximized = optimize(QUADRATIC_SPACE, { type: 'tpe', seed: 2 }, (p) => -quadratic(p), 30, 'maximize');
    assert.deepEqual(
      maximized.map((t) => t.params),
      minimized.map((t) => t.params),
    );
    assert.equal(bestTrial(maximized, 'maximize')?.number, bestTrial(minimized, 'minimize')?.number);
  });

  it('running trials count only under constant liar', () => {
    const trials = optimize(QUADRATIC_SPACE, { type: 'tpe', seed: 3 }, quadratic, 20);
    const running: TrialRecord = { number: 20, state: 'running', params: { x: 3, y: -1, z: 2 }, intermediate: [] };
    for (const constantLiar of [false, true]) {
      const sampler = { type: 'tpe' as const, seed: 3, constantLiar };
      const without = suggest(QUADRATIC_SPACE, sampler, 'minimize', trials, 21);
      const withRunning = suggest(QUADRATIC_SPACE, sampler, 'minimize', [...trials, running], 21);
      if (constantLiar) assert.notDeepEqual(withRunning, without);
      else assert.deepEqual(withRunning, without);
    }
  });

  it('ranks pruned trials by their last report, after complete ones, and ignores failed ones', () => {
    const trials = optimize(QUADRATIC_SPACE, { type: 'tpe', seed: 6 }, quadratic, 20);
    const sampler: SamplerSpec = { type: 'tpe', seed: 6 };
    const base = suggest(QUADRATIC_SPACE, sampler, 'minimize', trials, 21);
    const extra = { number: 20, params: { x: -9, y: 9, z: -9 }, intermediate: [[0, 500] as [number, number]] };
    const failed: TrialRecord = { ...extra, state: 'failed' };
    assert.deepEqual(suggest(QUADRATIC_SPACE, sampler, 'minimize', [...trials, failed], 21), base);
    const pruned: TrialRecord = { ...extra, state: 'pruned' };
    const withPruned = suggest(QUADRATIC_SPACE, sampler, 'minimize', [...trials, pruned], 21);
    assert.notDeepEqual(withPruned, base);
    // A pruned trial never joins the good set while complete trials fill it, whatever it reported.
    const flattering: TrialRecord = { ...pruned, intermediate: [[0, -1e9]] };
    assert.deepEqual(suggest(QUADRATIC_SPACE, sampler, 'minimize', [...trials, flattering], 21), withPruned);
  });

  it('rejects a bad trial number or direction, naming it', () => {
    assertInvalid(() => suggest(QUADRATIC_SPACE, { type: 'random' }, 'minimize', [], -1), 'trialNumber');
    assertInvalid(() => suggest(QUADRATIC_SPACE, { type: 'random' }, 'up' as Direction, [], 0), 'direction');
    assertInvalid(
      () => suggest(QUADRATIC_SPACE, { type: 'anneal' } as unknown as SamplerSpec, 'minimize', [], 0),
      'sampler.type',
    );
  });
});

describe('suggest: conditional parameters', () => {
  for (const sampler of SAMPLERS) {
    it(`${JSON.stringify(sampler)}: a parameter appears exactly when its parent matches`, () => {
      const trials = optimize(CONDITIONAL_SPACE, sampler, conditionalObjective, 40);
      for (const { params } of trials) {
        assert.equal('depth' in params, params.model === 'gbdt', JSON.stringify(params));
        assert.equal('lr' in params, params.model === 'gbdt');
        assert.equal('penalty' in params, params.model === 'linear');
        assert.equal('alpha' in params, params.penalty === 'l1');
        if ('lr' in params) assert.ok((params.lr as number) >= 1e-3 && (params.lr as number) <= 1);
        if ('depth' in params) assert.ok(Number.isInteger(params.depth) && (params.depth as number) <= 8);
        if ('alpha' in params)
          assert.ok(Math.abs((params.alpha as number) * 20 - Math.round((params.alpha as number) * 20)) < 1e-9);
      }
      assert.ok(trials.some((t) => t.params.model === 'gbdt') && trials.some((t) => t.params.model === 'linear'));
    });
  }
});

describe('suggest: TPE against random search', () => {
  it('finds a better quadratic minimum than random search within 60 trials on at least 8 of 10 seeds', () => {
    let wins = 0;
    const ratios: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const tpe = bestTrial(optimize(QUADRATIC_SPACE, { type: 'tpe', seed }, quadratic, 60), 'minimize')
        ?.value as number;
      const random = bestTrial(optimize(QUADRATIC_SPACE, { type: 'random', seed }, quadratic, 60), 'minimize')
        ?.value as number;
      if (tpe < random) wins++;
      ratios.push(tpe / random);
    }
    ratios.sort((a, b) => a - b);
    assert.ok(wins >= 8, `TPE won on ${wins} of 10 seeds`);
    assert.ok((ratios[5] as number) < 0.5, `median best-value ratio TPE/random ${ratios[5]}`);
  });
});

describe('grid sampler', () => {
  const space = checkSearchSpace({
    booster: { type: 'categorical', choices: ['gbtree', 'dart', 'gblinear'] },
    depth: { type: 'int', low: 2, high: 6, step: 2, when: { param: 'booster', equals: ['gbtree', 'dart'] } },
    eta: { type: 'float', low: 0.1, high: 0.3, step: 0.1 },
  });

  it('counts and enumerates the conditional product', () => {
    assert.equal(gridSize(space), 21);
    const keys = gridPoints(space).map((p) => JSON.stringify(p));
    assert.equal(new Set(keys).size, 21);
    assert.ok(keys.includes(JSON.stringify({ booster: 'gblinear', eta: 0.3 })));
    assert.ok(keys.includes(JSON.stringify({ booster: 'dart', depth: 4, eta: 0.2 })));
  });

  for (const seed of [undefined, 11]) {
    it(`visits every point once in sequential trials (seed ${seed}), then is exhausted`, () => {
      const sampler: SamplerSpec = seed === undefined ? { type: 'grid' } : { type: 'grid', seed };
      const trials = optimize(space, sampler, () => 0, 21);
      const visited = trials.map((t) => JSON.stringify(t.params));
      assert.equal(new Set(visited).size, 21);
      for (const { params } of trials) assert.equal('depth' in params, params.booster !== 'gblinear');
      assert.deepEqual(new Set(visited), new Set(gridPoints(space).map((p) => JSON.stringify(p))));
      assert.equal(isGridExhausted(space, trials.slice(0, 20)), false);
      assert.equal(isGridExhausted(space, trials), true);
      assert.throws(
        () => suggest(space, sampler, 'minimize', trials, 21),
        (e: unknown) => e instanceof KilnError && e.code === 'INVALID_STATE',
      );
    });
  }

  it('gives parallel workers different points, and re-runs a running point only when nothing else is left', () => {
    const first = suggest(space, { type: 'grid' }, 'minimize', [], 0);
    const running: TrialRecord = { number: 0, state: 'running', params: first, intermediate: [] };
    const second = suggest(space, { type: 'grid' }, 'minimize', [running], 1);
    assert.notDeepEqual(second, first);
    const done = optimize(space, { type: 'grid' }, () => 0, 21)
      .slice(1)
      .map((t) => ({ ...t, number: t.number + 1 }));
    assert.deepEqual(suggest(space, { type: 'grid' }, 'minimize', [running, ...done], 30), first);
  });

  it('refuses a float without a step, naming it', () => {
    const bad = checkSearchSpace({ x: { type: 'float', low: 0, high: 1 } });
    assertInvalid(() => suggest(bad, { type: 'grid' }, 'minimize', [], 0), 'searchSpace.x.step');
    assertInvalid(() => gridSize(bad, 'space'), 'space.x.step');
  });
});
