import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../core/index.js';
import { type Matrix, zeros } from '../matrix.js';
import { createRng } from '../random.js';
import { fitGbdt } from './boost.js';
import type { GbdtRoundInfo } from './options.js';
import { predictGbdt } from './predict.js';

/** Ten features, five informative (a sum of steps and a product), 10 % missing in x0; large enough for the workers. */
function data(rows: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = createRng(seed);
  const X = zeros(rows, 10);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < 10; f++) X.data[r * 10 + f] = rng() * 2 - 1;
    const x = X.data.subarray(r * 10, r * 10 + 5);
    const score = (x[0] as number) + ((x[1] as number) > 0 ? 1 : -1) + (x[2] as number) * (x[3] as number) * 2;
    y[r] = score + (x[4] as number) + (rng() - 0.5) > 0 ? 1 : 0;
    if (rng() < 0.1) X.data[r * 10] = Number.NaN;
  }
  return { X, y };
}

const LEAVES = (model: { trees: { left: number[] }[] }) =>
  model.trees.map((t) => t.left.filter((l) => l === -1).length);
const INNER_DEPTH = (tree: { left: number[]; right: number[] }): number => {
  const depth = (node: number): number =>
    tree.left[node] === -1 ? 0 : 1 + Math.max(depth(tree.left[node] as number), depth(tree.right[node] as number));
  return depth(0);
};

