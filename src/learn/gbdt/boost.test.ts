import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { fromRows, type Matrix, zeros } from '../matrix.js';
import { createRng } from '../random.js';
import { fitGbdt } from './boost.js';
import { featureImportance, type GbdtModel, predictGbdt } from './predict.js';

/** Two informative features (x0 linear, x1 a step), one noise feature, ~10 % NaN in x0. */
function synthetic(rows: number, seed: number): { X: Matrix; y: Float64Array; cls: Int32Array } {
  const rng = createRng(seed);
  const X = zeros(rows, 3);
  const y = new Float64Array(rows);
  const cls = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = rng() * 2 - 1;
    const b = rng();
    X.data[r * 3] = rng() < 0.1 ? Number.NaN : a;
    X.data[r * 3 + 1] = b;
    X.data[r * 3 + 2] = rng();
    const score = a + (b > 0.5 ? 1 : -1) + (rng() - 0.5);
    y[r] = score > 0 ? 1 : 0;
    cls[r] = score < -0.7 ? 0 : score < 0.7 ? 1 : 2;
  }
  return { X, y, cls };
}

function approx(actual: number, expected: number, label: string, tol = 1e-12) {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${label}: ${actual} vs ${expected}`);
}

describe('fitGbdt closed forms', () => {
  const X = fromRows([[0], [0], [1], [1], [1]]);
  const y = Float64Array.of(1, 1, 5, 5, 5);

  it('one squared-error split gives leaves −G/(H + λ)', async () => {
    const model = await fitGbdt(X, y, {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      learningRate: 1,
      baseScore: 0,
    });
    const p = predictGbdt(model, X);
    // Left: G = −2, H = 2 → 2/3; right: G = −15, H = 3 → 15/4.
    approx(p[0] as number, 2 / 3, 'left');
    approx(p[4] as number, 15 / 4, 'right');
    assert.equal(model.trees[0]?.threshold[0], 1);
    assert.equal(model.trees[0]?.feature.length, 3);
  });

  it('L1 soft-thresholds the gradient sum and the learning rate shrinks the leaf', async () => {
    const model = await fitGbdt(X, y, {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      learningRate: 0.5,
      alpha: 1,
      lambda: 2,
      baseScore: 0,
    });
    const p = predictGbdt(model, X);
    approx(p[0] as number, (0.5 * (2 - 1)) / (2 + 2), 'left');
    approx(p[4] as number, (0.5 * (15 - 1)) / (3 + 2), 'right');
  });

  it('a logistic round starts from the log-odds of the mean label', async () => {
    const yb = Float64Array.of(0, 1, 1, 1, 1);
    const model = await fitGbdt(X, yb, {
      objective: 'binary:logistic',
      nRounds: 1,
      maxDepth: 1,
      learningRate: 0.3,
      minChildWeight: 0,
    });
    const p0 = 0.8;
    approx(model.baseMargin[0] as number, Math.log(p0 / (1 - p0)), 'base margin');
    const h = p0 * (1 - p0);
    const left = -(p0 - 0 + (p0 - 1)) / (2 * h + 1);
    const right = -(3 * (p0 - 1)) / (3 * h + 1);
    const margin = predictGbdt(model, X, { margin: true });
    approx(margin[0] as number, Math.log(4) + 0.3 * left, 'left margin');
    approx(margin[4] as number, Math.log(4) + 0.3 * right, 'right margin');
    const prob = predictGbdt(model, X);
    approx(prob[4] as number, 1 / (1 + Math.exp(-(margin[4] as number))), 'sigmoid');
  });

  it('gamma and minChildWeight veto splits', async () => {
    // The split above reduces the loss by 2²/3 + 15²/4 − 17²/6 = 8.04…
    const gain = 4 / 3 + 225 / 4 - 289 / 6;
    const kept = await fitGbdt(X, y, {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      gamma: gain - 1e-9,
      baseScore: 0,
    });
    assert.equal(kept.trees[0]?.feature.length, 3);
    approx(kept.trees[0]?.gain[0] as number, gain, 'gain');
    const pruned = await fitGbdt(X, y, {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      gamma: gain + 1e-9,
      baseScore: 0,
    });
    assert.equal(pruned.trees[0]?.feature.length, 1);
    const heavy = await fitGbdt(X, y, {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      minChildWeight: 2.5,
      baseScore: 0,
    });
    assert.equal(heavy.trees[0]?.feature.length, 1);
  });

  it('sends missing values to the side that gains more and predicts them there', async () => {
    const Xm = fromRows([[1], [1], [2], [2], [Number.NaN], [Number.NaN]]);
    const high = await fitGbdt(Xm, Float64Array.of(0, 0, 10, 10, 10, 10), {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      learningRate: 1,
      lambda: 0,
      baseScore: 0,
    });
    assert.equal(high.trees[0]?.defaultLeft[0], 0);
    assert.deepEqual(Array.from(predictGbdt(high, fromRows([[Number.NaN], [1], [2]]))), [10, 0, 10]);
    const low = await fitGbdt(Xm, Float64Array.of(0, 0, 10, 10, 0, 0), {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      learningRate: 1,
      lambda: 0,
      baseScore: 0,
    });
    assert.equal(low.trees[0]?.defaultLeft[0], 1);
    assert.deepEqual(Array.from(predictGbdt(low, fromRows([[Number.NaN], [1], [2]]))), [0, 0, 10]);
  });

  it('can split missing against present values of a feature with a single value', async () => {
    const Xm = fromRows([[1], [1], [Number.NaN], [Number.NaN]]);
    const model = await fitGbdt(Xm, Float64Array.of(0, 0, 4, 4), {
      objective: 'reg:squarederror',
      nRounds: 1,
      maxDepth: 1,
      learningRate: 1,
      lambda: 0,
      minChildWeight: 0,
      baseScore: 0,
    });
    assert.deepEqual(Array.from(predictGbdt(model, Xm)), [0, 0, 4, 4]);
  });
});

describe('fitGbdt behaviour', () => {
  const train = synthetic(3000, 1);
  const test = synthetic(1000, 2);

  it('a model survives a JSON round trip with identical predictions', async () => {
    for (const [objective, labels] of [
      ['binary:logistic', train.y],
      ['multi:softprob', train.cls],
      ['reg:squarederror', train.y],
    ] as const) {
      const model = await fitGbdt(train.X, labels, {
        objective,
        nRounds: 20,
        maxDepth: 4,
        subsample: 0.8,
        colsampleBytree: 0.7,
      });
      const copy = JSON.parse(JSON.stringify(model)) as GbdtModel;
      assert.deepEqual(predictGbdt(copy, test.X), predictGbdt(model, test.X), objective);
    }
  });

  it('learns the synthetic rule and predicts training rows as the binned trees do', async () => {
    const model = await fitGbdt(train.X, train.y, {
      objective: 'binary:logistic',
      nRounds: 50,
      maxDepth: 3,
      learningRate: 0.3,
    });
    const p = predictGbdt(model, test.X);
    let correct = 0;
    for (let r = 0; r < test.X.rows; r++) if ((p[r] as number) > 0.5 === (test.y[r] === 1)) correct++;
    assert.ok(correct / test.X.rows > 0.8, `accuracy ${correct / test.X.rows}`);
    const probs = predictGbdt(await fitGbdt(train.X, train.cls, { objective: 'multi:softprob', nRounds: 5 }), test.X);
    assert.equal(probs.length, test.X.rows * 3);
    for (let r = 0; r < test.X.rows; r++)
      approx(
        (probs[3 * r] as number) + (probs[3 * r + 1] as number) + (probs[3 * r + 2] as number),
        1,
        'softmax sum',
        1e-9,
      );
  });

  it('counts splits per feature, never on a feature the trees cannot use', async () => {
    const model = await fitGbdt(train.X, train.y, { objective: 'binary:logistic', nRounds: 10, maxDepth: 1 });
    const counts = featureImportance(model, 'split');
    let inner = 0;
    for (const t of model.trees) for (const l of t.left) if (l !== -1) inner++;
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      inner,
    );
    assert.ok((counts[0] as number) + (counts[1] as number) === inner, `noise feature split: ${Array.from(counts)}`);
    const gains = featureImportance(model, 'gain');
    assert.ok((gains[0] as number) > 0 && gains[2] === 0);
  });

  it('same seed, same model; another seed samples differently', async () => {
    const opts = { objective: 'binary:logistic', nRounds: 5, subsample: 0.5, colsampleBytree: 0.5 } as const;
    assert.deepEqual(
      await fitGbdt(train.X, train.y, { ...opts, seed: 3 }),
      await fitGbdt(train.X, train.y, { ...opts, seed: 3 }),
    );
    assert.notDeepEqual(
      await fitGbdt(train.X, train.y, { ...opts, seed: 3 }),
      await fitGbdt(train.X, train.y, { ...opts, seed: 4 }),
    );
  });

  it('early stopping keeps the rounds up to the best validation score', async () => {
    const model = await fitGbdt(train.X, train.cls, {
      objective: 'multi:softprob',
      nRounds: 500,
      learningRate: 0.5,
      maxDepth: 6,
      minChildWeight: 0,
      lambda: 0,
      validation: { X: test.X, y: test.cls },
      earlyStoppingRounds: 5,
    });
    const values = model.evalHistory?.values ?? [];
    assert.ok(values.length < 500, 'stopped early');
    assert.equal(values.length, model.bestIteration + 6);
    assert.equal(Math.min(...values), values[model.bestIteration]);
    assert.equal(model.trees.length, (model.bestIteration + 1) * 3);
  });

  it('refuses bad labels and options with a KilnError naming the field', async () => {
    const isField = (field: string) => (e: unknown) => e instanceof KilnError && JSON.stringify(e).includes(field);
    await assert.rejects(fitGbdt(train.X, Float64Array.of(1, 0), { objective: 'binary:logistic' }), isField('y'));
    const twos = new Float64Array(train.X.rows).fill(2);
    await assert.rejects(fitGbdt(train.X, twos, { objective: 'binary:logistic' }), isField('y'));
    await assert.rejects(fitGbdt(train.X, new Int32Array(train.X.rows), { objective: 'multi:softprob' }), isField('y'));
    await assert.rejects(
      fitGbdt(train.X, train.y, { objective: 'binary:logistic', maxDepth: -1 }),
      isField('maxDepth'),
    );
    await assert.rejects(
      fitGbdt(train.X, train.y, { objective: 'binary:logistic', earlyStoppingRounds: 3 }),
      isField('earlyStoppingRounds'),
    );
    await assert.rejects(
      fitGbdt(train.X, train.y, { objective: 'binary:logistic', evalMetric: 'mlogloss' }),
      isField('evalMetric'),
    );
    const model = await fitGbdt(train.X, train.y, { objective: 'binary:logistic', nRounds: 1 });
    assert.throws(() => predictGbdt(model, zeros(2, 5)), isField('X'));
  });
});
