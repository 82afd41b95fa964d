import { invalidParameter } from '../../core/index.js';

/** A hyper-parameter value as it is stored with a trial: JSON scalars only. */
export type ParamValue = string | number | boolean | null;

/** A real-valued parameter in `[low, high]`, uniform or log-uniform, optionally on a grid of `step`. */
export interface FloatDistribution {
  type: 'float';
  low: number;
  high: number;
  log?: boolean;
  step?: number;
}

/** An integer parameter in `[low, high]` (both included), every `step` (default 1), optionally log-uniform. */
export interface IntDistribution {
  type: 'int';
  low: number;
  high: number;
  log?: boolean;
  step?: number;
}

/** One of a fixed list of JSON scalars. */
export interface CategoricalDistribution {
  type: 'categorical';
  choices: ParamValue[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

/** Makes a parameter conditional: it exists only when the categorical `param` took one of `equals`. */
export interface Condition {
  param: string;
  equals: ParamValue[];
}

export type ParamSpec = Distribution & { when?: Condition };

/**
 * A search space: parameter name → distribution, JSON-serialisable so a study can persist it.
 * Optuna builds the space by running the objective; Kiln declares it, with `when` for the
 * conditional branches Optuna gets from `if` statements.
 *
 * @example
 * const space: SearchSpace = {
 *   model: { type: 'categorical', choices: ['gbdt', 'logistic'] },
 *   learningRate: { type: 'float', low: 1e-3, high: 0.3, log: true, when: { param: 'model', equals: ['gbdt'] } },
 *   maxDepth: { type: 'int', low: 2, high: 10, when: { param: 'model', equals: ['gbdt'] } },
 * };
 */
export interface SearchSpace {
  [param: string]: ParamSpec;
}

const FLOAT_KEYS = new Set(['type', 'low', 'high', 'log', 'step', 'when']);
const CATEGORICAL_KEYS = new Set(['type', 'choices', 'when']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isParamValue(value: unknown): value is ParamValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function checkKeys(spec: Record<string, unknown>, allowed: Set<string>, field: string): void {
  for (const key of Object.keys(spec)) {
    if (!allowed.has(key)) throw invalidParameter(`${field}.${key}`, `unknown key '${key}'`);
  }
}

function checkNumber(spec: Record<string, unknown>, key: string, field: string, integer: boolean): number {
  const value = spec[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidParameter(`${field}.${key}`, 'must be a finite number', value);
  }
  if (integer && !Number.isSafeInteger(value)) throw invalidParameter(`${field}.${key}`, 'must be an integer', value);
  return value;
}

/** How many whole steps fit in `[low, high]`, or -1 when the range is not a multiple of `step`. */
export function stepCount(low: number, high: number, step: number): number {
  const steps = (high - low) / step;
  const whole = Math.round(steps);
  return Math.abs(steps - whole) <= 1e-9 * Math.max(1, whole) ? whole : -1;
}

/** `low + k·step` without the binary noise of the multiplication (0.30000000000000004 → 0.3). */
export function stepValue(low: number, step: number, k: number): number {
  return Number.parseFloat((low + k * step).toPrecision(15));
}

function checkNumeric(spec: Record<string, unknown>, field: string): FloatDistribution | IntDistribution {
  const type = spec.type as 'float' | 'int';
  const integer = type === 'int';
  checkKeys(spec, FLOAT_KEYS, field);
  const low = checkNumber(spec, 'low', field, integer);
  const high = checkNumber(spec, 'high', field, integer);
  if (low > high) throw invalidParameter(`${field}.high`, `must be >= low (${low})`, high);
  const out: FloatDistribution | IntDistribution = { type, low, high };
  if (spec.log !== undefined) {
    if (typeof spec.log !== 'boolean') throw invalidParameter(`${field}.log`, 'must be a boolean', spec.log);
    if (spec.log) {
      if (integer ? low < 1 : low <= 0) {
        throw invalidParameter(`${field}.low`, `must be ${integer ? '>= 1' : '> 0'} on a log scale`, low);
      }
      out.log = true;
    }
  }
  if (spec.step !== undefined) {
    const step = checkNumber(spec, 'step', field, integer);
    if (step <= 0) throw invalidParameter(`${field}.step`, 'must be > 0', step);
    if (out.log && (!integer || step !== 1)) {
      throw invalidParameter(`${field}.step`, 'cannot be combined with log: true (except step 1 for int)', step);
    }
    if (stepCount(low, high, step) < 0) {
      throw invalidParameter(`${field}.step`, `high - low (${high - low}) must be a multiple of step`, step);
    }
    out.step = step;
  }
  return out;
}

function checkCategorical(spec: Record<string, unknown>, field: string): CategoricalDistribution {
  checkKeys(spec, CATEGORICAL_KEYS, field);
  const { choices } = spec;
  if (!Array.isArray(choices) || choices.length === 0) {
    throw invalidParameter(`${field}.choices`, 'must be a non-empty array');
  }
  choices.forEach((choice, i) => {
    if (!isParamValue(choice)) {
      throw invalidParameter(`${field}.choices[${i}]`, 'must be a string, finite number, boolean or null', choice);
    }
    if (choices.indexOf(choice) !== i) throw invalidParameter(`${field}.choices[${i}]`, 'is a duplicate', choice);
  });
  return { type: 'categorical', choices: [...(choices as ParamValue[])] };
}

function checkCondition(when: unknown, name: string, space: Record<string, unknown>, field: string): Condition {
  if (!isRecord(when)) throw invalidParameter(field, 'must be an object { param, equals }');
  checkKeys(when, new Set(['param', 'equals']), field);
  const { param, equals } = when;
  if (typeof param !== 'string' || !Object.hasOwn(space, param) || param === name) {
    throw invalidParameter(`${field}.param`, 'must name another parameter of the space', param);
  }
  const parent = space[param];
  if (!isRecord(parent) || parent.type !== 'categorical' || !Array.isArray(parent.choices)) {
    throw invalidParameter(`${field}.param`, `'${param}' must be a categorical parameter`, param);
  }
  if (!Array.isArray(equals) || equals.length === 0) {
    throw invalidParameter(`${field}.equals`, 'must be a non-empty array of the parent choices');
  }
  equals.forEach((value, i) => {
    if (!(parent.choices as unknown[]).includes(value)) {
      throw invalidParameter(`${field}.equals[${i}]`, `is not a choice of '${param}'`, value);
    }
  });
  return { param, equals: [...(equals as ParamValue[])] };
}

/**
 * Validates a user-supplied search space and returns a clean copy (unknown keys refused), so a bad
 * space fails at study creation with a 400 naming the exact field, not in the middle of a trial.
 * Ranges with a `step` must be a whole number of steps; `when` must point at a categorical
 * parameter without cycles.
 *
 * @example
 * checkSearchSpace({ lr: { type: 'float', low: 0, high: 1, log: true } }, 'space');
 * // throws KilnError INVALID_PARAMETER_VALUE "space.lr.low: must be > 0 on a log scale"
 */
export function checkSearchSpace(space: unknown, field = 'searchSpace'): SearchSpace {
  if (!isRecord(space)) throw invalidParameter(field, 'must be an object of parameter name → distribution');
  const names = Object.keys(space);
  if (names.length === 0) throw invalidParameter(field, 'must define at least one parameter');
  const out: SearchSpace = {};
  for (const name of names) {
    const paramField = `${field}.${name}`;
    if (name.length === 0 || name.length > 250) throw invalidParameter(paramField, 'name must be 1-250 characters');
    const spec = space[name];
    if (!isRecord(spec)) throw invalidParameter(paramField, 'must be an object with a type');
    let checked: ParamSpec;
    if (spec.type === 'float' || spec.type === 'int') checked = checkNumeric(spec, paramField);
    else if (spec.type === 'categorical') checked = checkCategorical(spec, paramField);
    else throw invalidParameter(`${paramField}.type`, "must be 'float', 'int' or 'categorical'", spec.type);
    if (spec.when !== undefined) checked.when = checkCondition(spec.when, name, space, `${paramField}.when`);
    out[name] = checked;
  }
  paramOrder(out, field);
  return out;
}

/**
 * The parameter names with every parent before its children (declaration order otherwise), the order
 * in which samplers decide which conditional parameters are active. Throws on a `when` cycle.
 *
 * @example
 * paramOrder({ depth: { …, when: { param: 'model', equals: ['gbdt'] } }, model: { … } }); // ['model', 'depth']
 */
export function paramOrder(space: SearchSpace, field = 'searchSpace'): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw invalidParameter(`${field}.${name}.when`, 'conditions form a cycle');
    state.set(name, 'visiting');
    const parent = space[name]?.when?.param;
    if (parent !== undefined) visit(parent);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(space)) visit(name);
  return order;
}

/** True when `spec` applies given the values chosen so far (its parent present with a matching value). */
export function isActive(spec: ParamSpec, params: Readonly<Record<string, ParamValue>>): boolean {
  if (spec.when === undefined) return true;
  if (!Object.hasOwn(params, spec.when.param)) return false;
  return spec.when.equals.includes(params[spec.when.param] as ParamValue);
}

/** True when the distribution has exactly one value, which every sampler returns without sampling. */
export function isSingle(distribution: Distribution): boolean {
  return distribution.type === 'categorical'
    ? distribution.choices.length === 1
    : distribution.low === distribution.high;
}

/** The number of a trial's stored value in the sampler's internal representation (choice index for a categorical). */
export function internalValue(distribution: Distribution, value: ParamValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (distribution.type === 'categorical') {
    const index = distribution.choices.indexOf(value);
    return index < 0 ? undefined : index;
  }
  if (typeof value !== 'number' || value < distribution.low || value > distribution.high) return undefined;
  if (distribution.type === 'int' && !Number.isInteger(value)) return undefined;
  return value;
}
