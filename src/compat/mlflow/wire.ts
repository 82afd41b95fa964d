import type { ModelVersion, RegisteredModel } from '../../registry/index.js';
import type { DatasetInput, Experiment, Metric, Run, RunInfo, Tag } from '../../tracking/index.js';

/** A JSON object as MLflow sends it; see {@link runToMlflow} for the conventions. */
export type JsonObject = Record<string, unknown>;

/** Maps an artifact URI to the form MLflow clients should see; identity when nothing applies. */
export type PresentUri = (uri: string) => string;

/**
 * A double for JSON: finite numbers as they are, the rest as protobuf names them, because
 * `JSON.stringify` would turn NaN and ±Infinity into `null`.
 *
 * @example
 * doubleToMlflow(Number.NaN); // 'NaN'
 */
export function doubleToMlflow(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

function tags(list: readonly Tag[]): { key: string; value: string }[] {
  return list.map(({ key, value }) => ({ key, value }));
}

/** Sets `name` on `target` only when the list is not empty, as protobuf JSON omits empty repeated fields. */
function putList(target: JsonObject, name: string, list: readonly unknown[]): void {
  if (list.length > 0) target[name] = list;
}

/**
 * A metric point; `step` is always present (MLflow sets it, 0 included).
 *
 * @example
 * metricToMlflow({ key: 'loss', value: 0.5, timestamp: 1, step: 0 }); // { key: 'loss', value: 0.5, timestamp: 1, step: 0 }
 */
export function metricToMlflow(metric: Metric): JsonObject {
  return { key: metric.key, value: doubleToMlflow(metric.value), timestamp: metric.timestamp, step: metric.step };
}

/**
 * An experiment; `tags` only when it has some.
 *
 * @example
 * experimentToMlflow(experiment, present); // { experiment_id: '1', name: 'churn', artifact_location: 'mlflow-artifacts:/1', … }
 */
export function experimentToMlflow(experiment: Experiment, present: PresentUri): JsonObject {
  const wire: JsonObject = {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: present(experiment.artifactLocation),
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
  };
  putList(wire, 'tags', tags(experiment.tags));
  return wire;
}

/**
 * A run's metadata, with the deprecated `run_uuid` the client still reads; `end_time` once ended.
 *
 * @example
 * runInfoToMlflow(run.info, present); // { run_uuid: '…', experiment_id: '1', status: 'RUNNING', …, run_id: '…' }
 */
export function runInfoToMlflow(info: RunInfo, present: PresentUri): JsonObject {
  const wire: JsonObject = { run_uuid: info.runId, experiment_id: info.experimentId };
  if (info.runName !== '') wire.run_name = info.runName;
  if (info.userId !== '') wire.user_id = info.userId;
  wire.status = info.status;
  wire.start_time = info.startTime;
  if (info.endTime !== null) wire.end_time = info.endTime;
  wire.artifact_uri = present(info.artifactUri);
  wire.lifecycle_stage = info.lifecycleStage;
  wire.run_id = info.runId;
  return wire;
}

function datasetInputToMlflow(input: DatasetInput): JsonObject {
  const d = input.dataset;
  const dataset: JsonObject = { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source };
  if (d.schema !== null) dataset.schema = d.schema;
  if (d.profile !== null) dataset.profile = d.profile;
  const wire: JsonObject = {};
  putList(wire, 'tags', tags(input.tags));
  wire.dataset = dataset;
  return wire;
}

/**
 * A whole run in the MLflow REST 2.0 wire format, which every function here follows as MLflow's
 * server writes it (protobuf's JSON mapping, post-processed so that int64 fields are JSON
 * numbers): snake_case names, ids as strings (`experiment_id`, `run_id`, and a model version's
 * `version`), times as epoch-ms numbers, and unset fields and empty lists left out, so a run
 * without params has `data: {}`. Non-finite metric values are the strings `"NaN"`, `"Infinity"`
 * and `"-Infinity"`, which protobuf parsers (the MLflow client's included) read back as doubles;
 * JSON has no other way to carry them. Artifact locations go through `present`.
 *
 * `withInputs: false` leaves `inputs` out, as MLflow's `runs/create` answer does; every other
 * answer carries it, `{}` when the run used no datasets.
 *
 * @example
 * runToMlflow(run, present); // { info: { run_uuid: '…', experiment_id: '1', … }, data: { params: [...] }, inputs: {} }
 */
export function runToMlflow(run: Run, present: PresentUri, withInputs = true): JsonObject {
  const data: JsonObject = {};
  putList(data, 'metrics', run.data.metrics.map(metricToMlflow));
  putList(data, 'params', tags(run.data.params));
  putList(data, 'tags', tags(run.data.tags));
  const wire: JsonObject = { info: runInfoToMlflow(run.info, present), data };
  if (withInputs) {
    const inputs: JsonObject = {};
    putList(inputs, 'dataset_inputs', run.inputs.datasetInputs.map(datasetInputToMlflow));
    wire.inputs = inputs;
  }
  return wire;
}

/**
 * A model version: `version` as a string, `description` and `run_link` always (MLflow sets them,
 * empty or not), `run_id`, `user_id`, `status_message`, `tags` and `aliases` only when set.
 * `withAliases: false` drops `aliases`, as in a registered model's `latest_versions`.
 *
 * @example
 * versionToMlflow(version); // { name: 'churn', version: '3', …, status: 'READY', run_link: '', aliases: ['champion'] }
 */
export function versionToMlflow(v: ModelVersion, withAliases = true): JsonObject {
  const wire: JsonObject = {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
  };
  if (v.userId !== '') wire.user_id = v.userId;
  wire.current_stage = v.currentStage;
  wire.description = v.description;
  wire.source = v.source;
  if (v.runId !== undefined && v.runId !== '') wire.run_id = v.runId;
  wire.status = v.status;
  if (v.statusMessage !== '') wire.status_message = v.statusMessage;
  putList(wire, 'tags', tags(v.tags));
  wire.run_link = v.runLink;
  if (withAliases) putList(wire, 'aliases', [...v.aliases]);
  return wire;
}

/**
 * A registered model: `description`, `latest_versions`, `tags` and `aliases` only when set; alias
 * versions as strings. MLflow 2.7.1 sends `latest_versions` without their aliases, and so does this.
 *
 * @example
 * modelToMlflow(model); // { name: 'churn', creation_timestamp: …, aliases: [{ alias: 'champion', version: '3' }] }
 */
export function modelToMlflow(m: RegisteredModel): JsonObject {
  const wire: JsonObject = {
    name: m.name,
    creation_timestamp: m.creationTimestamp,
    last_updated_timestamp: m.lastUpdatedTimestamp,
  };
  if (m.description !== '') wire.description = m.description;
  putList(
    wire,
    'latest_versions',
    m.latestVersions.map((v) => versionToMlflow(v, false)),
  );
  putList(wire, 'tags', tags(m.tags));
  putList(
    wire,
    'aliases',
    m.aliases.map(({ alias, version }) => ({ alias, version: String(version) })),
  );
  return wire;
}

/**
 * A search answer: the list under `name` when not empty, and `next_page_token` only when more
 * follow — an empty page is `{}`, as from MLflow.
 *
 * @example
 * pageToMlflow('runs', []);           // {}
 * pageToMlflow('runs', [run], 'eyJ…'); // { runs: [run], next_page_token: 'eyJ…' }
 */
export function pageToMlflow(name: string, items: readonly unknown[], nextPageToken?: string): JsonObject {
  const wire: JsonObject = {};
  putList(wire, name, items);
  if (nextPageToken !== undefined && nextPageToken !== '') wire.next_page_token = nextPageToken;
  return wire;
}
