import { buildParzenEstimator, logPdfParzen, type ParzenOptions, sampleParzen } from './parzen.js';
import { sampleRandom, singleValue, trialRng } from './random-sampler.js';
import {
  type Distribution,
  internalValue,
  isActive,
  isSingle,
  type ParamSpec,
  type ParamValue,
  paramOrder,
  type SearchSpace,
} from './space.js';
import type { TpeOptions } from './specs.js';
import type { Direction, TrialRecord } from './trials.js';
import { intermediateMap } from './trials.js';

/** A trial as TPE ranks it: Optuna's `(-step, value)` pair, compared lexicographically. */
interface Observation {
  trial: TrialRecord;
  /** −∞ for complete trials, −(last step) for pruned ones, +∞ for running ones (constant liar). */
  stepKey: number;
  /** The value to minimise (negated when maximising); +∞ for running trials. */
  loss: number;
}

/** Optuna's `_get_observation_pairs`: complete and pruned trials, plus running ones under constant liar. */
function observations(history: readonly TrialRecord[], direction: Direction, constantLiar: boolean): Observation[] {
  const sign = direction === 'minimize' ? 1 : -1;
  const out: Observation[] = [];
  for (const trial of history) {
    if (trial.state === 'complete') {
      if (trial.value === undefined || Number.isNaN(trial.value)) continue;
      out.push({ trial, stepKey: Number.NEGATIVE_INFINITY, loss: sign * trial.value });
    } else if (trial.state === 'pruned') {
      const values = intermediateMap(trial);
      if (values.size === 0) out.push({ trial, stepKey: 1, loss: 0 });
      else {
        const step = Math.max(...values.keys());
        const value = values.get(step) as number;
        out.push({ trial, stepKey: -step, loss: Number.isNaN(value) ? Number.POSITIVE_INFINITY : sign * value });
      }
    } else if (trial.state === 'running' && constantLiar) {
      out.push({ trial, stepKey: Number.POSITIVE_INFINITY, loss: Number.POSITIVE_INFINITY });
    }
  }
  return out;
}

/** The good ("below") and other observations, as indices in chronological order. */
interface Split {
  below: number[];
  above: number[];
  /** Per parameter, each observation's internal value (NaN where the trial lacks it), filled lazily. */
  internal: Map<string, Float64Array>;
}

function split(observed: readonly Observation[], nBelow: number): Split {
  const ranked = Array.from(observed.keys()).sort((i, j) => {
    const a = observed[i] as Observation;
    const b = observed[j] as Observation;
    if (a.stepKey !== b.stepKey) return a.stepKey < b.stepKey ? -1 : 1;
    if (a.loss !== b.loss) return a.loss < b.loss ? -1 : 1;
    return i - j;
  });
  const isBelow = new Uint8Array(observed.length);
  for (const i of ranked.slice(0, nBelow)) isBelow[i] = 1;
  const below: number[] = [];
  const above: number[] = [];
  for (let i = 0; i < observed.length; i++) (isBelow[i] === 1 ? below : above).push(i);
  return { below, above, internal: new Map() };
}

function internalColumn(name: string, space: SearchSpace, observed: readonly Observation[], parts: Split) {
  let column = parts.internal.get(name);
  if (column === undefined) {
    const distribution = space[name] as Distribution;
    column = new Float64Array(observed.length);
    for (let i = 0; i < observed.length; i++) {
      column[i] = internalValue(distribution, (observed[i] as Observation).trial.params[name]) ?? Number.NaN;
    }
    parts.internal.set(name, column);
  }
  return column;
}

/**
 * The `source` columns restricted to the observations at `indices` that have every parameter
 * (Optuna's param mask: NaN marks a trial without the parameter).
 */
function columns(indices: readonly number[], source: readonly Float64Array[]): Float64Array[] {
  const kept: number[] = [];
  for (const i of indices) {
    let complete = true;
    for (const column of source) if (Number.isNaN(column[i] as number)) complete = false;
    if (complete) kept.push(i);
  }
  return source.map((column) => {
    const out = new Float64Array(kept.length);
    for (let k = 0; k < kept.length; k++) out[k] = column[kept[k] as number] as number;
    return out;
  });
}

