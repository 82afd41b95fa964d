import { invalidParameter } from '../core/index.js';

/** The built-in learners a training job can name. */
export type LearnerName = 'gbdt' | 'forest' | 'logistic' | 'linear';

/** Every {@link LearnerName}. */
export const LEARNERS: readonly LearnerName[] = ['gbdt', 'forest', 'logistic', 'linear'];

/** A parameter value as users write it: JSON scalars, or strings from the CLI's `--param k=v`. */
export type LearnerParamValue = string | number | boolean;

/**
 * How one user-facing parameter is spelled, typed and bounded. Names are the snake_case ones of
 * XGBoost and sklearn, so a configuration written for them carries over; `aliases` are the other
 * spellings those libraries accept (`eta` for `learning_rate`).
 */
export interface ParamDeclaration {
  name: string;
  aliases?: readonly string[];
  type: 'integer' | 'number' | 'boolean' | 'choice' | 'choice-or-number';
  /** Inclusive bounds for numbers (an exclusive lower bound when `minOpen`). */
  min?: number;
  max?: number;
  minOpen?: boolean;
  /** The allowed words of a `choice` (or the words besides a number of a `choice-or-number`). */
  choices?: readonly string[];
  /** The learner's default, recorded with a run's params; absent when it depends on the task or data. */
  default?: LearnerParamValue;
  doc: string;
}

const SEED: ParamDeclaration = {
  name: 'seed',
  default: 0,
  aliases: ['random_state'],
  type: 'integer',
  min: 0,
  max: 2 ** 31 - 1,
  doc: 'Seed of every random choice (sampling, bootstrap); default 0.',
};

const GBDT_PARAMS: readonly ParamDeclaration[] = [
  {
    name: 'n_estimators',
    default: 100,
    aliases: ['num_boost_round', 'n_rounds'],
    type: 'integer',
    min: 1,
    max: 100_000,
    doc: 'Boosting rounds; default 100.',
  },
  {
    name: 'learning_rate',
    default: 0.3,
    aliases: ['eta'],
    type: 'number',
    min: 0,
    minOpen: true,
    max: 1,
    doc: 'Shrinkage of every tree; default 0.3.',
  },
  { name: 'max_depth', default: 6, type: 'integer', min: 0, max: 64, doc: 'Depth of every tree; default 6.' },
  {
    name: 'lambda',
    default: 1,
    aliases: ['reg_lambda'],
    type: 'number',
    min: 0,
    doc: 'L2 penalty on leaf values; default 1.',
  },
  {
    name: 'alpha',
    default: 0,
    aliases: ['reg_alpha'],
    type: 'number',
    min: 0,
    doc: 'L1 penalty on leaf values; default 0.',
  },
  {
    name: 'gamma',
    default: 0,
    aliases: ['min_split_loss'],
    type: 'number',
    min: 0,
    doc: 'Least loss reduction of a split.',
  },
  { name: 'min_child_weight', default: 1, type: 'number', min: 0, doc: 'Least hessian sum per child; default 1.' },
  {
    name: 'subsample',
    default: 1,
    type: 'number',
    min: 0,
    minOpen: true,
    max: 1,
    doc: 'Share of rows per tree; default 1.',
  },
  {
    name: 'colsample_bytree',
    default: 1,
    type: 'number',
    min: 0,
    minOpen: true,
    max: 1,
    doc: 'Share of features per tree; default 1.',
  },
  { name: 'max_bin', default: 255, type: 'integer', min: 2, max: 255, doc: 'Histogram bins per feature; default 255.' },
  {
    name: 'early_stopping_rounds',
    type: 'integer',
    min: 1,
    max: 100_000,
    doc: 'Stop when the validation metric has not improved for this many rounds; needs a validation set.',
  },
  {
    name: 'eval_metric',
    type: 'choice',
    choices: ['logloss', 'mlogloss', 'rmse'],
    doc: 'Validation metric per round; default logloss / mlogloss / rmse by task.',
  },
  {
    name: 'grow_policy',
    default: 'depthwise',
    type: 'choice',
    choices: ['depthwise', 'lossguide'],
    doc: 'Grow level by level, or best leaf first (then bounded by max_leaves); default depthwise.',
  },
  {
    name: 'max_leaves',
    default: 0,
    type: 'integer',
    min: 0,
    max: 1 << 20,
    doc: 'Leaves per tree with lossguide; 0 = no limit.',
  },
  {
    name: 'categorical',
    default: 'native',
    type: 'choice',
    choices: ['native', 'ordinal'],
    doc: 'Categorical columns: native categorical splits (default) or ordinal codes split as numbers.',
  },
  { name: 'threads', aliases: ['nthread', 'n_jobs'], type: 'integer', min: 1, max: 256, doc: 'Threads; default 2.' },
  SEED,
];

