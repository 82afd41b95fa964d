import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Frame } from '../frame.js';
import type { Matrix } from '../matrix.js';
import { pythonSkip, runPython } from '../testing/python.js';
import {
  categoricalColumn,
  PENGUIN_CATEGORIES,
  PENGUIN_NUMBERS,
  type PenguinRecord,
  penguinFrame,
  penguinRecords,
  seattleFrame,
} from '../testing/vega.js';
import { fitPipeline, transform } from './pipeline.js';
import type { Step } from './spec.js';

/**
 * Each job fits an sklearn pipeline of `steps` on `train` columns and transforms `test` columns;
 * NaN comes back as null.
 */
const SKLEARN_JOBS = `
import json, sys
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

KINDS = {'SimpleImputer': SimpleImputer, 'StandardScaler': StandardScaler, 'MinMaxScaler': MinMaxScaler,
         'OneHotEncoder': OneHotEncoder, 'OrdinalEncoder': OrdinalEncoder}

def arr(cols, numeric):
    if numeric:
        return np.array([[np.nan if v is None else v for v in col] for col in cols], dtype=float).T
    a = np.empty((len(cols[0]), len(cols)), dtype=object)
    for j, col in enumerate(cols):
        for i, v in enumerate(col):
            a[i, j] = np.nan if v is None else v
    return a

def build(step):
    kind, params = step
    if 'feature_range' in params:
        params['feature_range'] = tuple(params['feature_range'])
    if 'unknown_value' in params and params['unknown_value'] is None:
        params['unknown_value'] = np.nan
    return KINDS[kind](**params)

out = []
for job in json.load(sys.stdin):
    pipe = make_pipeline(*[build(s) for s in job['steps']])
    pipe.fit(arr(job['train'], job['numeric']))
    X = np.asarray(pipe.transform(arr(job['test'], job['numeric'])), dtype=float)
    names = [str(n) for n in pipe.get_feature_names_out(job['names'])]
    out.append({'X': [[None if np.isnan(v) else float(v) for v in row] for row in X], 'names': names})
print(json.dumps(out))
`;

interface Job {
  title: string;
  /** sklearn steps: [class name, constructor params]. */
  steps: [string, Record<string, unknown>][];
  /** The same pipeline in Kiln, applied to each column. */
  kiln: Step[];
  columns: string[];
  numeric: boolean;
  train: Frame;
  test: Frame;
  trainRecords: readonly Record<string, unknown>[];
  testRecords: readonly Record<string, unknown>[];
}

/** sklearn's output names in Kiln's spelling, e.g. `Island_infrequent_sklearn` → `Island=(other)`. */
function kilnName(skName: string, columns: readonly string[]): string {
  if (skName.startsWith('missingindicator_')) return `${skName.slice('missingindicator_'.length)}.missing`;
  if (columns.includes(skName)) return skName;
  const column = columns.find((c) => skName.startsWith(`${c}_`));
  assert.ok(column !== undefined, `unexpected sklearn name ${skName}`);
  const category = skName.slice(column.length + 1);
  const label = category === 'infrequent_sklearn' ? '(other)' : category === 'nan' ? '(missing)' : category;
  return `${column}=${label}`;
}

function columnOf(m: Matrix, name: string): number[] {
  const c = m.names.indexOf(name);
  assert.ok(c >= 0, `no output column ${name} in ${m.names.join(', ')}`);
  return Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols + c] as number);
}

