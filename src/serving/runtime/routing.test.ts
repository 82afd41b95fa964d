import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { DeploymentSpec, DeploymentTarget } from '../types.js';
import { planRoutes } from './plan.js';
import { bucketThreshold, FastRandom, ROUTE_BUCKETS, stableBucket, WeightedSplit } from './routing.js';

function specOf(strategy: DeploymentSpec['strategy'], targets: DeploymentTarget[]): DeploymentSpec {
  return {
    workspace: 'default',
    name: 'd',
    strategy,
    targets,
    maxQueue: 10,
    timeoutMs: 100,
    input: { extraColumns: 'ignore', maxBatchRows: 10 },
    logging: { sampleRate: 1 },
  };
}

function refusal(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.status, 400);
    return err;
  }
  return assert.fail('expected a 400');
}

describe('stableBucket', () => {
  it('gives a key the same bucket every time, and spreads keys evenly over the 10,000 buckets', () => {
    assert.equal(stableBucket('customer-42'), stableBucket('customer-42'));
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const bucket = stableBucket(`user-${i}`);
      assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < ROUTE_BUCKETS);
      deciles[Math.floor(bucket / 1000)] = (deciles[Math.floor(bucket / 1000)] ?? 0) + 1;
    }
    for (const count of deciles) assert.ok(Math.abs(count - 10_000) < 500, `decile holds ${count} of 100,000`);
  });

  it('draws independently under another salt', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++) if (stableBucket(`k${i}`) < 5000 === stableBucket(`k${i}`, 77) < 5000) same++;
    assert.ok(Math.abs(same - 5000) < 300, `${same} of 10,000 agree`);
  });
});

describe('WeightedSplit', () => {
  it('gives each choice its weight in buckets, down to 0.01 %', () => {
    const split = new WeightedSplit([
      { value: 'a', weight: 10 },
      { value: 'b', weight: 89.99 },
      { value: 'c', weight: 0.01 },
    ]);
    assert.equal(split.pick(0), 'a');
    assert.equal(split.pick(999), 'a');
    assert.equal(split.pick(1000), 'b');
    assert.equal(split.pick(9998), 'b');
    assert.equal(split.pick(9999), 'c');
  });

  it('never routes to a zero weight', () => {
    const split = new WeightedSplit([
      { value: 'primary', weight: 100 },
      { value: 'canary', weight: 0 },
    ]);
    for (let b = 0; b < ROUTE_BUCKETS; b++) assert.equal(split.pick(b), 'primary');
  });

  it('with a seeded random draw, replays the same sequence and fills the split by weight', () => {
    const a = new FastRandom(9);
    const b = new FastRandom(9);
    const split = new WeightedSplit([
      { value: 0, weight: 25 },
      { value: 1, weight: 75 },
    ]);
    let ones = 0;
    for (let i = 0; i < 20_000; i++) {
      const bucket = a.bucket();
      assert.equal(bucket, b.bucket());
      ones += split.pick(bucket);
    }
    assert.ok(Math.abs(ones / 20_000 - 0.75) < 0.02, String(ones));
    assert.equal(bucketThreshold(30), 3000);
    assert.equal(bucketThreshold(150), ROUTE_BUCKETS);
  });
});

describe('planRoutes', () => {
  const p = (model: string): DeploymentTarget => ({ model, role: 'primary', weight: 0 });

  it('puts the primary first with the rest of a canary split, and keeps shadows apart', () => {
    const plan = planRoutes(
      specOf('canary', [
        { model: 'models:/m/2', role: 'canary', weight: 15 },
        { model: 'models:/m/3', role: 'shadow', weight: 40 },
        p('models:/m/1'),
      ]),
    );
    assert.deepEqual(
      plan.answering.map((t) => [t.index, t.role, t.weight]),
      [
        [2, 'primary', 85],
        [0, 'canary', 15],
      ],
    );
    assert.deepEqual(
      plan.shadows.map((t) => [t.index, t.weight]),
      [[1, 40]],
    );
  });

  it('refuses targets that do not fit the strategy, naming the field', () => {
    assert.match(refusal(() => planRoutes(specOf('single', []))).message, /^targets:/);
    assert.match(
      refusal(() => planRoutes(specOf('single', [p('a'), { model: 'b', role: 'canary', weight: 5 }]))).message,
      /^targets\[1\]\.role: a single deployment has no canary target/,
    );
    assert.match(
      refusal(() => planRoutes(specOf('canary', [p('a'), { model: 'b', role: 'canary', weight: 101 }]))).message,
      /^targets\[1\]\.weight: must be a percentage/,
    );
    assert.match(refusal(() => planRoutes(specOf('shadow', [p('a')]))).message, /at least one shadow/);
    assert.match(
      refusal(() => planRoutes(specOf('ab', [{ model: 'a', role: 'variant', weight: 100 }]))).message,
      /at least two variant/,
    );
    assert.match(refusal(() => planRoutes(specOf('single', [p('a'), p('b')]))).message, /exactly one primary/);
    assert.match(refusal(() => planRoutes(specOf('single', [p('')]))).message, /^targets\[0\]\.model:/);
  });
});
