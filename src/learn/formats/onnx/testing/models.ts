import { fitForest } from '../../../forest/index.js';
import type { Column, Frame } from '../../../frame.js';
import { takeRows } from '../../../frame.js';
import { fitGbdt, type GbdtOptions } from '../../../gbdt/index.js';
import { fitLinearRegression } from '../../../linear.js';
import { fitLogisticRegression } from '../../../logistic.js';
import type { Matrix } from '../../../matrix.js';
import type { ModelSignature, SignatureType, Task, TrainedModel } from '../../../model.js';
import { fitTransform, type PipelineSpec } from '../../../preprocess/index.js';
import { penguinFrame, penguinRecords, seattleFrame } from '../../../testing/vega.js';

/** A trained model on real data with the held-out rows it has not seen. */
export interface TrainedCase {
  name: string;
  model: TrainedModel;
  test: Frame;
}

const SIGNATURE_TYPE: Record<Column['kind'], SignatureType> = {
  float: 'float',
  categorical: 'categorical',
  datetime: 'datetime',
};

/** Row indices of every 4th row (held out) or of the others (training). */
function rowsOf(count: number, heldOut: boolean): number[] {
  return Array.from({ length: count }, (_, r) => r).filter((r) => (r % 4 === 3) === heldOut);
}

/** Class index per row of a categorical target (classes sorted), rows with a missing target dropped. */
function classTarget(frame: Frame, target: string): { frame: Frame; classes: string[]; y: Int32Array } {
  const col = frame.columns.find((c) => c.name === target);
  if (col?.kind !== 'categorical') throw new Error(`${target} is not categorical`);
  const kept: number[] = [];
  for (let r = 0; r < frame.rows; r++) if ((col.codes[r] as number) >= 0) kept.push(r);
  const classes = [...new Set(kept.map((r) => col.dictionary[col.codes[r] as number] as string))].sort();
  const y = Int32Array.from(kept, (r) => classes.indexOf(col.dictionary[col.codes[r] as number] as string));
  return { frame: takeRows(frame, kept), classes, y };
}

function numericTarget(frame: Frame, target: string): Float64Array {
  const col = frame.columns.find((c) => c.name === target);
  if (col?.kind !== 'float') throw new Error(`${target} is not numeric`);
  return col.values;
}

function signatureOf(frame: Frame, spec: PipelineSpec, task: Task, classes?: string[]): ModelSignature {
  const inputs = Object.keys(spec.columns).map((name) => {
    const col = frame.columns.find((c) => c.name === name) as Column;
    return { name, type: SIGNATURE_TYPE[col.kind], nullable: true };
  });
  const outputs: ModelSignature['outputs'] = [{ name: 'prediction', type: task === 'regression' ? 'float' : 'string' }];
  for (const c of classes ?? []) outputs.push({ name: `probability(${c})`, type: 'float' });
  return { inputs, outputs };
}

type Fit = (X: Matrix, y: Int32Array | Float64Array, categorical: number[]) => Promise<TrainedModel['learner']>;

async function trainCase(
  name: string,
  frame: Frame,
  target: string,
  task: Task,
  spec: PipelineSpec,
  fit: Fit,
): Promise<TrainedCase> {
  let classes: string[] | undefined;
  let data = frame;
  let yAll: Int32Array | Float64Array;
  if (task === 'regression') yAll = numericTarget(frame, target);
  else {
    const t = classTarget(frame, target);
    classes = t.classes;
    data = t.frame;
    yAll = t.y;
  }
  const rows = rowsOf(data.rows, false);
  const test = takeRows(data, rowsOf(data.rows, true));
  const train = takeRows(data, rows);
  const y =
    task === 'regression'
      ? Float64Array.from(rows, (r) => yAll[r] as number)
      : Int32Array.from(rows, (r) => yAll[r] as number);
  const { fitted, matrix } = fitTransform(spec, train, { target: Float64Array.from(y) });
  const categorical = fitted.columns
    .filter((c) => c.steps.at(-1)?.kind === 'ordinal')
    .map((c) => fitted.names.indexOf(c.outputs[0] as string));
  const learner = await fit(matrix, y, categorical);
  const model: TrainedModel = {
    task,
    target,
    signature: signatureOf(train, spec, task, classes),
    preprocessing: fitted,
    learner,
  };
  if (classes) model.classes = classes;
  return { name, model, test };
}

const gbdt =
  (objective: GbdtOptions['objective'], extra: Partial<GbdtOptions> = {}): Fit =>
  (X, y, categorical) =>
    fitGbdt(X, y, {
      objective,
      nRounds: 30,
      maxDepth: 4,
      learningRate: 0.3,
      threads: 1,
      ...(categorical.length > 0 ? { categoricalFeatures: categorical } : {}),
      ...extra,
    });

const PENGUIN_NUMBERS = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

