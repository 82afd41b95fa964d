import { type Static, Type } from '@fastify/type-provider-typebox';
import type { DatasetInput, Experiment, Metric, Run, RunInfo, Tag } from '../model.js';

/**
 * The Kiln REST wire format of the tracking context: snake_case, times as epoch-ms integers, ids
 * as strings. JSON has no NaN or Infinity, so metric values that are not finite travel as the
 * strings `"NaN"`, `"Infinity"` and `"-Infinity"`, both ways.
 */
export const TagSchema = Type.Object({ key: Type.String(), value: Type.String() });

const NonFinite = Type.Union([Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')]);
/** A metric value on the wire. */
export const MetricValueSchema = Type.Union([Type.Number(), NonFinite], {
  description: 'A number, or "NaN", "Infinity" or "-Infinity".',
});

/** A metric point. */
export const MetricSchema = Type.Object({
  key: Type.String(),
  value: MetricValueSchema,
  timestamp: Type.Integer({ description: 'Epoch milliseconds.' }),
  step: Type.Integer(),
});

/** An experiment. */
export const ExperimentSchema = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  artifact_location: Type.String(),
  lifecycle_stage: Type.String({ enum: ['active', 'deleted'] }),
  creation_time: Type.Integer(),
  last_update_time: Type.Integer(),
  tags: Type.Array(TagSchema),
});

/** A run's metadata; `end_time`, `deleted_time` and `parent_run_id` are null when unset. */
export const RunInfoSchema = Type.Object({
  run_id: Type.String(),
  experiment_id: Type.String(),
  run_name: Type.String(),
  user_id: Type.String(),
  status: Type.String({ enum: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] }),
  start_time: Type.Integer(),
  end_time: Type.Union([Type.Integer(), Type.Null()]),
  artifact_uri: Type.String(),
  lifecycle_stage: Type.String({ enum: ['active', 'deleted'] }),
  deleted_time: Type.Union([Type.Integer(), Type.Null()]),
  parent_run_id: Type.Union([Type.String(), Type.Null()]),
});

/** A dataset logged as a run input. */
export const DatasetSchema = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  profile: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** A dataset input with its tags (e.g. `mlflow.data.context`). */
export const DatasetInputSchema = Type.Object({
  dataset: DatasetSchema,
  tags: Type.Optional(Type.Array(TagSchema)),
});

/** A run with its params, tags, latest metrics and inputs. */
export const RunSchema = Type.Object({
  info: RunInfoSchema,
  data: Type.Object({ metrics: Type.Array(MetricSchema), params: Type.Array(TagSchema), tags: Type.Array(TagSchema) }),
  inputs: Type.Object({ dataset_inputs: Type.Array(DatasetInputSchema) }),
});

/** The TypeScript types of the wire schemas. */
export type MetricWire = Static<typeof MetricSchema>;
/** @see MetricWire */
export type ExperimentWire = Static<typeof ExperimentSchema>;
/** @see MetricWire */
export type RunInfoWire = Static<typeof RunInfoSchema>;
/** @see MetricWire */
export type RunWire = Static<typeof RunSchema>;
/** @see MetricWire */
export type DatasetInputWire = Static<typeof DatasetInputSchema>;

/** A metric value for JSON: finite numbers as they are, the rest as their names. */
export function valueToWire(value: number): MetricWire['value'] {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** A metric value from JSON. */
export function valueFromWire(value: MetricWire['value']): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  return value === 'Infinity' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

/** A metric point for JSON. */
export function metricToWire(metric: Metric): MetricWire {
  return { key: metric.key, value: valueToWire(metric.value), timestamp: metric.timestamp, step: metric.step };
}

/** An experiment for JSON. */
export function experimentToWire(experiment: Experiment): ExperimentWire {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    creation_time: experiment.creationTime,
    last_update_time: experiment.lastUpdateTime,
    tags: experiment.tags,
  };
}

/** A run's metadata for JSON. */
export function runInfoToWire(info: RunInfo): RunInfoWire {
  return {
    run_id: info.runId,
    experiment_id: info.experimentId,
    run_name: info.runName,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    end_time: info.endTime,
    artifact_uri: info.artifactUri,
    lifecycle_stage: info.lifecycleStage,
    deleted_time: info.deletedTime,
    parent_run_id: info.parentRunId,
  };
}

/** A whole run for JSON. */
export function runToWire(run: Run): RunWire {
  return {
    info: runInfoToWire(run.info),
    data: { metrics: run.data.metrics.map(metricToWire), params: run.data.params, tags: run.data.tags },
    inputs: {
      dataset_inputs: run.inputs.datasetInputs.map((input) => ({
        dataset: {
          name: input.dataset.name,
          digest: input.dataset.digest,
          source_type: input.dataset.sourceType,
          source: input.dataset.source,
          schema: input.dataset.schema,
          profile: input.dataset.profile,
        },
        tags: input.tags,
      })),
    },
  };
}

/** A dataset input from JSON; absent schema and profile become null. */
export function datasetInputFromWire(input: DatasetInputWire): DatasetInput {
  const d = input.dataset;
  return {
    dataset: {
      name: d.name,
      digest: d.digest,
      sourceType: d.source_type,
      source: d.source,
      schema: d.schema ?? null,
      profile: d.profile ?? null,
    },
    tags: (input.tags ?? []) as Tag[],
  };
}

/** A query parameter that may be given once or repeated (`order_by=a&order_by=b`). */
export const RepeatedString = Type.Union([Type.String(), Type.Array(Type.String())]);

/** The repeated parameter as a list. */
export function listOf(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}
