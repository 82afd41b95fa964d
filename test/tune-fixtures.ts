/**
 * Shared pieces of the tuning tests: a trial runner that evaluates a benchmark function instead of
 * training a model (each trial still gets a real nested run in tracking), and the study services
 * composed over one database and queue the way the server composes them.
 */
import { type Logger, type RequestContext, silentLogger } from '../src/core/index.js';
import { KyselyRegistryStore, REGISTRY_MIGRATIONS, RegistryService } from '../src/registry/index.js';
import { type Database, migrate, type Queue, STORE_MIGRATIONS } from '../src/store/index.js';
import { createTrackingServices, TRACKING_MIGRATIONS, type TrackingServices } from '../src/tracking/index.js';
import { TRAINING_MIGRATIONS } from '../src/training/migrations.js';
import type { TrialAssignment, TrialHooks, TrialOutcome, TrialRunner } from '../src/training/study-runner.js';
import { StudyService } from '../src/training/study-service.js';
import type { StudySpec } from '../src/training/study-spec.js';
import { StudyStore } from '../src/training/study-store.js';
import { StudyTracking } from '../src/training/study-tracking.js';

/** Sphere, Σ xᵢ², over the params named x0, x1, …: minimum 0 at the origin. */
export function sphere(params: Record<string, unknown>): number {
  let sum = 0;
  for (const [key, value] of Object.entries(params)) if (/^x\d+$/.test(key)) sum += Number(value) ** 2;
  return sum;
}

/** A search space of `dims` floats in [-5, 5] named x0, x1, …. */
export function sphereSpace(dims: number): Record<string, unknown> {
  return Object.fromEntries(Array.from({ length: dims }, (_, i) => [`x${i}`, { type: 'float', low: -5, high: 5 }]));
}

/** A training template the objective runner ignores (a study spec always names what it would train). */
export const OBJECTIVE_TEMPLATE = { data: 'objective@1', target: 'y', task: 'regression', model: 'linear' } as const;

export interface ObjectiveOptions {
  /** Iterations per trial; the value at step s is f(x)·(1 + 4/s), converging on f(x). */
  steps?: number;
  /** Pause per iteration, so a test can kill a worker in the middle of a trial. */
  stepDelayMs?: number;
  /** Called as each iteration is reported, e.g. to print progress a parent process waits for. */
  onStep?: (trial: TrialAssignment, step: number) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs trials by evaluating `objective` on the sampled params: a nested run under the study's
 * parent run, the decaying curve reported per iteration (the pruner may stop it), the final value
 * logged as `spec.metric`.
 */
export class ObjectiveRunner implements TrialRunner {
  readonly runs: string[] = [];

  constructor(
    private readonly tracking: TrackingServices,
    private readonly objective: (params: Record<string, unknown>) => number,
    private readonly options: ObjectiveOptions = {},
  ) {}

  async run(ctx: RequestContext, spec: StudySpec, trial: TrialAssignment, hooks: TrialHooks): Promise<TrialOutcome> {
    const steps = this.options.steps ?? 10;
    const experimentId = (await this.tracking.experiments.defaultExperiment(ctx)).experimentId;
    const run = await this.tracking.runs.create(ctx, {
      experimentId,
      runName: `${spec.name}-trial-${trial.number}`,
      tags: [{ key: 'mlflow.parentRunId', value: hooks.parentRunId }],
    });
    const runId = run.info.runId;
    this.runs.push(runId);
    hooks.onRun?.(runId);
    const target = this.objective(trial.params);
    for (let step = 1; step <= steps; step++) {
      if (this.options.stepDelayMs !== undefined) await sleep(this.options.stepDelayMs, hooks.signal);
      const value = target * (1 + 4 / step);
      await this.tracking.runData.logMetric(ctx, runId, { key: spec.metric, value, timestamp: Date.now(), step });
      this.options.onStep?.(trial, step);
      if (hooks.onIteration(step, { [spec.metric]: value })) break;
    }
    await this.tracking.runData.logMetric(ctx, runId, {
      key: spec.metric,
      value: target,
      timestamp: Date.now(),
      step: steps,
    });
    await this.tracking.runs.update(ctx, runId, { status: 'FINISHED', endTime: Date.now() });
    return { metrics: { [spec.metric]: target }, runId, modelUri: `runs:/${runId}/model` };
  }
}

/** Every migration the study services need, applied to `database`. */
export async function migrateForStudies(database: Database): Promise<void> {
  const all = [...STORE_MIGRATIONS, ...TRACKING_MIGRATIONS, ...REGISTRY_MIGRATIONS, ...TRAINING_MIGRATIONS].sort(
    (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const report = await migrate(database, all, silentLogger());
  if (report.error !== undefined) throw new Error(`migration ${report.error.id} failed: ${report.error.message}`);
}

/** The study service over `database` and `queue`, with tracking and the registry on the same database. */
export function studyServices(
  database: Database,
  queue: Queue,
  makeRunner: (tracking: TrackingServices) => TrialRunner,
  options: { logger?: Logger; artifactRoot?: string; jobAttempts?: number } = {},
) {
  const artifactRoot = options.artifactRoot ?? 'file:///tmp/kiln-tune-artifacts';
  const tracking = createTrackingServices(database, { artifactRoot });
  const registry = new RegistryService(new KyselyRegistryStore(database), {
    artifactRoot,
    runs: {
      async getRun(ctx, runId) {
        const run = await tracking.runs.get(ctx, runId).catch(() => undefined);
        return run === undefined ? undefined : { runId: run.info.runId, artifactUri: run.info.artifactUri };
      },
    },
  });
  const runner = makeRunner(tracking);
  const studies = new StudyService({
    store: new StudyStore(database),
    queue,
    tracking: new StudyTracking(tracking, registry),
    runner,
    logger: options.logger ?? silentLogger(),
    ...(options.jobAttempts === undefined ? {} : { jobAttempts: options.jobAttempts }),
  });
  return { studies, tracking, registry, runner };
}
