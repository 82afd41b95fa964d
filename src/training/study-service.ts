import { hexId, invalidParameter, KilnError, type Logger, type RequestContext, silentLogger } from '../core/index.js';
import { bestTrial } from '../learn/index.js';
import { decodeKeysetToken, encodeKeysetToken, type Queue, type Worker } from '../store/index.js';
import { StudyLifecycle } from './study-lifecycle.js';
import type { TrialRunner } from './study-runner.js';
import { checkStudySpec, type StudySpec, studySpecToWire } from './study-spec.js';
import type { StudyRecord, StudyStore, TrialRow } from './study-store.js';
import type { StudyTracking } from './study-tracking.js';
import { startTuneWorker, TrialJobs } from './tune-worker.js';

/** Trials of a study by state. */
export interface TrialCounts {
  running: number;
  complete: number;
  pruned: number;
  failed: number;
}

/** A study with what callers ask of it first: how many trials ended how, and the best one. */
export interface StudyView {
  study: StudyRecord;
  counts: TrialCounts;
  best?: TrialRow;
}

/** One page of trials in number order. */
export interface TrialPage {
  trials: TrialRow[];
  nextPageToken?: string;
}

/** What a {@link StudyService} is built from. */
export interface StudyServiceOptions {
  store: StudyStore;
  queue: Queue;
  tracking: StudyTracking;
  runner: TrialRunner;
  logger?: Logger;
  /** Tries per trial job; default 3. */
  jobAttempts?: number;
  clock?: () => number;
}

export const DEFAULT_TRIAL_PAGE = 100;
export const MAX_TRIAL_PAGE = 1000;
const STUDY_ID = /^[0-9a-f]{32}$/;

function countTrials(trials: readonly TrialRow[]): TrialCounts {
  const counts: TrialCounts = { running: 0, complete: 0, pruned: 0, failed: 0 };
  for (const trial of trials) counts[trial.state] += 1;
  return counts;
}

/**
 * Hyper-parameter studies as a product: a study is persisted with its spec, gets a parent run,
 * and runs its trials as jobs on the `tuning` queue, `parallelism` at a time, so they spread over
 * every worker consuming that queue. Because the sampler is a pure function of the persisted
 * history and every trial number is claimed in the database, a study survives its workers: a
 * crashed trial is re-run by the queue's retry, and {@link StudyService.resume} (also run for
 * every running study when a server or worker starts, {@link StudyService.recover}) re-enqueues
 * whatever no live job holds.
 *
 * @example
 * const studies = new StudyService({ store, queue, tracking, runner: new TrainingTrialRunner(training) });
 * startTuneWorker(queue, studies.trialJobs());
 * const { study } = await studies.create(ctx, { data: 'flights@1', target: 'delayed', task: 'binary',
 *   model: 'gbdt', space: { max_depth: { type: 'int', low: 3, high: 10 } }, n_trials: 30 });
 */
export class StudyService {
  private readonly lifecycle: StudyLifecycle;
  private readonly jobs: TrialJobs;

  constructor(options: StudyServiceOptions) {
    this.lifecycle = new StudyLifecycle({
      store: options.store,
      queue: options.queue,
      tracking: options.tracking,
      runner: options.runner,
      logger: options.logger ?? silentLogger(),
      jobAttempts: options.jobAttempts ?? 3,
      clock: options.clock ?? Date.now,
    });
    this.jobs = new TrialJobs(this.lifecycle);
  }

  /** The processor of the `tuning` queue, for {@link startTuneWorker}. */
  trialJobs(): TrialJobs {
    return this.jobs;
  }

