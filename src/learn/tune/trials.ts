import type { ParamValue } from './space.js';

/** Where a trial is in its life, as Optuna's TrialState (WAITING is the queue's business, not the sampler's). */
export type TrialState = 'running' | 'complete' | 'pruned' | 'failed';

/**
 * One trial of a study as the samplers and pruners see it: what a study service persists. Sampling
 * and pruning are pure functions of a list of these, which is what lets a study resume after a crash.
 *
 * @example
 * const trial: TrialRecord = { number: 3, state: 'complete', params: { lr: 0.01 }, value: 0.92, intermediate: [[0, 0.8], [1, 0.92]] };
 */
export interface TrialRecord {
  number: number;
  state: TrialState;
  params: Record<string, ParamValue>;
  /** The objective value of a complete trial. */
  value?: number;
  /** `[step, value]` as reported; when a step is reported twice the first value counts (as in Optuna). */
  intermediate: [step: number, value: number][];
}

export type Direction = 'minimize' | 'maximize';

/**
 * The complete trial with the best value (the lowest-numbered one on ties), or undefined when no
 * trial has completed.
 *
 * @example
 * bestTrial(trials, 'maximize')?.params;
 */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const trial of trials) {
    if (trial.state !== 'complete' || trial.value === undefined || Number.isNaN(trial.value)) continue;
    if (
      best === undefined ||
      (direction === 'minimize' ? trial.value < (best.value as number) : trial.value > (best.value as number)) ||
      (trial.value === best.value && trial.number < best.number)
    ) {
      best = trial;
    }
  }
  return best;
}

/** A trial's intermediate values as step → value, the first report of a step winning. */
export function intermediateMap(trial: TrialRecord, upToStep = Number.POSITIVE_INFINITY): Map<number, number> {
  const values = new Map<number, number>();
  for (const [step, value] of trial.intermediate) {
    if (step <= upToStep && !values.has(step)) values.set(step, value);
  }
  return values;
}

/** The history in trial-number order without the trial being sampled: the order Optuna's storage returns. */
export function historyBefore(trials: readonly TrialRecord[], trialNumber: number): TrialRecord[] {
  return trials.filter((t) => t.number !== trialNumber).sort((a, b) => a.number - b.number);
}
