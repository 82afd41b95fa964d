import { KilnError, type RequestContext } from '../core/index.js';
import type { RegistryService } from '../registry/index.js';
import { PARENT_RUN_TAG, type TrackingServices } from '../tracking/index.js';
import type { StudySpec } from './study-spec.js';
import type { TrialRow } from './study-store.js';

/** Tags every study's parent run carries; `kiln.study` also marks each trial's run. */
export const STUDY_TAG = 'kiln.study';
export const TRIAL_TAG = 'kiln.trial';

const TAG_LIMIT = 8000;

function clip(value: string): string {
  return value.length <= TAG_LIMIT ? value : `${value.slice(0, TAG_LIMIT - 1)}…`;
}

/**
 * What a study writes to tracking and the registry: its parent run (the spec as params and tags,
 * the best value as a metric stepped by trial number, the best params as tags), nested runs for
 * trials that have no run of their own, and the best trial's model as a registered version.
 *
 * @example
 * const parent = await studyTracking.createParentRun(ctx, spec, studyId);
 * await studyTracking.logBest(ctx, parent.runId, spec, trial);
 */
export class StudyTracking {
  constructor(
    private readonly tracking: TrackingServices,
    private readonly registry?: RegistryService,
  ) {}

  /** The experiment named in the spec (created on first use), else the workspace's default one. */
  async experimentId(ctx: RequestContext, name: string | undefined): Promise<string> {
    return (await this.tracking.experiments.getOrCreateByName(ctx, name)).experimentId;
  }

  /** Creates the study's parent run with the spec as params and tags. */
  async createParentRun(
    ctx: RequestContext,
    spec: StudySpec,
    studyId: string,
  ): Promise<{ experimentId: string; runId: string }> {
    const experimentId = await this.experimentId(ctx, spec.experiment);
    const run = await this.tracking.runs.create(ctx, {
      experimentId,
      runName: spec.name,
      tags: [
        { key: STUDY_TAG, value: studyId },
        { key: 'kiln.study.name', value: spec.name },
        { key: 'kiln.sampler', value: clip(JSON.stringify(spec.sampler)) },
        { key: 'kiln.pruner', value: clip(JSON.stringify(spec.pruner)) },
        { key: 'kiln.space', value: clip(JSON.stringify(spec.space)) },
        { key: 'kiln.metric', value: spec.metric },
        { key: 'kiln.direction', value: spec.direction },
      ],
    });
    const t = spec.training;
    const params = {
      data: t.data,
      target: t.target,
      task: t.task,
      model: t.model,
      metric: spec.metric,
      direction: spec.direction,
      sampler: spec.sampler.type,
      pruner: spec.pruner.type,
      n_trials: String(spec.nTrials),
      parallelism: String(spec.parallelism),
      ...(t.evalData === undefined ? {} : { eval_data: t.evalData }),
    };
    await this.tracking.runData.logBatch(ctx, run.info.runId, {
      params: Object.entries(params).map(([key, value]) => ({ key, value })),
    });
    return { experimentId, runId: run.info.runId };
  }

  /** Logs a new best trial on the parent run: `best_<metric>` at step = trial number, its params as tags. */
  async logBest(ctx: RequestContext, parentRunId: string, spec: StudySpec, trial: TrialRow): Promise<void> {
    if (trial.value === undefined) return;
    await this.tracking.runData.logBatch(ctx, parentRunId, {
      metrics: [{ key: `best_${spec.metric}`, value: trial.value, timestamp: Date.now(), step: trial.number }],
      tags: [
        { key: 'kiln.best_trial', value: String(trial.number) },
        { key: 'kiln.best_params', value: clip(JSON.stringify(trial.params)) },
        ...(trial.runId === undefined ? [] : [{ key: 'kiln.best_run_id', value: trial.runId }]),
      ],
    });
  }

  /** Logs a finished trial's value on the parent run as `trial_<metric>` at step = trial number. */
  async logTrial(ctx: RequestContext, parentRunId: string, spec: StudySpec, trial: { number: number; value?: number }) {
    if (trial.value === undefined || !Number.isFinite(trial.value)) return;
    await this.tracking.runData.logBatch(ctx, parentRunId, {
      metrics: [{ key: `trial_${spec.metric}`, value: trial.value, timestamp: Date.now(), step: trial.number }],
    });
  }

  /** Sets the parent run's status (FINISHED when the study completes, KILLED when stopped, RUNNING on resume). */
  async setStatus(
    ctx: RequestContext,
    runId: string,
    status: 'RUNNING' | 'FINISHED' | 'KILLED' | 'FAILED',
  ): Promise<void> {
    await this.tracking.runs.update(ctx, runId, { status, ...(status === 'RUNNING' ? {} : { endTime: Date.now() }) });
  }

  /** Marks a trial run abandoned by a dead worker as FAILED, if it is still RUNNING. */
  async failAbandonedRun(ctx: RequestContext, runId: string): Promise<void> {
    const run = await this.tracking.runs.get(ctx, runId).catch(() => undefined);
    if (run?.info.status === 'RUNNING') await this.setStatus(ctx, runId, 'FAILED');
  }

  /** The tags that nest a run under the parent and mark its trial. */
  trialTags(studyId: string, parentRunId: string, number: number): { key: string; value: string }[] {
    return [
      { key: PARENT_RUN_TAG, value: parentRunId },
      { key: STUDY_TAG, value: studyId },
      { key: TRIAL_TAG, value: String(number) },
    ];
  }

  /** Tags a trial's run (made by the training service) with its study and trial number. */
  async tagTrialRun(ctx: RequestContext, runId: string, studyId: string, number: number): Promise<void> {
    await this.tracking.runData.logBatch(ctx, runId, {
      tags: [
        { key: STUDY_TAG, value: studyId },
        { key: TRIAL_TAG, value: String(number) },
      ],
    });
  }

  /** Registers the best trial's model as a new version of `name`, creating the registered model on first use. */
  async registerBest(ctx: RequestContext, name: string, trial: TrialRow): Promise<{ name: string; version: string }> {
    if (this.registry === undefined) {
      throw new KilnError(
        'INVALID_CONFIGURATION',
        'register_best needs the model registry, which this service was built without',
      );
    }
    if (trial.modelUri === undefined || trial.runId === undefined) {
      throw new KilnError('INVALID_STATE', `register_best: trial ${trial.number} has no model to register`, {
        field: 'register_best',
      });
    }
    await this.registry.getOrCreateRegisteredModel(ctx, name);
    const version = await this.registry.createModelVersion(ctx, {
      name,
      source: trial.modelUri,
      runId: trial.runId,
      description: `Best trial (${trial.number}) of a Kiln study`,
    });
    return { name, version: String(version.version) };
  }
}