const FOREST_PARAMS: readonly ParamDeclaration[] = [
  { name: 'n_estimators', default: 100, type: 'integer', min: 1, max: 100_000, doc: 'Trees; default 100.' },
  {
    name: 'max_depth',
    default: 0,
    type: 'integer',
    min: 0,
    max: 1000,
    doc: 'Depth of every tree; 0 (default) = unlimited.',
  },
  {
    name: 'max_features',
    type: 'choice-or-number',
    choices: ['sqrt', 'log2', 'all'],
    min: 0,
    minOpen: true,
    doc: 'Features tried per split: sqrt (default for classification), log2, all (default for regression), a share in (0, 1] or a count.',
  },
  {
    name: 'min_samples_split',
    default: 2,
    type: 'integer',
    min: 2,
    doc: 'Least rows a node needs to be split; default 2.',
  },
  { name: 'min_samples_leaf', default: 1, type: 'integer', min: 1, doc: 'Least rows per leaf; default 1.' },
  {
    name: 'bootstrap',
    default: true,
    type: 'boolean',
    doc: 'Sample rows with replacement for every tree; default true.',
  },
  {
    name: 'oob_score',
    default: false,
    type: 'boolean',
    doc: 'Score every row with the trees that did not see it (metric oob_score); default false.',
  },
  { name: 'threads', aliases: ['n_jobs'], type: 'integer', min: 1, max: 256, doc: 'Threads growing trees; default 2.' },
  SEED,
];

function penalty(fallback: string): ParamDeclaration {
  return {
    name: 'penalty',
    default: fallback,
    type: 'choice',
    choices: ['none', 'l2', 'l1', 'elasticnet'],
    doc: `Regularisation; default ${fallback}.`,
  };
}

const LINEAR_COMMON: readonly ParamDeclaration[] = [
  { name: 'l1_ratio', default: 0.5, type: 'number', min: 0, max: 1, doc: 'Share of L1 in elasticnet; default 0.5.' },
  { name: 'fit_intercept', default: true, type: 'boolean', doc: 'Fit an unpenalised intercept; default true.' },
  {
    name: 'max_iter',
    default: 1000,
    type: 'integer',
    min: 1,
    max: 1_000_000,
    doc: 'Optimiser iterations at most; default 1000.',
  },
  { name: 'tol', type: 'number', min: 0, minOpen: true, doc: 'Convergence tolerance.' },
];

const LOGISTIC_PARAMS: readonly ParamDeclaration[] = [
  { name: 'C', default: 1, type: 'number', min: 0, minOpen: true, doc: 'Inverse penalty strength; default 1.' },
  {
    name: 'class_weight',
    default: 'none',
    type: 'choice',
    choices: ['none', 'balanced'],
    doc: 'balanced weighs each class by n / (k · its count); default none.',
  },
  penalty('l2'),
  ...LINEAR_COMMON,
];

const LINEAR_PARAMS: readonly ParamDeclaration[] = [
  {
    name: 'alpha',
    default: 1,
    type: 'number',
    min: 0,
    doc: 'Penalty strength; default 1 (ignored with penalty none).',
  },
  penalty('l2'),
  ...LINEAR_COMMON,
];

/** The parameters each learner accepts; the docs' parameter tables are this list. */
export const LEARNER_PARAMS: Readonly<Record<LearnerName, readonly ParamDeclaration[]>> = {
  gbdt: GBDT_PARAMS,
  forest: FOREST_PARAMS,
  logistic: LOGISTIC_PARAMS,
  linear: LINEAR_PARAMS,
};

