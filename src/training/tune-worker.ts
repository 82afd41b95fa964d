import { KilnError, type RequestContext } from '../core/index.js';
import { type ParamValue, shouldPrune, suggest, type TrialRecord } from '../learn/index.js';
import type { JobContext, Queue, Worker } from '../store/index.js';
import { jobContext, STOPPED_ERROR, type StudyLifecycle, type TrialJobData, TUNING_QUEUE } from './study-lifecycle.js';
import type { StudySpec } from './study-spec.js';
import type { StudyRecord, TrialEnd, TrialRow } from './study-store.js';

/** What a trial job reports as its queue result. */
export interface TrialJobResult {
  number: number;
  /** `ran`: this job ran the trial to an end; `skipped`: another job holds it, or the study no longer runs it. */
  outcome: 'ran' | 'skipped';
  state?: TrialRow['state'];
  value?: number;
  reason?: string;
}

/** How often a running trial re-reads its study (stopped?) and, with parallel trials, the others' values. */
const REFRESH_MS = 1000;
/** Intermediate values are written at most this often while a trial runs (and always at its end). */
const PERSIST_MS = 250;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The trial this job should run, or why it should not run one. */
type Claim = { trial: TrialRow } | { skip: string };

/**
 * Runs trial jobs of the `tuning` queue. A job is one trial number of one study: it asks the
 * sampler for parameters given the persisted history, inserts the running trial (the (study,
 * number) key makes that happen once), runs it through the study's runner while feeding each
 * iteration's metric to the pruner, records the end, then claims and enqueues the next number.
 * A job retried after its worker died takes its trial over and re-runs it with the same params.
 *
 * @example
 * const tuner = new TrialJobs(lifecycle);
 * const worker = queue.process(TUNING_QUEUE, (job) => tuner.run(job), { concurrency: 2 });
 */
export class TrialJobs {
  constructor(private readonly lifecycle: StudyLifecycle) {}

  async run(job: JobContext<TrialJobData>): Promise<TrialJobResult> {
    const { store } = this.lifecycle.deps;
    const data = job.data;
    const ctx = jobContext(data, job.id);
    const study = await store.getStudy(data.workspace, data.studyId);
    if (study === undefined) return { number: data.number, outcome: 'skipped', reason: 'the study no longer exists' };
    const spec = this.lifecycle.specOf(study);
    const claim = await this.claim(ctx, study, spec, data.number, job.id);
    if ('skip' in claim) return { number: data.number, outcome: 'skipped', reason: claim.skip };
    const end = claim.trial.state === 'running' ? await this.execute(ctx, study, spec, claim.trial, job) : undefined;
    const trial = end === undefined ? claim.trial : { ...claim.trial, ...end };
    if (end !== undefined && !(await store.finishTrial(study.id, trial.number, job.id, end))) {
      return {
        number: trial.number,
        outcome: 'skipped',
        reason: 'another job took the trial over; this outcome is discarded',
      };
    }
    await this.lifecycle.afterTrial(ctx, study, spec, trial);
    return {
      number: trial.number,
      outcome: 'ran',
      state: trial.state,
      ...(trial.value === undefined ? {} : { value: trial.value }),
    };
  }

  /** Decides what this job does with its trial number: start it, take it over, finish its bookkeeping, or skip. */
  private async claim(
    ctx: RequestContext,
    study: StudyRecord,
    spec: StudySpec,
    number: number,
    jobId: string,
  ): Promise<Claim> {
    const { store, tracking } = this.lifecycle.deps;
    for (let round = 0; round < 3; round++) {
      const existing = await store.getTrial(study.id, number);
      if (existing !== undefined) {
        // Finished: a retry of the job that ran it redoes the idempotent bookkeeping; anyone else is a duplicate.
        if (existing.state !== 'running')
          return existing.jobId === jobId ? { trial: existing } : { skip: 'the trial already ended' };
        if (study.state !== 'running') return { skip: `the study is ${study.state}` };
        if (existing.jobId !== jobId && (await this.lifecycle.isLive(existing.jobId))) {
          return { skip: `job ${existing.jobId} is running the trial` };
        }
        if (!(await store.takeOverTrial(study.id, number, existing.jobId, jobId, this.lifecycle.now()))) continue;
        if (existing.runId !== undefined) await tracking.failAbandonedRun(ctx, existing.runId).catch(() => undefined);
        return { trial: { ...existing, jobId, intermediate: [], attempts: existing.attempts + 1 } };
      }
      if (study.state !== 'running') return { skip: `the study is ${study.state}` };
      if (this.lifecycle.pastDeadline(study)) {
        await this.lifecycle.completeIfDone(study.id, study.workspace);
        return { skip: 'the study reached its timeout' };
      }
      const history = await store.allTrials(study.id);
      if (this.lifecycle.gridExhausted(study, history)) {
        await this.lifecycle.completeIfDone(study.id, study.workspace);
        return { skip: 'every grid point has been evaluated' };
      }
      const params = suggest(spec.space, spec.sampler, spec.direction, history, number);
      const now = this.lifecycle.now();
      if (await store.insertTrial(study.id, number, params, jobId, now)) {
        return { trial: { number, state: 'running', params, intermediate: [], jobId, attempts: 1, startedAt: now } };
      }
    }
    return { skip: 'the trial kept changing hands' };
  }

