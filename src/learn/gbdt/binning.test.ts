import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { fromRows, zeros } from '../matrix.js';
import { createRng } from '../random.js';
import { binMatrix, binMatrixByRows, binOf, fitBinner, MISSING_BIN } from './binning.js';

describe('fitBinner', () => {
  it('gives each distinct value its own bin when there are few, and NaN the missing bin', () => {
    const X = fromRows([
      [3, 1],
      [1, Number.NaN],
      [2, 1],
      [3, 1],
      [Number.NaN, 1],
    ]);
    const binner = fitBinner(X, 255);
    assert.deepEqual(Array.from(binner.cuts[0] as Float64Array), [2, 3]);
    assert.deepEqual(Array.from(binner.cuts[1] as Float64Array), []);
    const binned = binMatrix(binner, X);
    assert.deepEqual(Array.from(binned.bins), [3, 1]);
    assert.deepEqual(Array.from(binned.codes), [2, 0, 1, 2, MISSING_BIN, 0, MISSING_BIN, 0, 0, 0]);
  });

  it('cuts many distinct values into near-equal quantile bins', () => {
    const rng = createRng(1);
    const X = zeros(20_000, 1);
    for (let i = 0; i < X.rows; i++) X.data[i] = rng() ** 3; // skewed
    const binner = fitBinner(X, 64);
    const cuts = binner.cuts[0] as Float64Array;
    assert.equal(cuts.length, 63);
    const counts = new Array(64).fill(0);
    for (const code of binMatrix(binner, X).codes) counts[code]++;
    for (const c of counts) assert.ok(Math.abs(c - 20_000 / 64) <= 2, `bin count ${c}`);
  });

  it('keeps a heavy tie in a single bin and never exceeds maxBins', () => {
    const X = zeros(1000, 1);
    for (let i = 0; i < 1000; i++) X.data[i] = i < 600 ? 0 : i;
    const binner = fitBinner(X, 10);
    const binned = binMatrix(binner, X);
    assert.ok((binned.bins[0] as number) <= 10);
    assert.equal(binned.codes[0], 0);
    assert.equal(binned.codes[599], 0);
    assert.notEqual(binned.codes[600], 0);
  });

  it('binOf counts the cuts at or below the value', () => {
    const cuts = Float64Array.of(2, 5);
    assert.deepEqual(
      [1, 2, 3, 5, 9, Number.NaN].map((v) => binOf(cuts, v)),
      [0, 1, 1, 2, 2, MISSING_BIN],
    );
  });

  it('refuses maxBins outside [2, 255]', () => {
    assert.throws(
      () => fitBinner(fromRows([[1]]), 256),
      (e: unknown) => e instanceof KilnError,
    );
    assert.throws(
      () => fitBinner(fromRows([[1]]), 1),
      (e: unknown) => e instanceof KilnError,
    );
  });

  it('lays the same codes out row-major, binning every value as binOf does', () => {
    const rng = createRng(3);
    const X = zeros(500, 4);
    for (let i = 0; i < X.data.length; i++) X.data[i] = rng() < 0.05 ? Number.NaN : Math.round(rng() * 1000) / 10;
    const binner = fitBinner(X, 32);
    const byColumn = binMatrix(binner, X);
    const byRow = binMatrixByRows(binner, X, new Uint8Array(500 * 4));
    for (let r = 0; r < 500; r++) {
      for (let f = 0; f < 4; f++) {
        const expected = binOf(binner.cuts[f] as Float64Array, X.data[r * 4 + f] as number);
        assert.equal(byRow.codes[r * 4 + f], expected);
        assert.equal(byColumn.codes[f * 500 + r], expected);
      }
    }
    assert.deepEqual(byRow.bins, byColumn.bins);
  });

  it('learns quantile cuts from a seeded sample when there are more rows than sampleSize', () => {
    const X = zeros(50_000, 1);
    for (let i = 0; i < X.rows; i++) X.data[i] = i;
    const full = fitBinner(X, 10).cuts[0] as Float64Array;
    const sampled = fitBinner(X, 10, { sampleSize: 5_000, seed: 1 }).cuts[0] as Float64Array;
    assert.deepEqual(fitBinner(X, 10, { sampleSize: 5_000, seed: 1 }).cuts[0], sampled, 'same seed, same cuts');
    assert.notDeepEqual(sampled, full);
    for (let k = 0; k < full.length; k++) {
      assert.ok(
        Math.abs((sampled[k] as number) - (full[k] as number)) < 1_000,
        `cut ${k}: ${sampled[k]} vs ${full[k]}`,
      );
    }
  });

  it('bins category codes one per bin; unseen codes share the last bin', () => {
    const X = fromRows([[5], [5], [2], [Number.NaN], [9]]);
    const binner = fitBinner(X, 255, { categoricalFeatures: [0] });
    assert.deepEqual(binner.categories?.[0], [[5], [2], [9]]);
    const codes = binMatrix(binner, fromRows([[2], [5], [9], [7], [Number.NaN]])).codes;
    assert.deepEqual(Array.from(codes), [1, 0, 2, 2, MISSING_BIN]);
  });
});
