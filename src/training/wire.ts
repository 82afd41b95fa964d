/** The training-jobs API's wire shapes: TypeBox schemas for validation and OpenAPI, and snake_case converters. */
import { type Static, Type } from '@fastify/type-provider-typebox';
import type { TrainingJob } from './jobs.js';
import type { TrainingRequest } from './request.js';

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const TrainingRequestSchema = Type.Object(
  {
    data: Type.String({ description: "Training data: 'name' (latest version) or 'name@version'." }),
    eval_data: Type.Optional(Type.String({ description: 'Held-out data scored at the end (eval_* metrics).' })),
    target: Type.String(),
    task: Type.String({
      description: 'binary, multiclass, regression, or classification (binary or multiclass from the target).',
    }),
    model: Type.String({ description: 'gbdt, forest, logistic or linear.' }),
    params: Type.Optional(
      Type.Record(Type.String(), Scalar, { description: 'Learner parameters, snake_case (see docs/training.md).' }),
    ),
    features: Type.Optional(
      Type.Array(Type.String(), { description: 'Feature columns; default every column but the target.' }),
    ),
    preprocessing: Type.Optional(Type.Unknown({ description: 'A preprocessing spec replacing the learner default.' })),
    experiment: Type.Optional(Type.String({ description: "Experiment name; default 'Default'." })),
    run_name: Type.Optional(Type.String()),
    register: Type.Optional(
      Type.String({ description: 'Register the model as a new version of this registered model.' }),
    ),
    validation_fraction: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 0.99,
        description: 'Holdout share of the training data; see docs/training.md.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TrainingJobSchema = Type.Object({
  id: Type.String(),
  state: Type.Union([
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('completed'),
    Type.Literal('failed'),
  ]),
  request: TrainingRequestSchema,
  progress: Type.Optional(
    Type.Object({
      step: Type.Integer(),
      total: Type.Optional(Type.Integer()),
      metrics: Type.Record(Type.String(), Type.Number()),
    }),
  ),
  run_id: Type.Optional(Type.String()),
  model_uri: Type.Optional(Type.String()),
  metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
  model_version: Type.Optional(Type.Object({ name: Type.String(), version: Type.Integer() })),
  error: Type.Optional(Type.String()),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const JobEnvelope = Type.Object({ job: TrainingJobSchema });

export const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const JobListQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Page size; default 50.' })),
  page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
});

type WireRequest = Record<string, unknown>;

const TO_WIRE: Record<string, string> = {
  evalData: 'eval_data',
  runName: 'run_name',
  validationFraction: 'validation_fraction',
};
const FROM_WIRE: Record<string, string> = Object.fromEntries(Object.entries(TO_WIRE).map(([k, v]) => [v, k]));

/** A wire request (snake_case) as the service's request; unknown fields pass on to be refused there. */
export function requestFromWire(body: WireRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [FROM_WIRE[k] ?? k, v]));
}

export function requestToWire(request: TrainingRequest): Static<typeof TrainingRequestSchema> {
  const wire = Object.fromEntries(Object.entries(request).map(([k, v]) => [TO_WIRE[k] ?? k, v]));
  return wire as Static<typeof TrainingRequestSchema>;
}

export function jobToWire(job: TrainingJob) {
  return {
    id: job.id,
    state: job.state,
    request: requestToWire(job.request),
    ...(job.progress === undefined ? {} : { progress: job.progress }),
    ...(job.runId === undefined ? {} : { run_id: job.runId }),
    ...(job.modelUri === undefined ? {} : { model_uri: job.modelUri }),
    ...(job.metrics === undefined ? {} : { metrics: job.metrics }),
    ...(job.modelVersion === undefined ? {} : { model_version: job.modelVersion }),
    ...(job.error === undefined ? {} : { error: job.error }),
    created_by: job.createdBy,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    ...(job.finishedAt === undefined ? {} : { finished_at: job.finishedAt }),
  };
}
