/**
 * Real Kiln models for the runtime's tests, trained once per process on vega-datasets:
 * penguins.json (Species, three classes) and seattle-weather.csv (temp_max, regression with a date
 * input), with the raw records a client would send.
 */
import { readFileSync } from 'node:fs';
import { type Frame, predictModel, type TrainedModel, trainModel } from '../../../learn/index.js';
import {
  type PenguinRecord,
  penguinFrame,
  penguinRecords,
  seattleFrame,
  VEGA_DATA,
} from '../../../learn/testing/vega.js';
import { rowsTable } from '../../input.js';
import type { InferenceRequest } from '../../types.js';

export interface RuntimeModels {
  /** Gradient boosting, Species from island, sex and the four measurements. */
  penguinGbdt: TrainedModel;
  /** Logistic regression, Species: a challenger that disagrees on a few rows. */
  penguinLogistic: TrainedModel;
  /** Gradient boosting regression of temp_max (date parts, precipitation, temp_min, wind). */
  seattleGbdt: TrainedModel;
  /** Linear regression of temp_max. */
  seattleLinear: TrainedModel;
  /** penguins.json rows without the target, as a client sends them. */
  penguins: Record<string, unknown>[];
  /** seattle-weather.csv rows without the target (date as the ISO text of the file). */
  seattle: Record<string, unknown>[];
}

let cached: Promise<RuntimeModels> | undefined;

/** The models, trained on first use. */
export function runtimeModels(): Promise<RuntimeModels> {
  cached ??= train();
  return cached;
}

async function train(): Promise<RuntimeModels> {
  const records = penguinRecords();
  const penguins = penguinFrame(records);
  const penguinGbdt = await trainModel(penguins, {
    task: 'classification',
    target: 'Species',
    model: 'gbdt',
    params: { n_estimators: 20, max_depth: 3 },
  });
  const penguinLogistic = await trainModel(penguins, {
    task: 'classification',
    target: 'Species',
    features: ['Island', 'Beak Depth (mm)', 'Body Mass (g)'],
    model: 'logistic',
    params: { C: 0.05 },
  });
  const weather = seattleFrame();
  const features = ['date', 'precipitation', 'temp_min', 'wind'];
  const seattleGbdt = await trainModel(weather, {
    task: 'regression',
    target: 'temp_max',
    features,
    model: 'gbdt',
    params: { n_estimators: 20 },
  });
  const seattleLinear = await trainModel(weather, {
    task: 'regression',
    target: 'temp_max',
    features,
    model: 'linear',
    params: {},
  });
  return {
    penguinGbdt: penguinGbdt.model,
    penguinLogistic: penguinLogistic.model,
    seattleGbdt: seattleGbdt.model,
    seattleLinear: seattleLinear.model,
    penguins: records.map(({ Species: _species, ...rest }) => rest),
    seattle: seattleRows(),
  };
}

function seattleRows(): Record<string, unknown>[] {
  const lines = readFileSync(`${VEGA_DATA}seattle-weather.csv`, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [date, precipitation, , tempMin, wind] = line.split(',');
    return { date, precipitation: Number(precipitation), temp_min: Number(tempMin), wind: Number(wind) };
  });
}

/** A Kiln REST-style request for `rows`. */
export function requestOf(
  rows: readonly Record<string, unknown>[],
  requestId: string,
  routeKey?: string,
): InferenceRequest {
  const request: InferenceRequest = { table: rowsTable(rows), requestId, protocol: 'kiln' };
  if (routeKey !== undefined) request.routeKey = routeKey;
  return request;
}

/** What `model` answers for penguin rows, computed directly (the reference the runtime must match). */
export function directPenguins(
  model: TrainedModel,
  rows: readonly Record<string, unknown>[],
): ReturnType<typeof predictModel> {
  return predictModel(model, penguinFrame(rows as PenguinRecord[]));
}

/** What `model` answers for seattle rows, computed directly. */
export function directSeattle(
  model: TrainedModel,
  rows: readonly Record<string, unknown>[],
): ReturnType<typeof predictModel> {
  const frame: Frame = {
    rows: rows.length,
    columns: [
      { kind: 'datetime', name: 'date', values: Float64Array.from(rows, (r) => Date.parse(`${r.date}T00:00:00Z`)) },
      ...['precipitation', 'temp_min', 'wind'].map((name) => ({
        kind: 'float' as const,
        name,
        values: Float64Array.from(rows, (r) => r[name] as number),
      })),
    ],
  };
  return predictModel(model, frame);
}
