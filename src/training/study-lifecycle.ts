import type { Logger, RequestContext } from '../core/index.js';
import { isGridExhausted } from '../learn/index.js';
import type { Queue } from '../store/index.js';
import type { TrialRunner } from './study-runner.js';
import { checkStudySpec, type StudySpec } from './study-spec.js';
import type { StudyRecord, StudyStore, TrialRow } from './study-store.js';
import type { StudyTracking } from './study-tracking.js';

/** The queue trial jobs run on; `kiln worker` and the embedded server both consume it. */
export const TUNING_QUEUE = 'tuning';

/** What a trial job carries: which study, which trial number, and who asked (for the trial's run). */
export interface TrialJobData {
  studyId: string;
  workspace: string;
  actor: string;
  number: number;
}

/** Everything the study service and the trial jobs share. */
export interface StudyDeps {
  store: StudyStore;
  queue: Queue;
  tracking: StudyTracking;
  runner: TrialRunner;
  logger: Logger;
  /** Tries per trial job (a worker killed mid-trial costs one); default 3. */
  jobAttempts: number;
  /** Epoch ms. */
  clock: () => number;
}

const LIVE_JOB_STATES = new Set(['waiting', 'delayed', 'active']);

/** Failures in a row, with nothing completed, after which a study is given up (see `failIfHopeless`). */
const HOPELESS_FAILURES = 3;

/** The error of trials cancelled by a stop; they do not count as failures of the study. */
export const STOPPED_ERROR = 'the study was stopped';

/** The deterministic job id of trial `number` in a study's `generation`: re-enqueueing it is a no-op. */
export function trialJobId(studyId: string, number: number, generation: number): string {
  return `study-${studyId}-t${number}-g${generation}`;
}

/** The request context a trial job runs in: the study's creator, in its workspace. */
export function jobContext(data: TrialJobData, jobId: string): RequestContext {
  return { actor: data.actor, workspace: data.workspace, requestId: jobId };
}

/**
 * The steps of a study's life that both the service (create, resume) and the trial jobs take:
 * enqueueing trial jobs, reconciling what a crash left behind, recording a new best, chaining the
 * next trial and completing the study when its last trial ends.
 *
 * @example
 * const lifecycle = new StudyLifecycle(deps);
 * await lifecycle.reconcile(study); // after a crash: re-enqueue what no live job holds
 */
export class StudyLifecycle {
  constructor(readonly deps: StudyDeps) {}

  now(): string {
    return new Date(this.deps.clock()).toISOString();
  }

  specOf(study: StudyRecord): StudySpec {
    return checkStudySpec(study.spec);
  }

  async enqueueTrial(study: StudyRecord, number: number): Promise<void> {
    const data: TrialJobData = { studyId: study.id, workspace: study.workspace, actor: study.createdBy, number };
    await this.deps.queue.enqueue(TUNING_QUEUE, 'trial', data, {
      jobId: trialJobId(study.id, number, study.generation),
      attempts: this.deps.jobAttempts,
    });
  }

  /** True when the queue still holds `jobId` as waiting, delayed or running. */
  async isLive(jobId: string): Promise<boolean> {
    const job = await this.deps.queue.getJob(TUNING_QUEUE, jobId);
    return job !== undefined && LIVE_JOB_STATES.has(job.state);
  }

  /**
   * Puts a running study back on its feet: every claimed trial number that is not finished and
   * whose job is gone (the worker died and its job failed for good, or the enqueue never
   * happened) gets a job of this generation, and numbers are claimed until `parallelism` trials
   * are in flight again. Jobs still live are left alone; a duplicate job finds its trial taken and
   * does nothing. Returns how many jobs it enqueued.
   */
  async reconcile(study: StudyRecord): Promise<number> {
    const trials = new Map((await this.deps.store.allTrials(study.id)).map((trial) => [trial.number, trial]));
    let inFlight = 0;
    let enqueued = 0;
    for (let number = 0; number < study.nextNumber; number++) {
      const trial = trials.get(number);
      if (trial !== undefined && trial.state !== 'running') continue;
      inFlight += 1;
      if (trial !== undefined && (await this.isLive(trial.jobId))) continue;
      await this.enqueueTrial(study, number);
      enqueued += 1;
    }
    while (inFlight < study.parallelism) {
      const number = await this.deps.store.claimNumber(study.id);
      if (number === undefined) break;
      await this.enqueueTrial(study, number);
      inFlight += 1;
      enqueued += 1;
    }
    if (inFlight === 0) await this.completeIfDone(study.id, study.workspace, true);
    return enqueued;
  }