/** Scaled numbers and one-hot categories: the linear learners' usual pipeline. */
function linearSpec(numbers: string[], categories: string[]): PipelineSpec {
  const columns: PipelineSpec['columns'] = {};
  for (const c of categories) columns[c] = [{ kind: 'onehot', minFrequency: 5 }];
  for (const n of numbers)
    columns[n] = [{ kind: 'impute', strategy: 'median', addIndicator: true }, { kind: 'standard' }];
  return { columns };
}

/**
 * Models of every learner and task on penguins and seattle-weather, each with its held-out rows:
 * the package round trip and the ONNX export are checked on all of them.
 */
export async function trainedCases(): Promise<TrainedCase[]> {
  const penguins = penguinFrame(penguinRecords().filter((r) => r.Sex !== '.'));
  const seattle = seattleFrame();
  const seattleNumbers = ['precipitation', 'temp_min', 'wind'];
  return [
    await trainCase(
      'logistic multiclass, penguins Species',
      penguins,
      'Species',
      'multiclass',
      linearSpec(PENGUIN_NUMBERS, ['Island', 'Sex']),
      async (X, y) => fitLogisticRegression(X, y as Int32Array, { C: 1 }),
    ),
    await trainCase(
      'logistic binary, penguins Sex',
      penguins,
      'Sex',
      'binary',
      {
        columns: {
          Island: [{ kind: 'impute', strategy: 'constant', fillValue: 'unknown' }, { kind: 'onehot' }],
          Species: [{ kind: 'target' }],
          'Beak Length (mm)': [
            { kind: 'impute', strategy: 'mean' },
            { kind: 'minmax', featureRange: [-1, 1] },
          ],
          'Beak Depth (mm)': [{ kind: 'impute', strategy: 'mean' }, { kind: 'standard' }],
          'Body Mass (g)': [{ kind: 'impute', strategy: 'mean' }, { kind: 'standard' }],
        },
      },
      async (X, y) => fitLogisticRegression(X, y as Int32Array, { penalty: 'l2', C: 10 }),
    ),
    await trainCase(
      'linear regression, seattle temp_max',
      seattle,
      'temp_max',
      'regression',
      linearSpec(seattleNumbers, ['weather']),
      async (X, y) => fitLinearRegression(X, y as Float64Array, { penalty: 'l2', alpha: 0.5 }),
    ),
    await trainCase(
      'gbdt multiclass, penguins Species (native categorical Island)',
      penguins,
      'Species',
      'multiclass',
      {
        columns: {
          Island: [{ kind: 'ordinal' }],
          Sex: [{ kind: 'onehot' }],
          ...Object.fromEntries(PENGUIN_NUMBERS.map((n) => [n, []])),
        },
      },
      gbdt('multi:softprob'),
    ),
    await trainCase(
      'gbdt binary, penguins Sex (missing values)',
      penguins,
      'Sex',
      'binary',
      {
        columns: {
          Species: [{ kind: 'target' }],
          Island: [{ kind: 'onehot' }],
          ...Object.fromEntries(PENGUIN_NUMBERS.map((n) => [n, []])),
        },
      },
      gbdt('binary:logistic'),
    ),
    await trainCase(
      'gbdt regression, seattle temp_max',
      seattle,
      'temp_max',
      'regression',
      { columns: { weather: [{ kind: 'ordinal' }], precipitation: [], temp_min: [], wind: [] } },
      gbdt('reg:squarederror'),
    ),
    await trainCase(
      'forest classification, penguins Species (missing values)',
      penguins,
      'Species',
      'multiclass',
      {
        columns: {
          Island: [{ kind: 'ordinal' }],
          Sex: [{ kind: 'ordinal' }],
          ...Object.fromEntries(PENGUIN_NUMBERS.map((n) => [n, []])),
        },
      },
      (X, y) => fitForest(X, y, { task: 'classification', nEstimators: 20, seed: 1, threads: 1 }),
    ),
    await trainCase(
      'forest regression, seattle temp_max',
      seattle,
      'temp_max',
      'regression',
      { columns: { weather: [{ kind: 'onehot' }], precipitation: [], temp_min: [], wind: [] } },
      (X, y) => fitForest(X, y, { task: 'regression', nEstimators: 20, maxDepth: 8, seed: 1, threads: 1 }),
    ),
  ];
}

/** A seattle-weather model that reads the date through date parts (which the ONNX export may refuse). */
export async function datePartsCase(): Promise<TrainedCase> {
  return trainCase(
    'gbdt multiclass, seattle weather with date parts',
    seattleFrame(),
    'weather',
    'multiclass',
    {
      columns: {
        date: [{ kind: 'dateparts', parts: ['month', 'dow', 'day', 'year'] }],
        precipitation: [],
        temp_max: [],
        temp_min: [],
        wind: [],
      },
    },
    gbdt('multi:softprob', { nRounds: 10 }),
  );
}
