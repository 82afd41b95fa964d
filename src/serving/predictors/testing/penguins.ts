import { type Frame, type TrainedModel, takeRows, trainModel } from '../../../learn/index.js';
import { type PenguinRecord, penguinFrame, penguinRecords } from '../../../learn/testing/vega.js';

/** Real Kiln models trained on penguins.json, and the held-out rows (every 4th) they have not seen. */
export interface PenguinModels {
  /** Gradient boosting, Species (3 classes) from island, sex and the four measurements. */
  gbdt: TrainedModel;
  /** Logistic regression, Species. */
  logistic: TrainedModel;
  /** Gradient boosting regression of Body Mass (g). */
  regression: TrainedModel;
  records: PenguinRecord[];
  train: Frame;
  test: Frame;
}

export const PENGUIN_MEASUREMENTS = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

/** Whether record `r` is held out: every 4th row, as the Python references split too. */
export function heldOut(r: number): boolean {
  return r % 4 === 3;
}

let cached: Promise<PenguinModels> | undefined;

async function train(): Promise<PenguinModels> {
  const records = penguinRecords();
  const frame = penguinFrame(records);
  const rows = Array.from({ length: frame.rows }, (_, r) => r);
  const train = takeRows(
    frame,
    rows.filter((r) => !heldOut(r)),
  );
  const test = takeRows(frame, rows.filter(heldOut));
  const gbdt = await trainModel(train, {
    task: 'classification',
    target: 'Species',
    model: 'gbdt',
    params: { n_estimators: 30, max_depth: 3, eta: 0.3 },
  });
  const logistic = await trainModel(train, {
    task: 'classification',
    target: 'Species',
    model: 'logistic',
    params: {},
  });
  const regression = await trainModel(train, {
    task: 'regression',
    target: 'Body Mass (g)',
    features: ['Species', 'Island', 'Sex', 'Beak Length (mm)', 'Flipper Length (mm)'],
    model: 'gbdt',
    params: { n_estimators: 20, max_depth: 3 },
  });
  return { gbdt: gbdt.model, logistic: logistic.model, regression: regression.model, records, train, test };
}

/**
 * Trains the penguin models once per test process (a few hundred milliseconds).
 *
 * @example
 * const { gbdt, test } = await penguinModels();
 */
export function penguinModels(): Promise<PenguinModels> {
  cached ??= train();
  return cached;
}
