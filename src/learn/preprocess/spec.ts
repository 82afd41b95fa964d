import { invalidParameter } from '../../core/index.js';

/** Parts {@link DatePartsStep} can extract, all in UTC. */
export type DatePart = 'hour' | 'dow' | 'month' | 'day' | 'year';

/** Every {@link DatePart}: hour 0–23, day of week (Monday = 0), month 1–12, day of month 1–31, year. */
export const DATE_PARTS: readonly DatePart[] = ['hour', 'dow', 'month', 'day', 'year'];

/**
 * Fill missing values, as sklearn's `SimpleImputer`. `mean` and `median` need a numeric input;
 * `most_frequent` takes the smallest value (or string) among ties; `constant` fills `fillValue`
 * (default 0 for numbers, `'missing_value'` for categories). `addIndicator` adds a 0/1 column
 * `<name>.missing` for each input column that had missing values during fit (sklearn's
 * `features='missing-only'`); indicators go straight to the output, later steps do not touch them.
 */
export interface ImputeStep {
  kind: 'impute';
  strategy: 'mean' | 'median' | 'most_frequent' | 'constant';
  fillValue?: number | string;
  addIndicator?: boolean;
}

/** Centre and scale, as sklearn's `StandardScaler` (population std; constant columns get scale 1). */
export interface StandardStep {
  kind: 'standard';
  withMean?: boolean;
  withStd?: boolean;
}

/** Map [min, max] seen at fit onto `featureRange` (default [0, 1]), as sklearn's `MinMaxScaler`. */
export interface MinMaxStep {
  kind: 'minmax';
  featureRange?: [number, number];
}

/**
 * One 0/1 column per category, as sklearn's `OneHotEncoder`. Missing is a category of its own
 * (`<name>=(missing)`). Categories seen fewer than `minFrequency` times (an integer ≥ 1 is a count,
 * a number in (0, 1) a share of rows) or beyond the `maxCategories - 1` most frequent fold into
 * one `<name>=(other)` column, as sklearn 1.2. Unknown categories at transform map to
 * `(other)` when that column exists and `handleUnknown` is `'infrequent_if_exist'` (the default),
 * else to all zeros. Must be the last step of its column.
 */
export interface OneHotStep {
  kind: 'onehot';
  minFrequency?: number;
  maxCategories?: number;
  handleUnknown?: 'ignore' | 'infrequent_if_exist';
}

/**
 * Categories to 0, 1, 2 … in sorted order, as sklearn's `OrdinalEncoder`. `unknownValue` (default -1)
 * is used for categories not seen at fit, `missingValue` (default NaN) for missing values;
 * `null` stands for NaN, since JSON has no NaN.
 */
export interface OrdinalStep {
  kind: 'ordinal';
  unknownValue?: number | null;
  missingValue?: number | null;
}

/**
 * Replace each category by a shrunk mean of the target within it (binary 0/1 or continuous targets).
 * `smooth: 'auto'` (default) is sklearn 1.3 `TargetEncoder(smooth='auto')`, the empirical-Bayes
 * shrinkage of Micci-Barreca eq. 5–6: λ = n·σ² / (n·σ² + s²_c), encoding = λ·ȳ_c + (1 − λ)·ȳ, with σ²
 * the target's population variance and s²_c the category's; a number m is the m-estimate
 * (Σy_c + m·ȳ) / (n_c + m). Missing is a category; unknown categories get ȳ. During fit the training
 * rows get out-of-fold encodings (`folds`, default 5, shuffled with `seed`, default 0; stratified for a
 * 0/1 target) so a row's encoding never uses its own target; transform uses the full-data encoding.
 */
export interface TargetStep {
  kind: 'target';
  smooth?: 'auto' | number;
  folds?: number;
  seed?: number;
}

/** Numeric columns `<name>.<part>` from a datetime column, UTC; missing dates give NaN parts. */
export interface DatePartsStep {
  kind: 'dateparts';
  parts: DatePart[];
}

/** One preprocessing step; see each variant. */
export type Step = ImputeStep | StandardStep | MinMaxStep | OneHotStep | OrdinalStep | TargetStep | DatePartsStep;

/** Every {@link Step} kind. */
export const STEP_KINDS: readonly Step['kind'][] = [
  'impute',
  'standard',
  'minmax',
  'onehot',
  'ordinal',
  'target',
  'dateparts',
];

/**
 * What to do to each input column, in order. Only the columns named here reach the output (others,
 * including the target, are dropped); a float column with no steps passes through unchanged.
 * Output columns follow the key order of `columns`.
 */
