import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { kFold, type Split, stratifiedKFold, timeSeriesSplit } from './cv.js';
import { createRng } from './random.js';
import { assertInvalid } from './testing/assert.js';
import { pythonSkip, runPython } from './testing/python.js';

const PENGUINS = new URL('../../node_modules/vega-datasets/data/penguins.json', import.meta.url);

/** Penguin species as class codes in file order: real, imbalanced labels (152 / 68 / 124). */
function penguinSpecies(): Int32Array {
  const rows = JSON.parse(readFileSync(PENGUINS, 'utf8')) as { Species: string }[];
  const names = ['Adelie', 'Chinstrap', 'Gentoo'];
  return Int32Array.from(rows, (r) => names.indexOf(r.Species));
}

/** Labels whose first-appearing class is not 0, drawn with a seeded rng: 3 classes at 60 / 30 / 10 %. */
function skewedLabels(n: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const labels = Int32Array.from({ length: n }, () => {
    const u = rng();
    return u < 0.6 ? 5 : u < 0.9 ? 2 : 7;
  });
  labels[0] = 7;
  return labels;
}

const plain = (splits: Iterable<Split>) => [...splits].map(({ train, test }) => [Array.from(train), Array.from(test)]);

/** Every row is in exactly one test fold and each train set is the complement of its test set. */
function assertPartition(splits: Split[], n: number): void {
  const seen = new Int32Array(n);
  for (const { train, test } of splits) {
    assert.equal(train.length + test.length, n);
    const inTest = new Uint8Array(n);
    for (const i of test) {
      inTest[i] = 1;
      seen[i] = (seen[i] as number) + 1;
    }
    for (const i of train) assert.equal(inTest[i], 0, `row ${i} is in both train and test`);
    assert.deepEqual(
      [...train],
      [...train].sort((a, b) => a - b),
    );
    assert.deepEqual(
      [...test],
      [...test].sort((a, b) => a - b),
    );
  }
  assert.ok(
    seen.every((c) => c === 1),
    'every row is tested exactly once',
  );
}

function classCounts(labels: Int32Array, indices: Int32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const i of indices) counts.set(labels[i] as number, (counts.get(labels[i] as number) ?? 0) + 1);
  return counts;
}

describe('kFold', () => {
  it('partitions the rows, first n % k folds one row larger', () => {
    const splits = [...kFold(23, 5)];
    assertPartition(splits, 23);
    assert.deepEqual(
      splits.map((s) => s.test.length),
      [5, 5, 5, 4, 4],
    );
    assert.deepEqual(Array.from(splits[1]?.test ?? []), [5, 6, 7, 8, 9]);
  });

  it('shuffles reproducibly from the seed and still partitions', () => {
    const a = [...kFold(50, 4, { shuffle: true, seed: 3 })];
    assertPartition(a, 50);
    assert.deepEqual(plain(a), plain(kFold(50, 4, { shuffle: true, seed: 3 })));
    assert.notDeepEqual(plain(a), plain(kFold(50, 4, { shuffle: true, seed: 4 })));
    assert.notDeepEqual(plain(a), plain(kFold(50, 4)));
    assert.deepEqual(
      a.map((s) => s.test.length),
      [13, 13, 12, 12],
    );
  });

  it('rejects k < 2, k > n and non-integer counts', () => {
    assertInvalid(() => [...kFold(10, 1)], 'k');
    assertInvalid(() => [...kFold(3, 4)], 'k');
    assertInvalid(() => [...kFold(10.5, 2)], 'n');
    assertInvalid(() => [...kFold(0, 2)], 'n');
  });
});

describe('stratifiedKFold', () => {
  it('keeps class proportions in every fold, shuffled or not', () => {
    const labels = penguinSpecies();
    for (const options of [{}, { shuffle: true, seed: 11 }]) {
      const splits = [...stratifiedKFold(labels, 5, options)];
      assertPartition(splits, labels.length);
      for (const { test } of splits) {
        const counts = classCounts(labels, test);
        // 152 / 68 / 124 rows over 5 folds: 30–31, 13–14, 24–25 per fold.
        assert.ok([30, 31].includes(counts.get(0) ?? 0), `Adelie ${counts.get(0)}`);
        assert.ok([13, 14].includes(counts.get(1) ?? 0), `Chinstrap ${counts.get(1)}`);
        assert.ok([24, 25].includes(counts.get(2) ?? 0), `Gentoo ${counts.get(2)}`);
      }
    }
  });

  it('shuffles reproducibly with the same per-fold class counts as without shuffling', () => {
    const labels = skewedLabels(97, 5);
    const shuffled = [...stratifiedKFold(labels, 4, { shuffle: true, seed: 9 })];
    assert.deepEqual(plain(shuffled), plain(stratifiedKFold(labels, 4, { shuffle: true, seed: 9 })));
    assert.notDeepEqual(plain(shuffled), plain(stratifiedKFold(labels, 4)));
    const ordered = [...stratifiedKFold(labels, 4)];
    shuffled.forEach((s, f) => {
      assert.deepEqual(classCounts(labels, s.test), classCounts(labels, (ordered[f] as Split).test));
    });
  });

  it('rejects k larger than every class and larger than the rows', () => {
    assertInvalid(() => [...stratifiedKFold(Int32Array.from([0, 0, 1, 1, 2, 2]), 3)], 'k');
    assertInvalid(() => [...stratifiedKFold(Int32Array.from([0, 0, 0]), 4)], 'k');
    assertInvalid(() => [...stratifiedKFold(new Int32Array(0), 2)], 'labels');
  });
});

