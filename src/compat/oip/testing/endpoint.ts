import type { FastifyRequest } from 'fastify';
import { KilnError } from '../../../core/index.js';
import { predictModel, type TrainedModel, trainModel } from '../../../learn/index.js';
import {
  categoricalColumn,
  floatColumn,
  type PenguinRecord,
  penguinFrame,
  penguinRecords,
} from '../../../learn/testing/vega.js';
import {
  type EndpointModel,
  frameFromTable,
  type InferenceRequest,
  type InferenceResult,
  type InputPolicy,
  type ServedEndpoint,
  type ServingInput,
} from '../../../serving/index.js';

/** The inputs a predictor over `model` exposes: numbers as float columns, dates as datetimes, the rest as categories. */
export function servingInputs(model: TrainedModel): ServingInput[] {
  return model.signature.inputs.map((input) => ({
    name: input.name,
    type: input.type,
    nullable: input.nullable,
    kind:
      input.type === 'float' || input.type === 'integer'
        ? 'float'
        : input.type === 'datetime'
          ? 'datetime'
          : 'categorical',
  }));
}

/** Options of {@link TrainedModelEndpoint}. */
export interface TrainedModelEndpointOptions {
  /** Endpoint (deployment) name; default `penguins`. */
  name?: string;
  /** Registered model name and version reported; default the endpoint name and '3'. */
  model?: string;
  version?: string;
  policy?: Partial<InputPolicy>;
  /** Resolves when the "load" finishes; until then the endpoint is not ready. Default: ready at once. */
  loaded?: Promise<void>;
}

/**
 * A ServedEndpoint over one in-memory trained model, without the runtime: requests are checked
 * with `frameFromTable` against the model's inputs and answered by `predictModel`. It records each
 * inference request so tests can check what a protocol passed on (routing key, request id).
 *
 * @example
 * const endpoint = new TrainedModelEndpoint(await trainPenguinClassifier());
 * await app.register(kilnPredictRoutes, { endpoint: () => endpoint });
 */
export class TrainedModelEndpoint implements ServedEndpoint {
  readonly name: string;
  readonly inputPolicy: InputPolicy;
  readonly requests: InferenceRequest[] = [];
  readonly inputs: readonly ServingInput[];
  readonly #model: TrainedModel;
  readonly #modelName: string;
  readonly #version: string;
  #ready: boolean;

  constructor(model: TrainedModel, options: TrainedModelEndpointOptions = {}) {
    this.#model = model;
    this.name = options.name ?? 'penguins';
    this.#modelName = options.model ?? this.name;
    this.#version = options.version ?? '3';
    this.inputPolicy = { extraColumns: 'ignore', maxBatchRows: 10_000, ...options.policy };
    this.inputs = servingInputs(model);
    this.#ready = options.loaded === undefined;
    options.loaded?.then(() => {
      this.#ready = true;
    });
  }

  ready(): boolean {
    return this.#ready;
  }

