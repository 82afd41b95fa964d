import { KilnError, type RequestContext } from '../core/index.js';
import type { TrainingRequest } from './request.js';
import type { TrainingService } from './service.js';
import type { TrialAssignment, TrialHooks, TrialOutcome, TrialRunner } from './study-runner.js';
import type { BaseParamValue, StudySpec } from './study-spec.js';

/** The part of the training service a study runs its trials through. */
export type TrainingPort = Pick<TrainingService, 'run' | 'check'>;

/** The training request of one trial: the template's base params with the trial's params on top. */
export function trialRequest(spec: StudySpec, trial: TrialAssignment): TrainingRequest {
  const params: Record<string, BaseParamValue> = { ...spec.training.params };
  for (const [key, value] of Object.entries(trial.params)) {
    // null is a categorical choice meaning "leave the learner's default".
    if (value !== null) params[key] = value;
  }
  const t = spec.training;
  return {
    data: t.data,
    target: t.target,
    task: t.task as TrainingRequest['task'],
    model: t.model as TrainingRequest['model'],
    params,
    ...(t.evalData === undefined ? {} : { evalData: t.evalData }),
    ...(t.features === undefined ? {} : { features: t.features }),
    ...(t.validationFraction === undefined ? {} : { validationFraction: t.validationFraction }),
    ...(spec.experiment === undefined ? {} : { experiment: spec.experiment }),
    runName: `${spec.name}-trial-${trial.number}`,
  };
}

/**
 * Per-round metrics under the names the final metrics use: gradient boosting reports XGBoost's
 * `logloss` / `mlogloss` each round, the final metrics say `log_loss`, and a study names one metric
 * for both its value and its pruning.
 */
export function finalMetricNames(metrics: Record<string, number>): Record<string, number> {
  const renamed: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics)) renamed[key.replace(/_m?logloss$/, '_log_loss')] = value;
  return renamed;
}

/**
 * Runs each trial as a real training job through the training service: a nested run under the
 * study's parent run, per-iteration metrics fed to the pruner, and the model kept as the run's
 * artifact (`runs:/<run>/model`) so the best one can be registered.
 *
 * @example
 * const studies = new StudyService({ ..., runner: new TrainingTrialRunner(trainingService) });
 */
export class TrainingTrialRunner implements TrialRunner {
  constructor(private readonly training: TrainingPort) {}

  /**
   * Checks the request every trial shares before the study is created: learner, task, parameter
   * names and values, and (through the training service) datasets, target and feature columns.
   */
  async check(ctx: RequestContext, spec: StudySpec): Promise<void> {
    const request = trialRequest(spec, { number: 0, params: {} });
    await this.training.check(ctx, request);
  }

  async run(ctx: RequestContext, spec: StudySpec, trial: TrialAssignment, hooks: TrialHooks): Promise<TrialOutcome> {
    const outcome = await this.training.run(ctx, trialRequest(spec, trial), {
      parentRunId: hooks.parentRunId,
      onIteration: (step, metrics) => hooks.onIteration(step, finalMetricNames(metrics)),
      ...(hooks.onRun === undefined ? {} : { onRunCreated: hooks.onRun }),
      signal: hooks.signal,
    });
    if (!(spec.metric in outcome.metrics)) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `metric: the trial's run has no '${spec.metric}'; it logged ${Object.keys(outcome.metrics).sort().join(', ')}`,
        { field: 'metric', runId: outcome.runId },
      );
    }
    return { metrics: outcome.metrics, runId: outcome.runId, modelUri: outcome.modelUri };
  }
}