describe('timeSeriesSplit', () => {
  it('trains on the past and tests on the next block', () => {
    const splits = [...timeSeriesSplit(10, 3)];
    assert.deepEqual(plain(splits), [
      [
        [0, 1, 2, 3],
        [4, 5],
      ],
      [
        [0, 1, 2, 3, 4, 5],
        [6, 7],
      ],
      [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [8, 9],
      ],
    ]);
  });

  it('rejects folds that leave no training rows', () => {
    assertInvalid(() => [...timeSeriesSplit(3, 3)], 'k');
    assertInvalid(() => [...timeSeriesSplit(10, 3, { testSize: 3, gap: 1 })], 'k');
    assertInvalid(() => [...timeSeriesSplit(10, 3, { gap: -1 })], 'gap');
  });
});

describe('splits vs sklearn 1.2', { skip: pythonSkip(['sklearn']) }, () => {
  const SCRIPT = `
import json, sys
import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit
inp = json.load(sys.stdin)
out = {'kfold': [], 'stratified': [], 'time': []}
for n, k in inp['kfold']:
    out['kfold'].append([[tr.tolist(), te.tolist()] for tr, te in KFold(k).split(np.zeros(n))])
for labels, k in inp['stratified']:
    y = np.array(labels)
    out['stratified'].append([[tr.tolist(), te.tolist()] for tr, te in StratifiedKFold(k).split(np.zeros(len(y)), y)])
for n, k, test_size, gap, max_train in inp['time']:
    cv = TimeSeriesSplit(k, test_size=test_size, gap=gap, max_train_size=max_train)
    out['time'].append([[tr.tolist(), te.tolist()] for tr, te in cv.split(np.zeros(n))])
print(json.dumps(out))
`;
  const kfoldCases: [number, number][] = [
    [10, 3],
    [7, 7],
    [100, 6],
    [23, 5],
  ];
  const stratifiedCases: [Int32Array, number][] = [
    [penguinSpecies(), 5],
    [skewedLabels(97, 5), 4],
    [skewedLabels(40, 8), 10],
    [Int32Array.from([1, 1, 0, 0, 0, 1, 2, 2, 2, 2, 0, 1, 1, 1]), 3],
  ];
  const timeCases: [number, number, number | null, number, number | null][] = [
    [20, 4, null, 0, null],
    [23, 5, null, 0, null],
    [23, 5, 3, 2, 7],
    [50, 3, 10, 5, null],
  ];
  let reference: Record<'kfold' | 'stratified' | 'time', number[][][][]>;
  before(() => {
    reference = runPython(SCRIPT, {
      kfold: kfoldCases,
      stratified: stratifiedCases.map(([labels, k]) => [Array.from(labels), k]),
      time: timeCases,
    });
  });

  it('KFold gives the same train and test indices', () => {
    kfoldCases.forEach(([n, k], i) => {
      assert.deepEqual(plain(kFold(n, k)), reference.kfold[i]);
    });
  });

  it('StratifiedKFold gives the same train and test indices', () => {
    stratifiedCases.forEach(([labels, k], i) => {
      assert.deepEqual(plain(stratifiedKFold(labels, k)), reference.stratified[i]);
    });
  });

  it('TimeSeriesSplit gives the same train and test indices', () => {
    timeCases.forEach(([n, k, testSize, gap, maxTrainSize], i) => {
      const options = {
        gap,
        ...(testSize === null ? {} : { testSize }),
        ...(maxTrainSize === null ? {} : { maxTrainSize }),
      };
      assert.deepEqual(plain(timeSeriesSplit(n, k, options)), reference.time[i]);
    });
  });
});