function assertClose(actual: number, expected: number | null, where: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${where}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${where}: ${actual} vs sklearn ${expected}`);
}

const records = penguinRecords();
/** Two thirds of the rows, including rows with missing measurements. */
const numericTrain = records.filter((_, i) => i % 3 !== 1);
/** Also without Torgersen and Sex '.', so both are unknown categories in the full data. */
const categoricalTrain = numericTrain.filter((r) => r.Island !== 'Torgersen' && r.Sex !== '.');
const seattle = seattleFrame();
const seattleRecords: Record<string, unknown>[] = Array.from({ length: seattle.rows }, (_, i) =>
  Object.fromEntries(
    seattle.columns.map((col) => [
      col.name,
      col.kind === 'categorical' ? col.dictionary[col.codes[i] as number] : col.values[i],
    ]),
  ),
);
const seattleTrain = seattleRecords.filter((_, i) => i % 2 === 0);
const seattleNumbers = ['precipitation', 'temp_max', 'temp_min', 'wind'];

function seattleSubset(rows: readonly Record<string, unknown>[]): Frame {
  const indices = rows.map((r) => seattleRecords.indexOf(r));
  return {
    rows: indices.length,
    columns: seattle.columns.map((col) =>
      col.kind === 'categorical'
        ? { ...col, codes: Int32Array.from(indices, (i) => col.codes[i] as number) }
        : { ...col, values: Float64Array.from(indices, (i) => col.values[i] as number) },
    ),
  };
}

function penguinJob(
  title: string,
  steps: Job['steps'],
  kiln: Step[],
  numeric: boolean,
  train: readonly PenguinRecord[],
): Job {
  return {
    title,
    steps,
    kiln,
    columns: numeric ? PENGUIN_NUMBERS : PENGUIN_CATEGORIES,
    numeric,
    train: penguinFrame(train),
    test: penguinFrame(records),
    trainRecords: train,
    testRecords: records,
  };
}

function seattleJob(title: string, steps: Job['steps'], kiln: Step[], numeric: boolean): Job {
  return {
    title,
    steps,
    kiln,
    columns: numeric ? seattleNumbers : ['weather'],
    numeric,
    train: seattleSubset(seattleTrain),
    test: seattle,
    trainRecords: seattleTrain,
    testRecords: seattleRecords,
  };
}

const imputers = (['mean', 'median', 'most_frequent'] as const).map((strategy) =>
  penguinJob(
    `SimpleImputer(${strategy}, add_indicator) on penguin measurements`,
    [['SimpleImputer', { strategy, add_indicator: true }]],
    [{ kind: 'impute', strategy, addIndicator: true }],
    true,
    numericTrain,
  ),
);

const JOBS: Job[] = [
  ...imputers,
  penguinJob(
    'SimpleImputer(constant -7) on penguin measurements',
    [['SimpleImputer', { strategy: 'constant', fill_value: -7 }]],
    [{ kind: 'impute', strategy: 'constant', fillValue: -7 }],
    true,
    numericTrain,
  ),
  penguinJob(
    'StandardScaler on penguin measurements (NaN passes through)',
    [['StandardScaler', {}]],
    [{ kind: 'standard' }],
    true,
    numericTrain,
  ),
  penguinJob(
    'SimpleImputer(median) + StandardScaler on penguin measurements',
    [
      ['SimpleImputer', { strategy: 'median' }],
      ['StandardScaler', {}],
    ],
    [{ kind: 'impute', strategy: 'median' }, { kind: 'standard' }],
    true,
    numericTrain,
  ),
  penguinJob(
    'SimpleImputer(mean) + MinMaxScaler((-1, 2)) on penguin measurements',
    [
      ['SimpleImputer', { strategy: 'mean' }],
      ['MinMaxScaler', { feature_range: [-1, 2] }],
    ],
    [
      { kind: 'impute', strategy: 'mean' },
      { kind: 'minmax', featureRange: [-1, 2] },
    ],
    true,
    numericTrain,
  ),
  seattleJob('StandardScaler on seattle weather', [['StandardScaler', {}]], [{ kind: 'standard' }], true),
  seattleJob(
    'StandardScaler(with_mean=False) on seattle weather',
    [['StandardScaler', { with_mean: false }]],
    [{ kind: 'standard', withMean: false }],
    true,
  ),
  seattleJob('MinMaxScaler on seattle weather', [['MinMaxScaler', {}]], [{ kind: 'minmax' }], true),
  penguinJob(
    'OneHotEncoder with unknown Island and Sex, no infrequent bucket',
    [['OneHotEncoder', { handle_unknown: 'infrequent_if_exist', sparse_output: false }]],
    [{ kind: 'onehot' }],
    false,
    categoricalTrain,
  ),
  penguinJob(
    'OneHotEncoder(min_frequency=11): Sex "." and missing fold into the infrequent bucket',
    [['OneHotEncoder', { handle_unknown: 'infrequent_if_exist', min_frequency: 11, sparse_output: false }]],
    [{ kind: 'onehot', minFrequency: 11 }],
    false,
    records,
  ),
  penguinJob(
    'OneHotEncoder(max_categories=2): unknown Torgersen goes to the infrequent bucket',
    [['OneHotEncoder', { handle_unknown: 'infrequent_if_exist', max_categories: 2, sparse_output: false }]],
    [{ kind: 'onehot', maxCategories: 2 }],
    false,
    categoricalTrain,
  ),
  penguinJob(
    "OneHotEncoder(min_frequency=5, handle_unknown='ignore'): unknown categories are all zeros",
    [['OneHotEncoder', { handle_unknown: 'ignore', min_frequency: 5, sparse_output: false }]],
    [{ kind: 'onehot', minFrequency: 5, handleUnknown: 'ignore' }],
    false,
    categoricalTrain.filter((r) => r.Sex !== null || r.Species === 'Gentoo'),
  ),
  seattleJob(
    'OneHotEncoder(min_frequency=0.05, max_categories=4) on seattle weather',
    [
      [
        'OneHotEncoder',
        { handle_unknown: 'infrequent_if_exist', min_frequency: 0.05, max_categories: 4, sparse_output: false },
      ],
    ],
    [{ kind: 'onehot', minFrequency: 0.05, maxCategories: 4 }],
    false,
  ),
  seattleJob(
    'OneHotEncoder(max_categories=3) on seattle weather, ties broken like sklearn',
    [['OneHotEncoder', { handle_unknown: 'infrequent_if_exist', max_categories: 3, sparse_output: false }]],
    [{ kind: 'onehot', maxCategories: 3 }],
    false,
  ),
  penguinJob(
    'OrdinalEncoder(unknown -1; missing NaN) on penguin categories',
    [['OrdinalEncoder', { handle_unknown: 'use_encoded_value', unknown_value: -1 }]],
    [{ kind: 'ordinal' }],
    false,
    categoricalTrain,
  ),
  penguinJob(
    'OrdinalEncoder(unknown NaN) on penguin categories',
    [['OrdinalEncoder', { handle_unknown: 'use_encoded_value', unknown_value: null }]],
    [{ kind: 'ordinal', unknownValue: null }],
    false,
    categoricalTrain,
  ),
  penguinJob(
    'SimpleImputer(most_frequent) + OrdinalEncoder on penguin categories',
    [
      ['SimpleImputer', { strategy: 'most_frequent' }],
      ['OrdinalEncoder', { handle_unknown: 'use_encoded_value', unknown_value: -1 }],
    ],
    [{ kind: 'impute', strategy: 'most_frequent' }, { kind: 'ordinal' }],
    false,
    categoricalTrain,
  ),
  penguinJob(
    "SimpleImputer(constant 'unknown') + OneHotEncoder on penguin categories",
    [
      ['SimpleImputer', { strategy: 'constant', fill_value: 'unknown' }],
      ['OneHotEncoder', { handle_unknown: 'infrequent_if_exist', sparse_output: false }],
    ],
    [{ kind: 'impute', strategy: 'constant', fillValue: 'unknown' }, { kind: 'onehot' }],
    false,
    categoricalTrain,
  ),
  // sklearn's indicator column goes through the encoder too; ordinal encoding leaves False/True as 0/1.
  penguinJob(
    "SimpleImputer(constant 'unknown', add_indicator) + OrdinalEncoder on penguin categories",
    [
      ['SimpleImputer', { strategy: 'constant', fill_value: 'unknown', add_indicator: true }],
      ['OrdinalEncoder', { handle_unknown: 'use_encoded_value', unknown_value: -1 }],
    ],
    [{ kind: 'impute', strategy: 'constant', fillValue: 'unknown', addIndicator: true }, { kind: 'ordinal' }],
    false,
    categoricalTrain,
  ),
  (() => {
    // Counts a 3, b 2, c 2, d 2, e 1 (plus one missing): the stable sort by count decides which tie folds.
    const values = ['b', 'a', 'c', 'd', 'a', 'b', 'e', 'c', 'a', 'd', null];
    const tieRecords = values.map((tie) => ({ tie }));
    const frame: Frame = { rows: values.length, columns: [categoricalColumn('tie', values)] };
    return {
      title: 'OneHotEncoder(max_categories=4) with tied counts',
      steps: [['OneHotEncoder', { handle_unknown: 'infrequent_if_exist', max_categories: 4, sparse_output: false }]],
      kiln: [{ kind: 'onehot', maxCategories: 4 }],
      columns: ['tie'],
      numeric: false,
      train: frame,
      test: frame,
      trainRecords: tieRecords,
      testRecords: tieRecords,
    } satisfies Job;
  })(),
];

describe('preprocessing vs sklearn 1.2.1 on penguins and seattle-weather', { skip: pythonSkip(['sklearn']) }, () => {
  const answers = runPython<{ X: (number | null)[][]; names: string[] }[]>(
    SKLEARN_JOBS,
    JOBS.map((job) => ({
      steps: job.steps,
      numeric: job.numeric,
      names: job.columns,
      train: job.columns.map((c) => job.trainRecords.map((r) => r[c] ?? null)),
      test: job.columns.map((c) => job.testRecords.map((r) => r[c] ?? null)),
    })),
  );

  JOBS.forEach((job, j) => {
    it(`should match ${job.title} to 1e-12`, () => {
      const answer = answers[j];
      assert.ok(answer);
      const spec = { columns: Object.fromEntries(job.columns.map((c) => [c, job.kiln])) };
      const x = transform(fitPipeline(spec, job.train), job.test);
      const expectedNames = answer.names.map((n) => kilnName(n, job.columns));
      assert.deepEqual([...x.names].sort(), [...expectedNames].sort());
      assert.equal(x.rows, answer.X.length);
      expectedNames.forEach((name, c) => {
        const ours = columnOf(x, name);
        ours.forEach((v, r) => {
          assertClose(v, answer.X[r]?.[c] ?? null, `${name} row ${r}`);
        });
      });
    });
  });
});