  /** Runs the trial to an end; rethrows only when the worker itself is shutting down, so the queue retries it. */
  private async execute(
    ctx: RequestContext,
    study: StudyRecord,
    spec: StudySpec,
    trial: TrialRow,
    job: JobContext<TrialJobData>,
  ): Promise<TrialEnd> {
    const { store, runner, logger, tracking } = this.lifecycle.deps;
    const controller = new AbortController();
    const onWorkerAbort = () => controller.abort(job.signal.reason);
    job.signal.addEventListener('abort', onWorkerAbort, { once: true });
    const intermediate: [number, number][] = [];
    let others: TrialRecord[] = (await store.allTrials(study.id)).filter((t) => t.number !== trial.number);
    let stopped = false;
    let pruned = false;
    let runId: string | undefined = trial.runId;
    let lastPersist = 0;
    let refreshing = false;
    const refresh = setInterval(() => {
      if (refreshing) return;
      refreshing = true;
      void (async () => {
        const current = await store.getStudy(study.workspace, study.id);
        if (current?.state !== 'running') {
          stopped = true;
          controller.abort(new KilnError('CANCELLED', STOPPED_ERROR));
        } else if (study.parallelism > 1) {
          others = (await store.allTrials(study.id)).filter((t) => t.number !== trial.number);
        }
      })()
        .catch((err: unknown) => logger.warn({ err, study: study.id }, 'refreshing the study during a trial failed'))
        .finally(() => {
          refreshing = false;
        });
    }, REFRESH_MS);
    const persist = (force: boolean) => {
      const now = Date.now();
      if (!force && now - lastPersist < PERSIST_MS) return;
      lastPersist = now;
      void store
        .reportProgress(study.id, trial.number, job.id, { intermediate: [...intermediate] })
        .catch((err: unknown) => logger.warn({ err, study: study.id }, 'storing intermediate values failed'));
    };
    const onIteration = (step: number, metrics: Record<string, number>): boolean => {
      const value = metrics[spec.metric];
      if (typeof value !== 'number' || !Number.isFinite(value) || pruned) return pruned;
      // A step reported twice keeps its first value, as Optuna's trial.report does.
      if (intermediate.some(([reported]) => reported === step)) return pruned;
      intermediate.push([step, value]);
      persist(false);
      if (spec.pruner.type === 'none') return false;
      const current: TrialRecord = { number: trial.number, state: 'running', params: trial.params, intermediate };
      pruned = shouldPrune(spec.pruner, spec.direction, [...others, current], current, step);
      return pruned;
    };
    const onRun = (id: string) => {
      runId = id;
      void store.reportProgress(study.id, trial.number, job.id, { runId: id }).catch(() => undefined);
      void tracking.tagTrialRun(ctx, id, study.id, trial.number).catch(() => undefined);
    };
    const finishedAt = () => this.lifecycle.now();
    try {
      const outcome = await runner.run(
        ctx,
        spec,
        { number: trial.number, params: trial.params as Record<string, ParamValue> },
        {
          parentRunId: study.parentRunId,
          onIteration,
          onRun,
          signal: controller.signal,
        },
      );
      const base = {
        intermediate,
        finishedAt: finishedAt(),
        ...(outcome.runId === undefined ? {} : { runId: outcome.runId }),
        ...(outcome.modelUri === undefined ? {} : { modelUri: outcome.modelUri }),
      };
      if (outcome.runId !== undefined && outcome.runId !== runId) {
        await tracking.tagTrialRun(ctx, outcome.runId, study.id, trial.number).catch(() => undefined);
      }
      if (stopped) return { ...base, state: 'failed', error: STOPPED_ERROR };
      if (pruned) return { ...base, state: 'pruned' };
      const value = outcome.metrics[spec.metric];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return {
          ...base,
          state: 'failed',
          error: `metric '${spec.metric}' is missing or not finite in the trial's final metrics`,
        };
      }
      return { ...base, state: 'complete', value };
    } catch (err) {
      if (job.signal.aborted && !stopped) throw err;
      const base = { intermediate, finishedAt: finishedAt(), ...(runId === undefined ? {} : { runId }) };
      return { ...base, state: 'failed', error: stopped ? STOPPED_ERROR : message(err) };
    } finally {
      clearInterval(refresh);
      job.signal.removeEventListener('abort', onWorkerAbort);
    }
  }
}

/**
 * Starts consuming the `tuning` queue in this process: what the embedded server does when the
 * queue is local, and what `kiln worker` does on each machine.
 *
 * @example
 * const worker = startTuneWorker(stores.queue, studies.trialJobs(), { concurrency: 2 });
 * await worker.close();
 */
export function startTuneWorker(queue: Queue, jobs: TrialJobs, options: { concurrency?: number } = {}): Worker {
  return queue.process<TrialJobData, TrialJobResult>(TUNING_QUEUE, (job) => jobs.run(job), options);
}
