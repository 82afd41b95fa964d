import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { createRng, shuffleInPlace } from './random.js';

describe('createRng', () => {
  it('repeats its stream for the same seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 20 }, createRng(seed));
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  it('matches the published mulberry32 stream for seed 1', () => {
    // First outputs (× 2³²) of the reference mulberry32 in bryc's JavaScript PRNG collection, seed 1.
    const rng = createRng(1);
    assert.deepEqual(
      [rng(), rng(), rng()].map((u) => u * 4294967296),
      [2693262067, 11749833, 2265367787],
    );
  });

  it('draws uniformly in [0, 1)', () => {
    const rng = createRng(7);
    const buckets = new Int32Array(10);
    for (let i = 0; i < 100_000; i++) {
      const u = rng();
      assert.ok(u >= 0 && u < 1);
      buckets[Math.floor(u * 10)] = (buckets[Math.floor(u * 10)] as number) + 1;
    }
    // 10,000 expected per bucket; 5 standard deviations is about ±475.
    for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 475, `bucket count ${count}`);
  });

  it('rejects a non-finite seed', () => {
    assert.throws(
      () => createRng(Number.NaN),
      (e: unknown) => e instanceof KilnError && e.details?.field === 'seed',
    );
  });
});

describe('shuffleInPlace', () => {
  it('returns a permutation, the same one for the same seed', () => {
    const a = shuffleInPlace(
      Int32Array.from({ length: 100 }, (_, i) => i),
      createRng(3),
    );
    const b = shuffleInPlace(
      Int32Array.from({ length: 100 }, (_, i) => i),
      createRng(3),
    );
    assert.deepEqual(a, b);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.notDeepEqual(
      [...a],
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});