  /**
   * What a starting server (local queue) or `kiln worker` does: consume the `tuning` queue in this
   * process and, in the background, resume every running study ({@link StudyService.recover}), so
   * trials orphaned by a crash are picked up. Close the returned worker to stop.
   */
  process(options: { concurrency?: number } = {}): Worker {
    const { queue, logger } = this.lifecycle.deps;
    const worker = startTuneWorker(queue, this.jobs, options);
    this.recover().then(
      (resumed) => {
        if (resumed.length > 0) logger.info({ studies: resumed }, 'resumed running studies');
      },
      (err: unknown) => logger.warn({ err }, 'resuming running studies failed; they resume on request'),
    );
    return worker;
  }

  /**
   * Validates the spec (its wire form), checks that its trials can run, creates the parent run,
   * stores the study and enqueues its first `parallelism` trials.
   */
  async create(ctx: RequestContext, body: unknown): Promise<StudyView> {
    const spec = checkStudySpec(body);
    const { store, runner, tracking } = this.lifecycle.deps;
    await runner.check?.(ctx, spec);
    const id = hexId();
    const parent = await tracking.createParentRun(ctx, spec, id);
    const now = this.lifecycle.now();
    const study: StudyRecord = {
      id,
      workspace: ctx.workspace,
      name: spec.name,
      spec: studySpecToWire(spec),
      state: 'running',
      nTrials: spec.nTrials,
      parallelism: spec.parallelism,
      nextNumber: 0,
      generation: 0,
      experimentId: parent.experimentId,
      parentRunId: parent.runId,
      ...(spec.timeoutSeconds === undefined ? {} : { deadline: this.deadline(spec) }),
      createdBy: ctx.actor,
      createdAt: now,
      updatedAt: now,
    };
    await store.insertStudy(study);
    await this.lifecycle.reconcile(study);
    return this.get(ctx, id);
  }

  async get(ctx: RequestContext, id: string): Promise<StudyView> {
    const study = await this.require(ctx, id);
    const trials = await this.lifecycle.deps.store.allTrials(study.id);
    const spec = this.lifecycle.specOf(study);
    const best = bestTrial(trials, spec.direction) as TrialRow | undefined;
    return { study, counts: countTrials(trials), ...(best === undefined ? {} : { best }) };
  }

  /** Studies of the workspace, newest first. */
  async list(ctx: RequestContext, options: { maxResults?: number; pageToken?: string } = {}) {
    const limit = this.pageSize(options.maxResults);
    const before = options.pageToken === undefined ? undefined : this.decodeStudyToken(options.pageToken);
    const studies = await this.lifecycle.deps.store.listStudies(ctx.workspace, limit + 1, before);
    const page = studies.slice(0, limit);
    const last = page[page.length - 1];
    return {
      studies: page,
      ...(studies.length > limit && last !== undefined
        ? { nextPageToken: encodeKeysetToken(`${last.createdAt}|${last.id}`) }
        : {}),
    };
  }

  /** Trials in number order, `maxResults` (default 100, at most 1000) at a time. */
  async trials(
    ctx: RequestContext,
    id: string,
    options: { maxResults?: number; pageToken?: string } = {},
  ): Promise<TrialPage> {
    const study = await this.require(ctx, id);
    const limit = this.pageSize(options.maxResults);
    const after =
      options.pageToken === undefined
        ? -1
        : Number(decodeKeysetToken(options.pageToken, 'page_token', (key) => /^\d{1,9}$/.test(key)));
    const trials = await this.lifecycle.deps.store.pageTrials(study.id, limit + 1, after);
    const page = trials.slice(0, limit);
    const last = page[page.length - 1];
    return {
      trials: page,
      ...(trials.length > limit && last !== undefined ? { nextPageToken: encodeKeysetToken(String(last.number)) } : {}),
    };
  }