/**
 * TPE's step for a set of parameters: fit l(x) to the good trials and g(x) to the rest, draw
 * `nEiCandidates` from l and keep the one with the largest log l(x) − log g(x).
 */
function sampleByEi(
  names: readonly string[],
  space: SearchSpace,
  observed: readonly Observation[],
  parts: Split,
  options: TpeOptions,
  rng: () => number,
): Record<string, ParamValue> {
  const distributions = names.map((name) => space[name] as Distribution);
  const parzen: ParzenOptions = {
    priorWeight: options.priorWeight,
    considerMagicClip: options.considerMagicClip,
    considerEndpoints: options.considerEndpoints,
    multivariate: options.multivariate,
  };
  const source = names.map((name) => internalColumn(name, space, observed, parts));
  const good = buildParzenEstimator(distributions, columns(parts.below, source), parzen);
  const bad = buildParzenEstimator(distributions, columns(parts.above, source), parzen);
  const candidates = sampleParzen(good, rng, options.nEiCandidates);
  const logL = logPdfParzen(good, candidates);
  const logG = logPdfParzen(bad, candidates);
  let best = 0;
  for (let s = 1; s < logL.length; s++) {
    if ((logL[s] as number) - (logG[s] as number) > (logL[best] as number) - (logG[best] as number)) best = s;
  }
  const out: Record<string, ParamValue> = {};
  names.forEach((name, p) => {
    const distribution = distributions[p] as Distribution;
    const value = (candidates[p] as Float64Array)[best] as number;
    out[name] = distribution.type === 'categorical' ? (distribution.choices[value] as ParamValue) : value;
  });
  return out;
}

/**
 * Optuna's intersection search space for multivariate TPE: the non-single parameters that every
 * complete or pruned trial has.
 */
function relativeSpace(space: SearchSpace, order: readonly string[], history: readonly TrialRecord[]): string[] {
  const finished = history.filter((t) => t.state === 'complete' || t.state === 'pruned');
  if (finished.length === 0) return [];
  return order.filter((name) => {
    const distribution = space[name] as Distribution;
    return !isSingle(distribution) && finished.every((t) => internalValue(distribution, t.params[name]) !== undefined);
  });
}

/**
 * Suggests parameters with TPE as Optuna 3.1's TPESampler does: random for the first
 * `nStartupTrials` complete-or-pruned trials, then per parameter (or jointly when `multivariate`)
 * the expected-improvement candidate under the Parzen estimators of the best ⌈γ·n⌉ (≤ 25) trials
 * versus the rest. Pruned trials rank by their last intermediate value after all complete trials;
 * running trials are ignored unless `constantLiar`, which ranks them worst so parallel workers
 * spread out. A conditional parameter is fitted on the trials that have it.
 *
 * @example
 * suggestTpe(space, tpeOptions({ type: 'tpe', seed: 1 }), 'minimize', history, 12);
 */
export function suggestTpe(
  space: SearchSpace,
  options: TpeOptions,
  direction: Direction,
  history: readonly TrialRecord[],
  trialNumber: number,
): Record<string, ParamValue> {
  const order = paramOrder(space);
  const observed = observations(history, direction, options.constantLiar);
  const n = observed.filter((o) => o.stepKey < Number.POSITIVE_INFINITY).length;
  const startup = n < options.nStartupTrials;
  const parts = split(observed, startup ? 0 : Math.min(Math.ceil(options.gamma * n), 25));
  const joint: Record<string, ParamValue> = {};
  if (!startup && options.multivariate) {
    const names = relativeSpace(space, order, history);
    if (names.length > 0) {
      const rng = trialRng(options.seed, trialNumber, '\u0000multivariate');
      Object.assign(joint, sampleByEi(names, space, observed, parts, options, rng));
    }
  }
  const params: Record<string, ParamValue> = {};
  for (const name of order) {
    const spec = space[name] as ParamSpec;
    if (!isActive(spec, params)) continue;
    if (isSingle(spec)) params[name] = singleValue(spec);
    else if (Object.hasOwn(joint, name)) params[name] = joint[name] as ParamValue;
    else {
      const rng = trialRng(options.seed, trialNumber, name);
      params[name] = startup
        ? sampleRandom(spec, rng)
        : (sampleByEi([name], space, observed, parts, options, rng)[name] as ParamValue);
    }
  }
  return params;
}
