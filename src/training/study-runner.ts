import type { RequestContext } from '../core/index.js';
import type { ParamValue } from '../learn/index.js';
import type { StudySpec } from './study-spec.js';

/** One trial as the runner sees it: its number and the parameters the sampler chose. */
export interface TrialAssignment {
  number: number;
  params: Record<string, ParamValue>;
}

/** How a runner reports back while a trial runs. */
export interface TrialHooks {
  /** The study's parent run; the trial's run is nested under it (`mlflow.parentRunId`). */
  parentRunId: string;
  /** Metrics of one iteration (a boosting round …); returning true asks the runner to stop: the trial is pruned. */
  onIteration(step: number, metrics: Record<string, number>): boolean;
  /** As soon as the trial's run exists, so a crash still leaves it findable. */
  onRun?(runId: string): void;
  /** Aborted when the study is stopped or the worker shuts down. */
  signal: AbortSignal;
}

/** What a finished trial produced: its final metrics (the study's metric among them) and its run. */
export interface TrialOutcome {
  metrics: Record<string, number>;
  runId?: string;
  /** The trained model, for registering the best trial (e.g. `runs:/<run>/model`). */
  modelUri?: string;
}

/**
 * What runs one trial. The study service does not care whether that is a real training job or an
 * objective function, so tests can tune benchmark functions through the same persisted, queued
 * machinery that tunes models.
 */
export interface TrialRunner {
  /** Rejects a spec whose trials could not run (unknown dataset, target, learner parameter …) before the study is created. */
  check?(ctx: RequestContext, spec: StudySpec): Promise<void>;
  run(ctx: RequestContext, spec: StudySpec, trial: TrialAssignment, hooks: TrialHooks): Promise<TrialOutcome>;
}
