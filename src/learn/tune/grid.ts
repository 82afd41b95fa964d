import { invalidParameter, KilnError } from '../../core/index.js';
import { createRng, shuffleInPlace } from '../random.js';
import {
  type Distribution,
  isActive,
  type ParamValue,
  paramOrder,
  type SearchSpace,
  stepCount,
  stepValue,
} from './space.js';
import type { TrialRecord } from './trials.js';

/** A grid larger than this is refused: a grid search over it would never finish. */
export const MAX_GRID_POINTS = 1_000_000;

function gridValues(name: string, distribution: Distribution, field: string): ParamValue[] {
  if (distribution.type === 'categorical') return distribution.choices;
  const { low, high } = distribution;
  const step = distribution.step ?? (distribution.type === 'int' ? 1 : undefined);
  if (step === undefined) {
    throw invalidParameter(`${field}.${name}.step`, 'a grid needs a step for a float parameter');
  }
  const count = stepCount(low, high, step) + 1;
  if (count > MAX_GRID_POINTS) throw invalidParameter(`${field}.${name}`, `has more than ${MAX_GRID_POINTS} values`);
  return Array.from({ length: count }, (_, k) => stepValue(low, step, k));
}

/**
 * Every point of the grid in a fixed order: the cartesian product over the parameters (parents
 * first), where a conditional parameter only multiplies the branches in which its parent matches.
 * Throws INVALID_PARAMETER_VALUE naming a float parameter without `step`.
 *
 * @example
 * gridPoints({ a: { type: 'categorical', choices: [1, 2] }, b: { type: 'int', low: 0, high: 2 } }).length; // 6
 */
export function gridPoints(space: SearchSpace, field = 'searchSpace'): Record<string, ParamValue>[] {
  const order = paramOrder(space, field);
  const values = new Map(order.map((name) => [name, gridValues(name, space[name] as Distribution, field)]));
  if (gridSize(space, field) > MAX_GRID_POINTS) {
    throw invalidParameter(field, `the grid has more than ${MAX_GRID_POINTS} points`);
  }
  const points: Record<string, ParamValue>[] = [];
  const expand = (i: number, point: Record<string, ParamValue>): void => {
    if (i === order.length) {
      points.push({ ...point });
      return;
    }
    const name = order[i] as string;
    if (!isActive(space[name] as Distribution, point)) {
      expand(i + 1, point);
      return;
    }
    for (const value of values.get(name) as ParamValue[]) {
      point[name] = value;
      expand(i + 1, point);
    }
    delete point[name];
  };
  expand(0, {});
  return points;
}

/**
 * The number of grid points, counted without enumerating them.
 *
 * @example
 * gridSize({ x: { type: 'float', low: 0, high: 1, step: 0.25 } }); // 5
 */
export function gridSize(space: SearchSpace, field = 'searchSpace'): number {
  const order = paramOrder(space, field);
  const parents = new Set(order.flatMap((name) => space[name]?.when?.param ?? []));
  const count = (i: number, point: Record<string, ParamValue>): number => {
    if (i === order.length) return 1;
    const name = order[i] as string;
    const distribution = space[name] as Distribution;
    if (!isActive(space[name] as Distribution, point)) return count(i + 1, point);
    const values = gridValues(name, distribution, field);
    if (!parents.has(name)) return values.length * count(i + 1, point);
    let total = 0;
    for (const value of values) total += count(i + 1, { ...point, [name]: value });
    return total;
  };
  return count(0, {});
}

/** A point's identity: its active parameters in space order. */
function pointKey(order: readonly string[], params: Readonly<Record<string, ParamValue>>): string {
  return JSON.stringify(order.filter((name) => Object.hasOwn(params, name)).map((name) => [name, params[name]]));
}

function visitedKeys(order: readonly string[], trials: readonly TrialRecord[], trialNumber: number) {
  const finished = new Set<string>();
  const running = new Set<string>();
  for (const trial of trials) {
    if (trial.number === trialNumber) continue;
    (trial.state === 'running' ? running : finished).add(pointKey(order, trial.params));
  }
  return { finished, running };
}

/**
 * True when every grid point has a finished (complete, pruned or failed) trial, so a grid study is
 * done and {@link suggestGrid} would throw.
 *
 * @example
 * if (isGridExhausted(space, trials)) markStudyFinished();
 */
export function isGridExhausted(space: SearchSpace, trials: readonly TrialRecord[]): boolean {
  const order = paramOrder(space);
  const { finished } = visitedKeys(order, trials, Number.NaN);
  return gridPoints(space).every((point) => finished.has(pointKey(order, point)));
}

/**
 * The grid point for trial `trialNumber`: the first point at or after position `trialNumber` (mod
 * the grid size, cyclically) that no trial has taken, so sequential trials 0, 1, 2 … walk the grid
 * in order and parallel workers with different trial numbers pick different points. When every
 * point is taken but some are only running, one of those is re-evaluated (as Optuna's GridSampler
 * does, e.g. for a crashed worker's trial); when every point is finished it throws INVALID_STATE.
 * With a `seed` the walking order is a seeded shuffle of the grid instead of its product order.
 *
 * @example
 * suggestGrid(space, undefined, trials, 4);
 */
export function suggestGrid(
  space: SearchSpace,
  seed: number | undefined,
  trials: readonly TrialRecord[],
  trialNumber: number,
): Record<string, ParamValue> {
  const order = paramOrder(space);
  const points = gridPoints(space);
  if (seed !== undefined) {
    const permutation = shuffleInPlace(Int32Array.from(points.keys()), createRng(seed));
    const shuffled = Array.from(permutation, (i) => points[i] as Record<string, ParamValue>);
    points.splice(0, points.length, ...shuffled);
  }
  const { finished, running } = visitedKeys(order, trials, trialNumber);
  const keys = points.map((point) => pointKey(order, point));
  let candidates = keys.flatMap((key, i) => (finished.has(key) || running.has(key) ? [] : [i]));
  if (candidates.length === 0) candidates = keys.flatMap((key, i) => (finished.has(key) ? [] : [i]));
  if (candidates.length === 0) {
    throw new KilnError('INVALID_STATE', `the grid is exhausted: all ${points.length} points have been evaluated`, {
      gridSize: points.length,
    });
  }
  const start = trialNumber % points.length;
  const chosen = candidates.find((i) => i >= start) ?? (candidates[0] as number);
  return { ...(points[chosen] as Record<string, ParamValue>) };
}