describe('fitGbdt training control', () => {
  const train = data(20_000, 1);
  const test = data(2_000, 2);
  const base = { objective: 'binary:logistic', nRounds: 10, maxDepth: 4 } as const;

  it('two threads grow the same trees as one (histograms summed from two row chunks)', async () => {
    const one = await fitGbdt(train.X, train.y, { ...base, threads: 1 });
    const two = await fitGbdt(train.X, train.y, { ...base, threads: 2 });
    assert.deepEqual(
      two.trees.map((t) => t.feature),
      one.trees.map((t) => t.feature),
    );
    assert.deepEqual(
      two.trees.map((t) => t.threshold),
      one.trees.map((t) => t.threshold),
    );
    const p1 = predictGbdt(one, test.X);
    const p2 = predictGbdt(two, test.X);
    for (let i = 0; i < p1.length; i++) assert.ok(Math.abs((p1[i] as number) - (p2[i] as number)) < 1e-9);
  });

  it('two threads agree with one for multiclass gradients and row / column subsampling too', async () => {
    const classes = Int32Array.from(
      train.y,
      (v, r) => v + (((train.X.data[r * 10 + 5] as number) > 0.3 ? 1 : 0) as number),
    );
    const options = { ...base, objective: 'multi:softprob', subsample: 0.7, colsampleBytree: 0.8, seed: 5 } as const;
    const one = await fitGbdt(train.X, classes, { ...options, threads: 1 });
    const two = await fitGbdt(train.X, classes, { ...options, threads: 2 });
    assert.equal(two.trees.length, 30);
    assert.deepEqual(
      two.trees.map((t) => t.feature),
      one.trees.map((t) => t.feature),
    );
    const p1 = predictGbdt(one, test.X);
    const p2 = predictGbdt(two, test.X);
    for (let i = 0; i < p1.length; i++) assert.ok(Math.abs((p1[i] as number) - (p2[i] as number)) < 1e-9);
  });

  it('onRound sees every round with the training and validation metric and can stop training', async () => {
    const seen: GbdtRoundInfo[] = [];
    const model = await fitGbdt(train.X, train.y, {
      ...base,
      nRounds: 20,
      validation: { X: test.X, y: test.y },
      onRound: (info) => {
        seen.push(info);
        return info.round === 6;
      },
    });
    assert.deepEqual(
      seen.map((s) => s.round),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(model.trees.length, 7);
    assert.deepEqual(
      seen.map((s) => s.validation),
      model.evalHistory?.values,
    );
    assert.ok(seen.every((s) => s.metric === 'logloss'));
    const first = seen[0] as GbdtRoundInfo;
    const last = seen[6] as GbdtRoundInfo;
    assert.ok((last.train as number) < (first.train as number), 'training loss falls');
  });

  it('an abort rejects with the signal reason, before or during training', async () => {
    const before = new AbortController();
    before.abort(new Error('cancelled before'));
    await assert.rejects(fitGbdt(train.X, train.y, { ...base, signal: before.signal }), /cancelled before/);
    const during = new AbortController();
    await assert.rejects(
      fitGbdt(train.X, train.y, {
        ...base,
        nRounds: 50,
        signal: during.signal,
        onRound: ({ round }) => {
          if (round === 2) during.abort(new Error('trial pruned'));
        },
      }),
      /trial pruned/,
    );
  });

  it('lossguide stops at maxLeaves, may grow deeper than depthwise, and learns as well', async () => {
    const leafWise = await fitGbdt(train.X, train.y, { ...base, growPolicy: 'lossguide', maxDepth: 0, maxLeaves: 12 });
    assert.ok(LEAVES(leafWise).every((n) => n === 12));
    assert.ok(
      leafWise.trees.some((t) => INNER_DEPTH(t) > 4),
      'some tree deeper than 4 levels',
    );
    const depthWise = await fitGbdt(train.X, train.y, { ...base, maxLeaves: 12 });
    assert.ok(LEAVES(depthWise).every((n) => n <= 12));
    assert.ok(depthWise.trees.every((t) => INNER_DEPTH(t) <= 4));
    const correct = (p: Float64Array) => p.filter((v, i) => v > 0.5 === (test.y[i] === 1)).length / p.length;
    assert.ok(correct(predictGbdt(leafWise, test.X)) > 0.8);
    // Limited only by depth, lossguide splits every splittable leaf: the depth-wise tree.
    const byDepth = await fitGbdt(train.X, train.y, { ...base, growPolicy: 'lossguide', maxDepth: 3 });
    const depthOnly = await fitGbdt(train.X, train.y, { ...base, maxDepth: 3 });
    const a = predictGbdt(byDepth, test.X);
    const b = predictGbdt(depthOnly, test.X);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < 1e-9);
  });

  it('refuses bad threads, growPolicy and an unbounded lossguide, naming the field', async () => {
    const isField = (field: string) => (e: unknown) =>
      e instanceof KilnError && e.code === 'INVALID_PARAMETER_VALUE' && e.details?.field === field;
    await assert.rejects(fitGbdt(train.X, train.y, { ...base, threads: 0 }), isField('threads'));
    await assert.rejects(
      fitGbdt(train.X, train.y, { ...base, growPolicy: 'breadth' as 'lossguide' }),
      isField('growPolicy'),
    );
    await assert.rejects(
      fitGbdt(train.X, train.y, { ...base, growPolicy: 'lossguide', maxDepth: 0 }),
      isField('maxLeaves'),
    );
    await assert.rejects(fitGbdt(train.X, train.y, { ...base, maxLeaves: -1 }), isField('maxLeaves'));
  });

  it('leaves no worker behind: the process exits on its own after training and after an abort', () => {
    const boost = fileURLToPath(new URL('./boost.ts', import.meta.url));
    const script = `
      const { fitGbdt } = await import(${JSON.stringify(boost)});
      const rows = 10000;
      const X = { rows, cols: 3, data: Float64Array.from({ length: rows * 3 }, (_, i) => (i * 7919) % 101), names: ['a', 'b', 'c'] };
      const y = Float64Array.from({ length: rows }, (_, r) => (X.data[r * 3] > 50 ? 1 : 0));
      await fitGbdt(X, y, { objective: 'binary:logistic', nRounds: 3, threads: 2 });
      const controller = new AbortController();
      await fitGbdt(X, y, { objective: 'binary:logistic', nRounds: 50, threads: 2, signal: controller.signal,
        onRound: () => controller.abort(new Error('stop')) }).catch(() => {});
      console.log('trained');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(child.signal, null, `killed by the timeout: a worker kept the process alive\n${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /trained/);
  });
});
