import { Type } from '@fastify/type-provider-typebox';
import type { StudyView } from './study-service.js';
import type { TrialRow } from './study-store.js';

const ParamValueSchema = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

/** `POST /api/v1/studies`: a training template, a search space and how to search it. */
export const CreateStudyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    experiment: Type.Optional(Type.String({ minLength: 1, description: 'Experiment name; created on first use.' })),
    data: Type.String({ minLength: 1, description: 'Training dataset, `name` or `name@version`.' }),
    eval_data: Type.Optional(Type.String({ minLength: 1 })),
    target: Type.String({ minLength: 1 }),
    task: Type.String({ description: 'classification, binary, multiclass or regression.' }),
    model: Type.String({ description: 'gbdt, forest, logistic or linear.' }),
    features: Type.Optional(Type.Array(Type.String())),
    validation_fraction: Type.Optional(Type.Number()),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Learner parameters every trial shares.',
      }),
    ),
    space: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'Parameter name → distribution: {type: float|int, low, high, log?, step?} or {type: categorical, choices}; `when` makes it conditional.',
    }),
    metric: Type.Optional(
      Type.String({
        description:
          'Final metric of a trial run; default by task (validation_log_loss, validation_auc, validation_rmse).',
      }),
    ),
    direction: Type.Optional(Type.String({ description: 'minimize or maximize; default by metric.' })),
    sampler: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: '{type: tpe|random|grid, seed?, …}; default TPE, seed 0.',
      }),
    ),
    pruner: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: '{type: median|asha|none, …}; default median.' }),
    ),
    n_trials: Type.Optional(Type.Integer({ description: 'Default 20.' })),
    parallelism: Type.Optional(Type.Integer({ description: 'Trials in flight at once; default 1.' })),
    timeout_seconds: Type.Optional(Type.Integer({ description: 'No trial starts after this long.' })),
    register_best: Type.Optional(
      Type.String({ description: 'Register the best model under this name when the study completes.' }),
    ),
  },
  { additionalProperties: false },
);

const TrialSchema = Type.Object({
  number: Type.Integer(),
  state: Type.String({ description: 'running, complete, pruned or failed.' }),
  params: Type.Record(Type.String(), ParamValueSchema),
  value: Type.Optional(Type.Number()),
  intermediate: Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), {
    description: '[step, value] pairs reported while the trial ran.',
  }),
  run_id: Type.Optional(Type.String()),
  model_uri: Type.Optional(Type.String()),
  attempts: Type.Integer({ description: 'Starts of the trial; above 1 when a crashed worker left it to another.' }),
  error: Type.Optional(Type.String()),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const StudySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: Type.String({ description: 'running, complete, stopped or failed.' }),
  spec: Type.Record(Type.String(), Type.Unknown(), { description: 'The spec with every default filled in.' }),
  n_trials: Type.Integer(),
  parallelism: Type.Integer(),
  experiment_id: Type.String(),
  parent_run_id: Type.String(),
  counts: Type.Object({
    running: Type.Integer(),
    complete: Type.Integer(),
    pruned: Type.Integer(),
    failed: Type.Integer(),
  }),
  best_trial: Type.Optional(TrialSchema),
  registered_model: Type.Optional(Type.Object({ name: Type.String(), version: Type.String() })),
  error: Type.Optional(Type.String()),
  deadline: Type.Optional(Type.String({ format: 'date-time' })),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const StudyEnvelope = Type.Object({ study: StudySchema });
export const TrialPageSchema = Type.Object({
  trials: Type.Array(TrialSchema),
  next_page_token: Type.Optional(Type.String()),
});
export const StudyPageSchema = Type.Object({
  studies: Type.Array(StudySchema),
  next_page_token: Type.Optional(Type.String()),
});

/** A trial as the API returns it. */
export function trialToWire(trial: TrialRow) {
  return {
    number: trial.number,
    state: trial.state,
    params: trial.params,
    ...(trial.value === undefined ? {} : { value: trial.value }),
    intermediate: trial.intermediate,
    ...(trial.runId === undefined ? {} : { run_id: trial.runId }),
    ...(trial.modelUri === undefined ? {} : { model_uri: trial.modelUri }),
    attempts: trial.attempts,
    ...(trial.error === undefined ? {} : { error: trial.error }),
    started_at: trial.startedAt,
    ...(trial.finishedAt === undefined ? {} : { finished_at: trial.finishedAt }),
  };
}

/** A study with its counts and best trial as the API returns it. */
export function studyToWire(view: StudyView) {
  const { study } = view;
  return {
    id: study.id,
    name: study.name,
    state: study.state,
    spec: study.spec,
    n_trials: study.nTrials,
    parallelism: study.parallelism,
    experiment_id: study.experimentId,
    parent_run_id: study.parentRunId,
    counts: view.counts,
    ...(view.best === undefined ? {} : { best_trial: trialToWire(view.best) }),
    ...(study.registered === undefined ? {} : { registered_model: study.registered }),
    ...(study.error === undefined ? {} : { error: study.error }),
    ...(study.deadline === undefined ? {} : { deadline: study.deadline }),
    created_by: study.createdBy,
    created_at: study.createdAt,
    updated_at: study.updatedAt,
    ...(study.finishedAt === undefined ? {} : { finished_at: study.finishedAt }),
  };
}
