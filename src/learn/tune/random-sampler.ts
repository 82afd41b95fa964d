import { createRng } from '../random.js';
import { roundHalfEven } from './parzen.js';
import { type Distribution, type ParamValue, stepValue } from './space.js';

/**
 * The random stream for one parameter of one trial, derived from (seed, trial number, parameter
 * name) rather than carried in a stateful generator: the same history and trial number give the
 * same draw after a restart, on any worker, whatever other parameters were sampled.
 *
 * @example
 * const rng = trialRng(42, 7, 'learningRate'); // identical stream every time
 */
export function trialRng(seed: number, trialNumber: number, stream: string): () => number {
  let hash = 0x811c9dc5;
  const text = `${seed}\u0000${trialNumber}\u0000${stream}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return createRng(hash >>> 0);
}

/** The value of a distribution with a single point (low = high, or one choice). */
export function singleValue(distribution: Distribution): ParamValue {
  return distribution.type === 'categorical' ? (distribution.choices[0] as ParamValue) : distribution.low;
}

/**
 * One uniform draw as Optuna's RandomSampler makes it: uniform in the (log-)transformed range,
 * widened by half a step on each side for grids and integers, then rounded back onto the grid.
 *
 * @example
 * sampleRandom({ type: 'int', low: 1, high: 6 }, createRng(1)); // a die roll
 */
export function sampleRandom(distribution: Distribution, rng: () => number): ParamValue {
  const u = rng();
  if (distribution.type === 'categorical') {
    return distribution.choices[
      Math.min(distribution.choices.length - 1, Math.floor(u * distribution.choices.length))
    ] as ParamValue;
  }
  const { low, high } = distribution;
  if (low === high) return low;
  if (distribution.type === 'float') {
    if (distribution.log) return Math.min(Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low))), high);
    if (distribution.step === undefined) return Math.min(low + u * (high - low), high);
    const step = distribution.step;
    const x = low - step / 2 + u * (high - low + step);
    const k = Math.min(Math.max(roundHalfEven((x - low) / step), 0), Math.round((high - low) / step));
    return stepValue(low, step, k);
  }
  if (distribution.log) {
    const x = Math.exp(Math.log(low - 0.5) + u * (Math.log(high + 0.5) - Math.log(low - 0.5)));
    return Math.min(high, Math.max(low, roundHalfEven(x)));
  }
  const step = distribution.step ?? 1;
  const x = low - step / 2 + u * (high - low + step);
  return Math.min(high, Math.max(low, roundHalfEven((x - low) / step) * step + low));
}
