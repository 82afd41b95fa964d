import { KilnError } from '../../core/index.js';
import type { DatasetInput, MetricInput, Param, Tag } from '../../tracking/index.js';
import { EMPTY, type EndpointDeps, type MlflowEndpoint } from './endpoint.js';
import { int64Value, invalidValue, metricValue, missingParameter, type RequestFields } from './fields.js';
import { batchTooLarge, MAX_BATCH_REQUEST_BYTES } from './json-body.js';
import { metricToMlflow, pageToMlflow } from './wire.js';

/** The run tag where `runs/log-model` keeps the list of models logged with a run, as MLflow does. */
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';

/** Fields `runs/log-model` requires in `model_json` (MLflow's mandatory MLmodel fields). */
const MODEL_FIELDS = ['artifact_path', 'flavors', 'run_id', 'utc_time_created'] as const;

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A metric point from the wire with its value and int64 fields decoded; the service validates the
 * result. Items already in shape (the usual case) are passed through without copying.
 */
function metricFromWire(item: unknown): unknown {
  if (!isRecord(item)) return item;
  const { value, timestamp, step } = item;
  if (typeof value === 'number' && typeof timestamp === 'number' && (step === undefined || typeof step === 'number')) {
    return item;
  }
  return { key: item.key, value: metricValue(value), timestamp: int64Value(timestamp), step: int64Value(step) };
}

function datasetInputFromWire(item: unknown): unknown {
  if (!isRecord(item) || !isRecord(item.dataset)) return item;
  const d = item.dataset;
  return {
    dataset: {
      name: d.name,
      digest: d.digest,
      sourceType: d.source_type,
      source: d.source,
      schema: d.schema ?? null,
      profile: d.profile ?? null,
    },
    tags: item.tags ?? [],
  };
}

/** One metric point from a `runs/log-metric` call, with MLflow's messages for absent fields. */
function metricFromFields(fields: RequestFields): MetricInput {
  const value = fields.raw('value');
  if (value === undefined) throw missingParameter('value');
  const timestamp = fields.raw('timestamp');
  if (timestamp === undefined) throw missingParameter('timestamp');
  // Typed loosely on purpose: the service checks every field and names it in its error.
  return {
    key: fields.requiredString('key'),
    value: metricValue(value) as number,
    timestamp: int64Value(timestamp) as number,
    step: int64Value(fields.raw('step')) as number | undefined,
  };
}

/**
 * The entry MLflow appends to {@link LOGGED_MODELS_TAG} for one logged model: the model's
 * `run_id`, `artifact_path`, `utc_time_created` and (when present) `model_uuid`, and its flavors
 * without their bulky `config` sections.
 */
function loggedModelEntry(modelJson: string): JsonRecord {
  let model: unknown;
  try {
    model = JSON.parse(modelJson);
  } catch {
    throw invalidValue('model_json', modelJson, 'a JSON object (the MLmodel file as JSON)');
  }
  if (!isRecord(model)) throw invalidValue('model_json', modelJson, 'a JSON object (the MLmodel file as JSON)');
  const missing = MODEL_FIELDS.filter((field) => !Object.hasOwn(model, field));
  if (missing.length > 0) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `Model json is missing mandatory fields: ${missing.join(', ')}`, {
      field: 'model_json',
      missing,
    });
  }
  if (!isRecord(model.flavors)) throw invalidValue('model_json.flavors', model.flavors, 'an object');
  const entry: JsonRecord = {};
  for (const field of ['run_id', 'utc_time_created', 'artifact_path', 'model_uuid']) {
    if (Object.hasOwn(model, field)) entry[field] = model[field];
  }
  const flavors: JsonRecord = {};
  for (const [name, config] of Object.entries(model.flavors)) {
    flavors[name] = isRecord(config)
      ? Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'config'))
      : config;
  }
  entry.flavors = flavors;
  return entry;
}

/**
 * MLflow's run-data endpoints over `RunDataService` and `RunService`: log-metric, log-parameter,
 * log-batch (MLflow's limits and messages, from the service, and MLflow's 1 MB request limit),
 * log-inputs, log-model (appends the model to the run's `mlflow.log-model.history` tag, atomically,
 * so concurrent calls each add their entry) and
 * metrics/get-history (pages of up to 25,000 points with `next_page_token`, which the client
 * follows).
 *
 * @example
 * // POST /api/2.0/mlflow/runs/log-metric {"run_id": "…", "key": "loss", "value": NaN, "timestamp": 1795784734945, "step": 0} → {}
 */
export function runDataEndpoints({ tracking }: EndpointDeps): MlflowEndpoint[] {
  const { runData, runs } = tracking;
  return [
    {
      method: 'POST',
      path: '/runs/log-metric',
      permission: 'write',
      async handle({ fields, ctx }) {
        await runData.logMetric(ctx, fields.runId(), metricFromFields(fields));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/log-parameter',
      permission: 'write',
      async handle({ fields, ctx }) {
        await runData.logParam(ctx, fields.runId(), fields.requiredString('key'), fields.presentString('value'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/log-batch',
      permission: 'write',
      bodyLimit: { bytes: MAX_BATCH_REQUEST_BYTES, tooLarge: batchTooLarge },
      async handle({ fields, ctx }) {
        const metrics = fields.messages<unknown>('metrics')?.map(metricFromWire) as MetricInput[] | undefined;
        const params = fields.messages<Param>('params');
        const tags = fields.messages<Tag>('tags');
        await runData.logBatch(ctx, fields.runId(), { metrics, params, tags });
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/log-inputs',
      permission: 'write',
      async handle({ fields, ctx }) {
        const datasets = (fields.messages<unknown>('datasets') ?? []).map(datasetInputFromWire);
        await runData.logInputs(ctx, fields.runId(), datasets as DatasetInput[]);
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/log-model',
      permission: 'write',
      async handle({ fields, ctx }) {
        const runId = fields.runId();
        const entry = loggedModelEntry(fields.requiredString('model_json'));
        await runs.appendToTagList(ctx, runId, LOGGED_MODELS_TAG, entry);
        return EMPTY;
      },
    },
    {
      method: 'GET',
      path: '/metrics/get-history',
      permission: 'read',
      async handle({ fields, ctx }) {
        const page = await runData.getMetricHistory(ctx, fields.runId(), fields.requiredString('metric_key'), {
          maxResults: fields.integer('max_results'),
          pageToken: fields.string('page_token'),
        });
        return pageToMlflow('metrics', page.metrics.map(metricToMlflow), page.nextPageToken);
      },
    },
  ];
}