  /**
   * Stops a running study: no new trial starts, trials in flight are cancelled (recorded as
   * failed) within about a second, and the parent run is KILLED. A stopped study can be resumed.
   */
  async stop(ctx: RequestContext, id: string): Promise<StudyView> {
    const study = await this.require(ctx, id);
    const { store, tracking, logger } = this.lifecycle.deps;
    const now = this.lifecycle.now();
    if (!(await store.updateStudy(study.id, { state: 'stopped', finishedAt: now }, now, ['running']))) {
      throw new KilnError('INVALID_STATE', `Study ${study.id} is ${study.state}, not running`, {
        id: study.id,
        state: study.state,
      });
    }
    await tracking
      .setStatus(ctx, study.parentRunId, 'KILLED')
      .catch((err: unknown) => logger.warn({ err, study: study.id }, 'marking the parent run killed failed'));
    return this.get(ctx, id);
  }

  /**
   * Continues a study after a crash or a stop: a stopped or failed study runs again (its timeout
   * restarts), running trials whose job is gone are re-run with their params, and trial jobs are
   * enqueued until `parallelism` are in flight and `n_trials` are claimed. Trials that ended are
   * kept. On a complete study it only retries a registration of the best model that failed.
   */
  async resume(ctx: RequestContext, id: string): Promise<StudyView> {
    const study = await this.require(ctx, id);
    const { store, tracking } = this.lifecycle.deps;
    if (study.state === 'complete') {
      await this.lifecycle.registerBest(study);
      return this.get(ctx, id);
    }
    const now = this.lifecycle.now();
    if (study.state !== 'running') {
      const spec = this.lifecycle.specOf(study);
      const deadline = spec.timeoutSeconds === undefined ? null : this.deadline(spec);
      await store.updateStudy(study.id, { state: 'running', finishedAt: null, error: null, deadline }, now, [
        study.state,
      ]);
      await tracking.setStatus(ctx, study.parentRunId, 'RUNNING');
    }
    const bumped = await store.nextGeneration(study.id, now);
    if (bumped?.state === 'running') await this.lifecycle.reconcile(bumped);
    return this.get(ctx, id);
  }

  /**
   * Resumes every running study of every workspace: what a server or `kiln worker` does when it
   * starts, so trials orphaned by a crash are picked up without anyone asking. Returns the ids.
   */
  async recover(): Promise<string[]> {
    const { store, logger } = this.lifecycle.deps;
    const resumed: string[] = [];
    for (const study of await store.studiesIn('running')) {
      try {
        const bumped = await store.nextGeneration(study.id, this.lifecycle.now());
        if (bumped?.state === 'running') await this.lifecycle.reconcile(bumped);
        resumed.push(study.id);
      } catch (err) {
        logger.warn({ err, study: study.id }, 'resuming a study failed; it resumes at the next start or on request');
      }
    }
    return resumed;
  }

  /** The validated spec of a study. */
  async spec(ctx: RequestContext, id: string): Promise<StudySpec> {
    return this.lifecycle.specOf(await this.require(ctx, id));
  }

  private deadline(spec: StudySpec): string {
    return new Date(this.lifecycle.deps.clock() + (spec.timeoutSeconds ?? 0) * 1000).toISOString();
  }

  private pageSize(maxResults: number | undefined): number {
    if (maxResults === undefined) return DEFAULT_TRIAL_PAGE;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_TRIAL_PAGE) {
      throw invalidParameter('max_results', `must be an integer from 1 to ${MAX_TRIAL_PAGE}`, maxResults);
    }
    return maxResults;
  }

  private decodeStudyToken(token: string): { createdAt: string; id: string } {
    const key = decodeKeysetToken(token, 'page_token', (k) => /^[^|]+\|[0-9a-f]{32}$/.test(k));
    const [createdAt = '', id = ''] = key.split('|');
    return { createdAt, id };
  }

  private async require(ctx: RequestContext, id: string): Promise<StudyRecord> {
    if (typeof id !== 'string' || !STUDY_ID.test(id))
      throw invalidParameter('id', 'must be a 32-character hex study id', id);
    const study = await this.lifecycle.deps.store.getStudy(ctx.workspace, id);
    if (study === undefined) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Study '${id}' does not exist`, { id });
    return study;
  }
}