/** Resolved parameters: canonical names, typed values. */
export type ResolvedParams = Record<string, LearnerParamValue>;

function coerce(declaration: ParamDeclaration, raw: LearnerParamValue, field: string): LearnerParamValue {
  const { type } = declaration;
  if (type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1' || raw === 1) return true;
    if (raw === 'false' || raw === '0' || raw === 0) return false;
    throw invalidParameter(field, 'must be true or false', raw);
  }
  const word = typeof raw === 'string' ? raw.trim() : undefined;
  if ((type === 'choice' || type === 'choice-or-number') && word !== undefined) {
    if (declaration.choices?.includes(word)) return word;
    if (type === 'choice') throw invalidParameter(field, `must be one of ${declaration.choices?.join(', ')}`, raw);
  }
  const value = typeof raw === 'number' ? raw : word !== undefined && word !== '' ? Number(word) : Number.NaN;
  if (!Number.isFinite(value)) {
    const words = declaration.choices === undefined ? '' : ` or one of ${declaration.choices.join(', ')}`;
    throw invalidParameter(field, `must be a ${type === 'integer' ? 'whole number' : 'number'}${words}`, raw);
  }
  if (type === 'integer' && !Number.isInteger(value)) throw invalidParameter(field, 'must be a whole number', raw);
  const { min, max, minOpen } = declaration;
  if ((min !== undefined && (minOpen ? value <= min : value < min)) || (max !== undefined && value > max)) {
    const low = min === undefined ? '(-∞' : `${minOpen ? '(' : '['}${min}`;
    const high = max === undefined ? '∞)' : `${max}]`;
    throw invalidParameter(field, `must be in ${low}, ${high}`, raw);
  }
  return value;
}

/**
 * Checks a learner's user parameters and returns them under their canonical names with typed values
 * (strings from the command line are coerced by the declared type). An unknown name is an
 * INVALID_PARAMETER_VALUE naming it and listing the valid ones; two spellings of one parameter are refused.
 *
 * @example
 * resolveParams('gbdt', { eta: '0.1', max_depth: 4 }); // { learning_rate: 0.1, max_depth: 4 }
 * resolveParams('gbdt', { depth: 4 }); // throws: params.depth is not a gbdt parameter; valid: n_estimators, …
 */
export function resolveParams(
  learner: LearnerName,
  params: Readonly<Record<string, LearnerParamValue>>,
): ResolvedParams {
  const declarations = LEARNER_PARAMS[learner];
  const resolved: ResolvedParams = {};
  for (const [key, raw] of Object.entries(params)) {
    const field = `params.${key}`;
    const declaration = declarations.find((d) => d.name === key || d.aliases?.includes(key));
    if (declaration === undefined) {
      const valid = declarations.map((d) => d.name + (d.aliases ? ` (${d.aliases.join(', ')})` : '')).join(', ');
      throw invalidParameter(field, `is not a ${learner} parameter; valid parameters are ${valid}`);
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw invalidParameter(field, 'must be a string, number or boolean', raw);
    }
    if (Object.hasOwn(resolved, declaration.name)) {
      throw invalidParameter(field, `sets ${declaration.name} a second time`);
    }
    resolved[declaration.name] = coerce(declaration, raw, field);
  }
  return resolved;
}

/**
 * The parameters a learner runs with: the given ones plus every declared default, so a run records
 * the whole configuration (parameters whose default depends on the task or data stay absent).
 *
 * @example
 * withDefaults('linear', { alpha: 0.5 }); // { alpha: 0.5, penalty: 'l2', l1_ratio: 0.5, fit_intercept: true, max_iter: 1000 }
 */
export function withDefaults(learner: LearnerName, params: Readonly<ResolvedParams>): ResolvedParams {
  const full: ResolvedParams = {};
  for (const declaration of LEARNER_PARAMS[learner]) {
    const value = params[declaration.name] ?? declaration.default;
    if (value !== undefined) full[declaration.name] = value;
  }
  return full;
}