  /**
   * What follows a trial that ended: a new best is recorded (and logged on the parent run), the
   * trial's value logged, the next trial number claimed and enqueued, and the study completed
   * when nothing is left to run. Each step is idempotent, so a job retried after a crash here
   * simply repeats them.
   */
  async afterTrial(ctx: RequestContext, study: StudyRecord, spec: StudySpec, trial: TrialRow): Promise<void> {
    const { store, tracking, logger } = this.deps;
    if (trial.state === 'complete' && trial.value !== undefined) {
      if (await store.offerBest(study.id, trial.number, trial.value, spec.direction)) {
        await tracking
          .logBest(ctx, study.parentRunId, spec, trial)
          .catch((err: unknown) =>
            logger.warn({ err, study: study.id }, 'logging the best trial on the parent run failed'),
          );
      }
      await tracking
        .logTrial(ctx, study.parentRunId, spec, trial)
        .catch((err: unknown) => logger.warn({ err, study: study.id }, 'logging the trial on the parent run failed'));
    }
    if (trial.state === 'failed' && (await this.failIfHopeless(study, trial))) return;
    const current = await store.getStudy(study.workspace, study.id);
    if (current === undefined) return;
    if (current.state === 'running' && !this.pastDeadline(current)) {
      const next = await store.claimSuccessor(study.id, trial.number);
      if (next !== undefined) await this.enqueueTrial(current, next);
    }
    await this.completeIfDone(study.id, study.workspace);
  }

  /**
   * Gives a study up when its first trials all failed (three of them, or all of a smaller study)
   * and none completed or was pruned: a wrong template fails every trial the same way, and running
   * the rest would only repeat the error. True when the study was marked failed.
   */
  private async failIfHopeless(study: StudyRecord, trial: TrialRow): Promise<boolean> {
    const { store, tracking, logger } = this.deps;
    const trials = await store.allTrials(study.id);
    const failed = trials.filter((t) => t.state === 'failed' && t.error !== STOPPED_ERROR).length;
    if (trials.some((t) => t.state === 'complete' || t.state === 'pruned')) return false;
    if (failed < Math.min(HOPELESS_FAILURES, study.nTrials)) return false;
    const now = this.now();
    const error = `the first ${failed} trials failed; the last error: ${trial.error ?? 'unknown'}`;
    // The run first, so a client that sees the study failed also sees its run failed; marking a run
    // FAILED twice (two trials failing at once) is harmless, and only one caller fails the study.
    await tracking
      .setStatus(this.contextOf(study), study.parentRunId, 'FAILED')
      .catch((err: unknown) => logger.warn({ err, study: study.id }, 'failing the parent run failed'));
    return store.updateStudy(study.id, { state: 'failed', error, finishedAt: now }, now, ['running']);
  }

  /** A grid study whose every point has a finished trial has nothing left to suggest. */
  gridExhausted(study: StudyRecord, trials: readonly TrialRow[]): boolean {
    const spec = this.specOf(study);
    return spec.sampler.type === 'grid' && isGridExhausted(spec.space, trials);
  }

  pastDeadline(study: StudyRecord): boolean {
    return study.deadline !== undefined && this.now() >= study.deadline;
  }

  /**
   * Completes a running study once every trial it will run has ended: all `n_trials` of them, or
   * all that started before its deadline (or, for a grid, once every point is done). The caller
   * whose claim on `finished_at` wins registers the best model (when asked), then marks the study
   * complete, so a client that sees `complete` also sees the registered version. `resumeFinish`
   * (resume and recovery only) picks up a finish that a crash interrupted after the claim.
   */
  async completeIfDone(studyId: string, workspace: string, resumeFinish = false): Promise<void> {
    const { store } = this.deps;
    const study = await store.getStudy(workspace, studyId);
    if (study === undefined || study.state !== 'running') return;
    const trials = await store.allTrials(studyId);
    const running = trials.filter((trial) => trial.state === 'running').length;
    const ended = trials.length - running;
    const noMore = this.pastDeadline(study) || this.gridExhausted(study, trials);
    if (!(ended >= study.nTrials || (running === 0 && noMore))) return;
    const finishedAt = this.now();
    const interrupted = resumeFinish && study.finishedAt !== undefined;
    if (!interrupted && !(await store.claimFinish(studyId, finishedAt))) return;
    await this.registerBest(study, trials);
    await this.deps.tracking
      .setStatus(this.contextOf(study), study.parentRunId, 'FINISHED')
      .catch((err: unknown) => this.deps.logger.warn({ err, study: study.id }, 'finishing the parent run failed'));
    await store.updateStudy(studyId, { state: 'complete' }, this.now(), ['running']);
  }

  contextOf(study: StudyRecord): RequestContext {
    return { actor: study.createdBy, workspace: study.workspace, requestId: `study-${study.id}` };
  }

  /**
   * Registers the best trial's model when the spec asks and it is not registered yet. A failure
   * is recorded as the study's error (resume retries it) rather than thrown.
   */
  async registerBest(study: StudyRecord, trials?: readonly TrialRow[]): Promise<void> {
    const { store, tracking, logger } = this.deps;
    const spec = this.specOf(study);
    if (spec.registerBest === undefined || study.registered !== undefined) return;
    const fresh = (await store.getStudy(study.workspace, study.id)) ?? study;
    const best = (trials ?? (await store.allTrials(study.id))).find((trial) => trial.number === fresh.bestNumber);
    try {
      if (best === undefined) throw new Error('no trial completed, so there is no best model to register');
      const registered = await tracking.registerBest(this.contextOf(study), spec.registerBest, best);
      await store.updateStudy(study.id, { registered, error: null }, this.now());
    } catch (err) {
      const message = `registering the best model as '${spec.registerBest}' failed: ${err instanceof Error ? err.message : String(err)}`;
      logger.warn({ study: study.id, err }, message);
      await store.updateStudy(study.id, { error: message }, this.now());
    }
  }
}
