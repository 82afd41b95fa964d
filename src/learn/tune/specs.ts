import { invalidParameter } from '../../core/index.js';

/**
 * Which sampler proposes parameters, with its options; JSON so a study persists it. `tpe` options
 * and defaults follow Optuna 3.1's `TPESampler`: `nStartupTrials` 10, `nEiCandidates` 24,
 * `multivariate` false, `gamma` 0.1 (the good set is the best ⌈0.1·n⌉ trials, at most 25),
 * `priorWeight` 1, `considerEndpoints` false, `considerMagicClip` true, `constantLiar` false.
 * `seed` (any safe integer, default 0) fixes every random choice.
 *
 * @example
 * const sampler: SamplerSpec = { type: 'tpe', seed: 7, multivariate: true, constantLiar: true };
 */
export interface SamplerSpec {
  type: 'random' | 'grid' | 'tpe';
  seed?: number;
  [option: string]: unknown;
}

/**
 * Which pruner stops unpromising trials early, from their intermediate values. `median` follows
 * Optuna's `MedianPruner` (`nStartupTrials` 5, `nWarmupSteps` 0, `intervalSteps` 1, `nMinTrials` 1);
 * `asha` its `SuccessiveHalvingPruner` (`minResource` 'auto', `reductionFactor` 4,
 * `minEarlyStoppingRate` 0, `bootstrapCount` 0).
 *
 * @example
 * const pruner: PrunerSpec = { type: 'asha', minResource: 1, reductionFactor: 3 };
 */
export interface PrunerSpec {
  type: 'none' | 'median' | 'asha';
  [option: string]: unknown;
}

/** The TPE options with every default filled in. */
export interface TpeOptions {
  seed: number;
  nStartupTrials: number;
  nEiCandidates: number;
  multivariate: boolean;
  gamma: number;
  priorWeight: number;
  considerEndpoints: boolean;
  considerMagicClip: boolean;
  constantLiar: boolean;
}

export interface MedianOptions {
  nStartupTrials: number;
  nWarmupSteps: number;
  intervalSteps: number;
  nMinTrials: number;
}

export interface AshaOptions {
  minResource: 'auto' | number;
  reductionFactor: number;
  minEarlyStoppingRate: number;
  bootstrapCount: number;
}

type OptionKind = 'integer' | 'boolean' | 'fraction' | 'positive' | 'resource';

const SAMPLER_OPTIONS: Record<SamplerSpec['type'], Record<string, [OptionKind, number | boolean | string, number?]>> = {
  random: {},
  grid: {},
  tpe: {
    nStartupTrials: ['integer', 10, 0],
    nEiCandidates: ['integer', 24, 1],
    multivariate: ['boolean', false],
    gamma: ['fraction', 0.1],
    priorWeight: ['positive', 1],
    considerEndpoints: ['boolean', false],
    considerMagicClip: ['boolean', true],
    constantLiar: ['boolean', false],
  },
};

const PRUNER_OPTIONS: Record<PrunerSpec['type'], Record<string, [OptionKind, number | boolean | string, number?]>> = {
  none: {},
  median: {
    nStartupTrials: ['integer', 5, 0],
    nWarmupSteps: ['integer', 0, 0],
    intervalSteps: ['integer', 1, 1],
    nMinTrials: ['integer', 1, 1],
  },
  asha: {
    minResource: ['resource', 'auto'],
    reductionFactor: ['integer', 4, 2],
    minEarlyStoppingRate: ['integer', 0, 0],
    bootstrapCount: ['integer', 0, 0],
  },
};

function checkOption(kind: OptionKind, value: unknown, field: string, min = 0): number | boolean | string {
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidParameter(field, 'must be a boolean', value);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
        throw invalidParameter(field, `must be an integer >= ${min}`, value);
      }
      return value;
    case 'fraction':
      if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
        throw invalidParameter(field, 'must be a number in (0, 1]', value);
      }
      return value;
    case 'positive':
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw invalidParameter(field, 'must be a positive number', value);
      }
      return value;
    case 'resource':
      if (value === 'auto') return value;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
        throw invalidParameter(field, "must be 'auto' or an integer >= 1", value);
      }
      return value;
  }
}

function checkSpec<T extends string>(
  spec: unknown,
  field: string,
  table: Record<T, Record<string, [OptionKind, number | boolean | string, number?]>>,
  extraKeys: readonly string[],
): Record<string, unknown> & { type: T } {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw invalidParameter(field, 'must be an object with a type');
  }
  const input = spec as Record<string, unknown>;
  const types = Object.keys(table) as T[];
  if (typeof input.type !== 'string' || !types.includes(input.type as T)) {
    throw invalidParameter(`${field}.type`, `must be one of ${types.join(', ')}`, input.type);
  }
  const type = input.type as T;
  const options = table[type];
  const out: Record<string, unknown> & { type: T } = { type };
  for (const key of Object.keys(input)) {
    if (key !== 'type' && !Object.hasOwn(options, key) && !extraKeys.includes(key)) {
      throw invalidParameter(`${field}.${key}`, `is not an option of the ${type} ${field.split('.').at(-1)}`);
    }
  }
  for (const [key, [kind, fallback, min]] of Object.entries(options)) {
    out[key] = input[key] === undefined ? fallback : checkOption(kind, input[key], `${field}.${key}`, min);
  }
  return out;
}

/**
 * Validates a sampler spec and returns it with every default filled in, so the persisted study
 * records the exact configuration it ran with.
 *
 * @example
 * checkSamplerSpec({ type: 'tpe', seed: 1 }); // { type: 'tpe', seed: 1, nStartupTrials: 10, nEiCandidates: 24, … }
 */
export function checkSamplerSpec(spec: unknown, field = 'sampler'): SamplerSpec {
  const out = checkSpec(spec, field, SAMPLER_OPTIONS, ['seed']);
  const seed = (spec as Record<string, unknown>).seed;
  if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw invalidParameter(`${field}.seed`, 'must be an integer', seed);
    }
    out.seed = seed;
  }
  return out;
}

/**
 * Validates a pruner spec and returns it with every default filled in.
 *
 * @example
 * checkPrunerSpec({ type: 'median', nWarmupSteps: 5 }); // { type: 'median', nStartupTrials: 5, nWarmupSteps: 5, … }
 */
export function checkPrunerSpec(spec: unknown, field = 'pruner'): PrunerSpec {
  const out = checkSpec(spec, field, PRUNER_OPTIONS, []);
  if (out.type === 'asha' && out.minResource === 'auto' && (out.bootstrapCount as number) > 0) {
    throw invalidParameter(`${field}.bootstrapCount`, "must be 0 when minResource is 'auto' (as in Optuna)");
  }
  return out;
}

/** The TPE options of a checked or unchecked spec, defaults applied. */
export function tpeOptions(spec: SamplerSpec): TpeOptions {
  const checked = checkSamplerSpec({ ...spec, type: 'tpe' });
  return { ...checked, seed: checked.seed ?? 0 } as unknown as TpeOptions;
}

/** The median pruner's options, defaults applied. */
export function medianOptions(spec: PrunerSpec): MedianOptions {
  return checkPrunerSpec(spec) as unknown as MedianOptions;
}

/** The successive-halving pruner's options, defaults applied. */
export function ashaOptions(spec: PrunerSpec): AshaOptions {
  return checkPrunerSpec(spec) as unknown as AshaOptions;
}
