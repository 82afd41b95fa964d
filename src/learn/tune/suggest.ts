import { invalidParameter } from '../../core/index.js';
import { suggestGrid } from './grid.js';
import { sampleRandom, singleValue, trialRng } from './random-sampler.js';
import { isActive, isSingle, type ParamValue, paramOrder, type SearchSpace } from './space.js';
import { checkSamplerSpec, type SamplerSpec, tpeOptions } from './specs.js';
import { suggestTpe } from './tpe.js';
import { type Direction, historyBefore, type TrialRecord } from './trials.js';

function suggestRandom(space: SearchSpace, seed: number, trialNumber: number): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {};
  for (const name of paramOrder(space)) {
    const spec = space[name] as SearchSpace[string];
    if (!isActive(spec, params)) continue;
    params[name] = isSingle(spec) ? singleValue(spec) : sampleRandom(spec, trialRng(seed, trialNumber, name));
  }
  return params;
}

/**
 * The parameters for trial `trialNumber`, as a pure function of the search space (from
 * checkSearchSpace), the sampler, the direction and the study's trials: a study resumed after a
 * crash, or a worker on another machine, proposes exactly what the first one would have. Random
 * draws come from (seed, trialNumber, parameter), never from a generator's state; a trial with
 * number `trialNumber` in `trials` (the one being sampled) is ignored. Conditional parameters appear
 * only when their parent took a matching value.
 *
 * - `random`: independent uniform draws (log-uniform for `log`, on the grid for `step`).
 * - `grid`: see {@link suggestGrid}; throws INVALID_STATE once every point is finished.
 * - `tpe`: see {@link suggestTpe}. Running trials count only with `constantLiar: true`.
 *
 * @example
 * const params = suggest(space, { type: 'tpe', seed: 1 }, 'maximize', trials, trials.length);
 */
export function suggest(
  space: SearchSpace,
  sampler: SamplerSpec,
  direction: Direction,
  trials: readonly TrialRecord[],
  trialNumber: number,
): Record<string, ParamValue> {
  if (!Number.isSafeInteger(trialNumber) || trialNumber < 0) {
    throw invalidParameter('trialNumber', 'must be an integer >= 0', trialNumber);
  }
  if (direction !== 'minimize' && direction !== 'maximize') {
    throw invalidParameter('direction', "must be 'minimize' or 'maximize'", direction);
  }
  const spec = checkSamplerSpec(sampler);
  const history = historyBefore(trials, trialNumber);
  switch (spec.type) {
    case 'random':
      return suggestRandom(space, spec.seed ?? 0, trialNumber);
    case 'grid':
      return suggestGrid(space, spec.seed, history, trialNumber);
    case 'tpe':
      return suggestTpe(space, tpeOptions(spec), direction, history, trialNumber);
  }
}
