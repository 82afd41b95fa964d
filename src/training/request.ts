import { invalidParameter } from '../core/index.js';
import { checkTrainSpec, type LearnerParamValue, type TrainSpec } from '../learn/index.js';

/** A dataset version as a request names it: `name` (the latest version) or `name@version`. */
export interface DatasetRef {
  name: string;
  /** Absent for "the latest". */
  version?: number;
}

/**
 * What a training job is asked to do: the data, the learner and where to record the result.
 * `validationFraction` holds out that share of the training rows as the validation set (scored every
 * round and used for early stopping); by default 0.2 for gradient boosting when no `evalData` is
 * given, none otherwise; 0 turns it off. With `evalData` and no `validationFraction`, the eval data
 * is the validation set.
 *
 * @example
 * const request: TrainingRequest = { data: 'flights@3', target: 'delayed', task: 'classification', model: 'gbdt', params: { max_depth: 6 } };
 */
export interface TrainingRequest {
  data: string;
  evalData?: string;
  target: string;
  task: TrainSpec['task'];
  model: TrainSpec['model'];
  params?: Record<string, LearnerParamValue>;
  features?: string[];
  /** Preprocessing spec replacing the learner's default one (see docs/learn.md). */
  preprocessing?: unknown;
  /** Experiment name; default `Default`. */
  experiment?: string;
  runName?: string;
  /** Registered model name to register the trained model under. */
  register?: string;
  validationFraction?: number;
}

/** A request after checking: the spec resolved, the dataset references parsed. */
export interface CheckedRequest {
  request: TrainingRequest;
  spec: TrainSpec;
  data: DatasetRef;
  evalData?: DatasetRef;
}

const REF = /^([A-Za-z0-9][A-Za-z0-9._-]{0,199})(?:@([1-9][0-9]{0,9}))?$/;

/**
 * Parses `name` or `name@version`.
 *
 * @example
 * parseDatasetRef('flights@3', 'data'); // { name: 'flights', version: 3 }
 */
export function parseDatasetRef(value: unknown, field: string): DatasetRef {
  const m = typeof value === 'string' ? REF.exec(value) : null;
  if (m === null) throw invalidParameter(field, "must be a dataset as 'name' or 'name@version'", value);
  return m[2] === undefined ? { name: m[1] as string } : { name: m[1] as string, version: Number(m[2]) };
}

function optionalText(raw: Record<string, unknown>, key: string, max: number): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalidParameter(key, `must be a string of 1 to ${max} characters`, value);
  }
  return value;
}

const REQUEST_KEYS = new Set([
  'data',
  'evalData',
  'target',
  'task',
  'model',
  'params',
  'features',
  'preprocessing',
  'experiment',
  'runName',
  'register',
  'validationFraction',
]);

/**
 * Checks a request that may come from JSON and returns it with its spec resolved (unknown
 * parameters, tasks and learners are refused here, before anything is queued).
 *
 * @example
 * const { spec, data } = checkTrainingRequest({ data: 'penguins', target: 'species', task: 'classification', model: 'gbdt' });
 */
export function checkTrainingRequest(raw: unknown): CheckedRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter('request', 'must be an object with data, target, task and model');
  }
  const body = raw as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!REQUEST_KEYS.has(key)) {
      throw invalidParameter(key, `is not a training request field; fields are ${[...REQUEST_KEYS].join(', ')}`);
    }
  }
  const data = parseDatasetRef(body.data, 'data');
  const evalData =
    body.evalData === undefined || body.evalData === null ? undefined : parseDatasetRef(body.evalData, 'evalData');
  const spec = checkTrainSpec({
    task: body.task,
    target: body.target,
    model: body.model,
    params: body.params ?? {},
    ...(body.features === undefined ? {} : { features: body.features }),
    ...(body.preprocessing === undefined ? {} : { preprocessing: body.preprocessing }),
  });
  const fraction = body.validationFraction;
  if (fraction !== undefined && !(typeof fraction === 'number' && fraction >= 0 && fraction < 1)) {
    throw invalidParameter('validationFraction', 'must be a number in [0, 1)', fraction);
  }
  const request: TrainingRequest = {
    data: body.data as string,
    target: spec.target,
    task: spec.task,
    model: spec.model,
    params: spec.params,
  };
  if (evalData !== undefined) request.evalData = body.evalData as string;
  if (spec.features !== undefined) request.features = spec.features;
  if (spec.preprocessing !== undefined) request.preprocessing = spec.preprocessing;
  for (const key of ['experiment', 'runName', 'register'] as const) {
    const value = optionalText(body, key, 250);
    if (value !== undefined) request[key] = value;
  }
  if (typeof fraction === 'number') request.validationFraction = fraction;
  return { request, spec, data, ...(evalData === undefined ? {} : { evalData }) };
}

/**
 * The validation share a request trains with: its own, else 0.2 for gradient boosting without eval
 * data (the one learner that scores every round and stops early), else none.
 */
export function validationShare(checked: CheckedRequest): number {
  if (checked.request.validationFraction !== undefined) return checked.request.validationFraction;
  return checked.spec.model === 'gbdt' && checked.evalData === undefined ? 0.2 : 0;
}