export interface PipelineSpec {
  columns: Record<string, Step[]>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const STEP_KEYS: Record<Step['kind'], readonly string[]> = {
  impute: ['kind', 'strategy', 'fillValue', 'addIndicator'],
  standard: ['kind', 'withMean', 'withStd'],
  minmax: ['kind', 'featureRange'],
  onehot: ['kind', 'minFrequency', 'maxCategories', 'handleUnknown'],
  ordinal: ['kind', 'unknownValue', 'missingValue'],
  target: ['kind', 'smooth', 'folds', 'seed'],
  dateparts: ['kind', 'parts'],
};

function checkBoolean(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw invalidParameter(field, 'must be true or false', value);
}

function checkNumberOrNull(value: unknown, field: string): void {
  if (value !== undefined && value !== null && !(typeof value === 'number' && Number.isFinite(value))) {
    throw invalidParameter(field, 'must be a finite number or null (NaN)', value);
  }
}

function checkStep(raw: unknown, field: string): Step {
  if (!isRecord(raw)) throw invalidParameter(field, 'must be an object like { "kind": "standard" }', raw);
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(STEP_KINDS as readonly string[]).includes(kind)) {
    throw invalidParameter(`${field}.kind`, `must be one of ${STEP_KINDS.join(', ')}`, kind);
  }
  const allowed = STEP_KEYS[kind as Step['kind']];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw invalidParameter(`${field}.${key}`, `is not an option of '${kind}'; options are ${allowed.join(', ')}`);
    }
  }
  const step = raw as unknown as Step;
  switch (step.kind) {
    case 'impute': {
      const strategies = ['mean', 'median', 'most_frequent', 'constant'];
      if (!strategies.includes(step.strategy)) {
        throw invalidParameter(`${field}.strategy`, `must be one of ${strategies.join(', ')}`, step.strategy);
      }
      const fill = step.fillValue;
      if (fill !== undefined && typeof fill !== 'string' && !(typeof fill === 'number' && Number.isFinite(fill))) {
        throw invalidParameter(`${field}.fillValue`, 'must be a finite number or a string', fill);
      }
      checkBoolean(step.addIndicator, `${field}.addIndicator`);
      break;
    }
    case 'standard':
      checkBoolean(step.withMean, `${field}.withMean`);
      checkBoolean(step.withStd, `${field}.withStd`);
      break;
    case 'minmax': {
      const range = step.featureRange;
      if (
        range !== undefined &&
        !(
          Array.isArray(range) &&
          range.length === 2 &&
          range.every((x) => typeof x === 'number' && Number.isFinite(x)) &&
          range[0] < range[1]
        )
      ) {
        throw invalidParameter(`${field}.featureRange`, 'must be [low, high] with low < high', range);
      }
      break;
    }
    case 'onehot': {
      const mf = step.minFrequency;
      if (mf !== undefined && !(typeof mf === 'number' && ((mf > 0 && mf < 1) || (Number.isInteger(mf) && mf >= 1)))) {
        throw invalidParameter(`${field}.minFrequency`, 'must be an integer >= 1 (a count) or in (0, 1) (a share)', mf);
      }
      const mc = step.maxCategories;
      if (mc !== undefined && !(Number.isInteger(mc) && mc >= 2)) {
        throw invalidParameter(`${field}.maxCategories`, 'must be an integer >= 2 (it counts the other bucket)', mc);
      }
      const hu = step.handleUnknown;
      if (hu !== undefined && hu !== 'ignore' && hu !== 'infrequent_if_exist') {
        throw invalidParameter(`${field}.handleUnknown`, "must be 'ignore' or 'infrequent_if_exist'", hu);
      }
      break;
    }
    case 'ordinal':
      checkNumberOrNull(step.unknownValue, `${field}.unknownValue`);
      checkNumberOrNull(step.missingValue, `${field}.missingValue`);
      break;
    case 'target': {
      const smooth = step.smooth;
      if (
        smooth !== undefined &&
        smooth !== 'auto' &&
        !(typeof smooth === 'number' && smooth >= 0 && smooth < Infinity)
      ) {
        throw invalidParameter(`${field}.smooth`, "must be 'auto' or a number >= 0", smooth);
      }
      if (step.folds !== undefined && !(Number.isInteger(step.folds) && step.folds >= 2)) {
        throw invalidParameter(`${field}.folds`, 'must be an integer >= 2', step.folds);
      }
      if (step.seed !== undefined && !Number.isInteger(step.seed)) {
        throw invalidParameter(`${field}.seed`, 'must be an integer', step.seed);
      }
      break;
    }
    case 'dateparts': {
      const parts = step.parts;
      if (
        !Array.isArray(parts) ||
        parts.length === 0 ||
        !parts.every((p) => (DATE_PARTS as readonly unknown[]).includes(p)) ||
        new Set(parts).size !== parts.length
      ) {
        throw invalidParameter(
          `${field}.parts`,
          `must be a non-empty list of distinct ${DATE_PARTS.join(', ')}`,
          parts,
        );
      }
      break;
    }
  }
  return step;
}

/**
 * Checks a spec that may come from JSON (CLI, API) and returns it typed; every problem is a
 * KilnError INVALID_PARAMETER_VALUE whose `field` is the path, e.g. `columns.delay[1].strategy`.
 * Whether a step suits its column's type is checked when fitting, where the frame is known.
 *
 * @example
 * const spec = checkPipelineSpec(JSON.parse(body)); // throws on { columns: { a: [{ kind: 'scale' }] } }
 */
export function checkPipelineSpec(raw: unknown): PipelineSpec {
  if (!isRecord(raw) || !isRecord(raw.columns)) {
    throw invalidParameter('columns', 'the spec needs columns: { "<column>": [steps…] }');
  }
  const names = Object.keys(raw.columns);
  if (names.length === 0) throw invalidParameter('columns', 'names no column');
  for (const name of names) {
    const steps = raw.columns[name];
    if (!Array.isArray(steps)) throw invalidParameter(`columns.${name}`, 'must be a list of steps', steps);
    for (const [i, step] of steps.entries()) checkStep(step, `columns.${name}[${i}]`);
  }
  return raw as unknown as PipelineSpec;
}