  models(): EndpointModel[] {
    const model: EndpointModel = {
      name: this.#modelName,
      version: this.#version,
      flavour: 'kiln',
      task: this.#model.task,
      inputs: this.inputs,
      role: 'primary',
      ready: this.#ready,
    };
    if (this.#model.classes !== undefined) model.classes = this.#model.classes;
    return [model];
  }

  async infer(request: InferenceRequest): Promise<InferenceResult> {
    this.requests.push(request);
    if (!this.#ready) {
      throw new KilnError(
        'TEMPORARILY_UNAVAILABLE',
        `Deployment '${this.name}' is not ready: its model is still loading`,
        {
          deployment: this.name,
          retryAfter: 1,
        },
      );
    }
    const frame = frameFromTable(this.inputs, request.table, this.inputPolicy);
    const output = predictModel(this.#model, frame);
    const result: InferenceResult = {
      ...output,
      task: this.#model.task,
      model: this.#modelName,
      version: this.#version,
    };
    if (this.#model.classes !== undefined) result.classes = this.#model.classes;
    return result;
  }
}

/**
 * The `endpoint` option of the protocol plugins for a set of endpoints by deployment name (the
 * `:deployment` path parameter, or the only endpoint when the plugin is mounted without one);
 * an unknown name is the 404 the real directory gives.
 */
export function endpointLookup(endpoints: readonly ServedEndpoint[]): (request: FastifyRequest) => ServedEndpoint {
  return (request) => {
    const name = (request.params as { deployment?: string }).deployment;
    const found = name === undefined ? endpoints[0] : endpoints.find((e) => e.name === name);
    if (found === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Deployment '${name}' does not exist`, { deployment: name });
    }
    return found;
  };
}

/** Penguins with a species, as the API gets them (Species is the target and is left out of requests). */
export const PENGUINS: readonly PenguinRecord[] = penguinRecords().filter((r) => r.Species !== null);

/** Penguin records without the target column, as a client sends them. */
export function penguinRows(
  records: readonly PenguinRecord[],
  target = 'Species',
): Record<string, string | number | null>[] {
  return records.map((record) => {
    const row = { ...record };
    delete row[target];
    return row;
  });
}

/**
 * A small Kiln GBDT classifying penguin species from island, sex and four measurements, or from
 * the `features` given (the four measurements make an all-numeric model, for 2-D tensors).
 */
export async function trainPenguinClassifier(features?: string[]): Promise<TrainedModel> {
  const { model } = await trainModel(penguinFrame(PENGUINS), {
    task: 'classification',
    target: 'Species',
    model: 'gbdt',
    params: { n_estimators: 20, max_depth: 3 },
    ...(features === undefined ? {} : { features }),
  });
  return model;
}

/** The four penguin measurements: the inputs of an all-numeric model. */
export const PENGUIN_MEASUREMENTS = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

/**
 * Penguin rows with typed columns: `Island` (text), `Male` (a boolean, null when unknown),
 * `Flipper Length (mm)` (an integer) and `Beak Length (mm)` (a float).
 */
export function typedPenguinRows(
  records: readonly PenguinRecord[],
): Record<string, string | number | boolean | null>[] {
  return records.map((r) => ({
    Island: r.Island as string,
    Male: r.Sex === 'MALE' ? true : r.Sex === 'FEMALE' ? false : null,
    'Flipper Length (mm)': r['Flipper Length (mm)'] as number | null,
    'Beak Length (mm)': r['Beak Length (mm)'] as number | null,
  }));
}

/**
 * A GBDT on {@link typedPenguinRows} whose signature types its inputs boolean (`Male`) and integer
 * (`Flipper Length (mm)`), for the BOOL and integer tensor datatypes.
 */
export async function trainTypedPenguinClassifier(): Promise<TrainedModel> {
  const rows = typedPenguinRows(PENGUINS);
  const frame = {
    rows: rows.length,
    columns: [
      categoricalColumn(
        'Island',
        rows.map((r) => r.Island as string),
      ),
      categoricalColumn(
        'Male',
        rows.map((r) => (r.Male === null ? null : String(r.Male))),
      ),
      floatColumn(
        'Flipper Length (mm)',
        rows.map((r) => r['Flipper Length (mm)'] as number | null),
      ),
      floatColumn(
        'Beak Length (mm)',
        rows.map((r) => r['Beak Length (mm)'] as number | null),
      ),
      categoricalColumn(
        'Species',
        PENGUINS.map((r) => r.Species as string),
      ),
    ],
  };
  const { model } = await trainModel(
    frame,
    { task: 'classification', target: 'Species', model: 'gbdt', params: { n_estimators: 20, max_depth: 3 } },
    { columnTypes: { Male: 'boolean', 'Flipper Length (mm)': 'integer' } },
  );
  return model;
}

/** A small Kiln GBDT regressing penguin body mass on the other columns. */
export async function trainPenguinRegressor(): Promise<TrainedModel> {
  const records = PENGUINS.filter((r) => r['Body Mass (g)'] !== null);
  const { model } = await trainModel(penguinFrame(records), {
    task: 'regression',
    target: 'Body Mass (g)',
    model: 'gbdt',
    params: { n_estimators: 20, max_depth: 3 },
  });
  return model;
}
