/**
 * Real models for the serving end-to-end tests, trained once per process on penguins.json (every
 * 4th row held out, as the Python references split), and the rows the tests send.
 */
import { type TrainedModel, takeRows, trainModel, writeModelPackage } from '../../src/learn/index.js';
import { type PenguinRecord, penguinFrame, penguinRecords } from '../../src/learn/testing/vega.js';
import { heldOut, PENGUIN_MEASUREMENTS } from '../../src/serving/predictors/testing/penguins.js';

export { heldOut, PENGUIN_MEASUREMENTS };

/** Classifiers of Species that read the four measurements only, and one that also needs Island and Sex. */
export interface ServingModels {
  /** Gradient boosting on the four measurements. */
  gbdt: TrainedModel;
  /** Logistic regression on the four measurements: answers differ from the GBDT's on some rows. */
  logistic: TrainedModel;
  /** Gradient boosting on Island, Sex and the measurements: a request of measurements alone lacks its inputs. */
  full: TrainedModel;
  records: PenguinRecord[];
}

let cached: Promise<ServingModels> | undefined;

async function train(): Promise<ServingModels> {
  const records = penguinRecords();
  const frame = penguinFrame(records);
  const trainRows = Array.from({ length: frame.rows }, (_, r) => r).filter((r) => !heldOut(r));
  const train = takeRows(frame, trainRows);
  const base = { task: 'classification', target: 'Species' } as const;
  const gbdt = await trainModel(train, {
    ...base,
    features: PENGUIN_MEASUREMENTS,
    model: 'gbdt',
    params: { n_estimators: 20, max_depth: 3, eta: 0.3 },
  });
  const logistic = await trainModel(train, { ...base, features: PENGUIN_MEASUREMENTS, model: 'logistic', params: {} });
  const full = await trainModel(train, {
    ...base,
    features: ['Island', 'Sex', ...PENGUIN_MEASUREMENTS],
    model: 'gbdt',
    params: { n_estimators: 10, max_depth: 3 },
  });
  return { gbdt: gbdt.model, logistic: logistic.model, full: full.model, records };
}

/**
 * The models, trained once per test process (deterministic: the learners are seeded).
 *
 * @example
 * const { gbdt, logistic } = await servingModels();
 */
export function servingModels(): Promise<ServingModels> {
  cached ??= train();
  return cached;
}

/** A Kiln model package's files (`kiln-model.json`, `learner.json`, …), as `kiln train` stores them. */
export function packageFiles(model: TrainedModel): Map<string, Uint8Array> {
  return writeModelPackage(model, { createdAt: '2026-01-01T00:00:00.000Z' });
}

/** One request row: the four measurements of a penguin, by column name. */
export type MeasurementRow = Record<string, number>;

/** Whether a record has all four measurements (the rows every protocol, OIP's typed tensors included, can carry). */
export function complete(record: PenguinRecord): boolean {
  return PENGUIN_MEASUREMENTS.every((name) => typeof record[name] === 'number');
}

/** The measurement row of a complete record. */
export function measurementRow(record: PenguinRecord): MeasurementRow {
  return Object.fromEntries(PENGUIN_MEASUREMENTS.map((name) => [name, record[name] as number]));
}

/** A held-out record with all four measurements: the row to send, its species, its index among the held-out rows. */
export interface HeldOutRow {
  row: MeasurementRow;
  species: string;
  heldOutIndex: number;
}

/** The held-out records that have all four measurements, in file order. */
export function heldOutCompleteRows(records: readonly PenguinRecord[]): HeldOutRow[] {
  const out: HeldOutRow[] = [];
  let index = 0;
  records.forEach((record, r) => {
    if (!heldOut(r)) return;
    if (complete(record)) {
      out.push({ row: measurementRow(record), species: String(record.Species), heldOutIndex: index });
    }
    index++;
  });
  return out;
}

/** Every complete record's measurement row, in file order. */
export function allCompleteRows(records: readonly PenguinRecord[]): MeasurementRow[] {
  return records.filter(complete).map(measurementRow);
}
