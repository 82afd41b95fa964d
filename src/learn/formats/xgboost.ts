import { KilnError } from '../../core/index.js';
import type { Matrix } from '../matrix.js';

/** The XGBoost objectives Kiln can serve: they fix how tree margins become predictions. */
export type XgboostObjective =
  | 'binary:logistic'
  | 'reg:logistic'
  | 'reg:squarederror'
  | 'multi:softprob'
  | 'multi:softmax';

const OBJECTIVES: readonly XgboostObjective[] = [
  'binary:logistic',
  'reg:logistic',
  'reg:squarederror',
  'multi:softprob',
  'multi:softmax',
];

/**
 * An XGBoost gbtree model read from its JSON document, with every tree packed into one set of flat
 * typed arrays so prediction walks numbers, never objects. Node `i` of tree `t` is global node
 * `treeStart[t] + i`; children are stored as global node indices.
 */
export interface XgboostModel {
  objective: XgboostObjective;
  /** `learner_model_param.base_score` as written (a probability for the logistic objectives). */
  baseScore: number;
  /** The margin every row starts from: `base_score` after the objective's link (logit for logistic), in float32. */
  baseMargin: number;
  /** Number of output groups: `num_class` for multiclass objectives, 1 otherwise. */
  numGroups: number;
  /** Number of input features the model was trained on (`learner_model_param.num_feature`). */
  numFeature: number;
  /** `learner.feature_names`, when the model was trained with named features. */
  featureNames?: string[];
  /** Start of each tree in the node arrays; length = number of trees + 1. */
  treeStart: Int32Array;
  /** Output group (class) each tree adds to (`tree_info`). */
  treeGroup: Int32Array;
  /** Split feature per node, -1 for a leaf. */
  feature: Int32Array;
  /** Split threshold per node (float32); for a leaf, its value. */
  threshold: Float32Array;
  /** Global index of the left child (go left when `float32(x) < threshold`). */
  left: Int32Array;
  /** Global index of the right child. */
  right: Int32Array;
  /** 1 when a missing (NaN) value goes left. */
  defaultLeft: Uint8Array;
}

/** Options for {@link predictXgboost}. */
export interface XgboostPredictOptions {
  /** Return raw margins (sum of leaves plus base margin) instead of transformed predictions. */
  outputMargin?: boolean;
}

function invalid(path: string, message: string): KilnError {
  return new KilnError('INVALID_PARAMETER_VALUE', `XGBoost model: ${path} ${message}`, { field: path });
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only, so keys such as `constructor` never reach the prototype. */
function own(object: Json, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function objectAt(parent: Json, key: string, path: string): Json {
  const value = own(parent, key);
  if (!isObject(value)) throw invalid(path, value === undefined ? 'is missing' : 'must be an object');
  return value;
}

function arrayAt(parent: Json, key: string, path: string): unknown[] {
  const value = own(parent, key);
  if (!Array.isArray(value)) throw invalid(path, value === undefined ? 'is missing' : 'must be an array');
  return value;
}

function stringAt(parent: Json, key: string, path: string): string {
  const value = own(parent, key);
  if (typeof value !== 'string') throw invalid(path, value === undefined ? 'is missing' : 'must be a string');
  return value;
}

/** XGBoost writes scalar parameters as strings ("5E-1"); 2.1+ writes base_score as "[5E-1]". */
function numberParam(parent: Json, key: string, path: string, bracketed = false): number {
  const value = own(parent, key);
  let text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : undefined;
  if (text === undefined) throw invalid(path, value === undefined ? 'is missing' : 'must be a number string');
  if (bracketed && text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1).trim();
  const number = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(number)) throw invalid(path, `must be a finite number, got ${JSON.stringify(value)}`);
  return number;
}

function integerParam(parent: Json, key: string, path: string, min: number): number {
  const value = numberParam(parent, key, path);
  if (!Number.isInteger(value) || value < min) throw invalid(path, `must be an integer ≥ ${min}, got ${value}`);
  return value;
}

function numbersAt(tree: Json, key: string, path: string, length: number): unknown[] {
  const values = arrayAt(tree, key, path);
  if (values.length !== length) throw invalid(path, `has ${values.length} entries, expected ${length} (num_nodes)`);
  return values;
}

/** Node count of a tree: `tree_param.num_nodes`, checked against its arrays. */
function treeSize(tree: Json, path: string): number {
  const param = objectAt(tree, 'tree_param', `${path}.tree_param`);
  return integerParam(param, 'num_nodes', `${path}.tree_param.num_nodes`, 1);
}

function packTree(
  tree: Json,
  path: string,
  start: number,
  size: number,
  numFeature: number,
  out: Pick<XgboostModel, 'feature' | 'threshold' | 'left' | 'right' | 'defaultLeft'>,
): void {
  const lefts = numbersAt(tree, 'left_children', `${path}.left_children`, size);
  const rights = numbersAt(tree, 'right_children', `${path}.right_children`, size);
  const indices = numbersAt(tree, 'split_indices', `${path}.split_indices`, size);
  const conditions = numbersAt(tree, 'split_conditions', `${path}.split_conditions`, size);
  const defaults = numbersAt(tree, 'default_left', `${path}.default_left`, size);
  numbersAt(tree, 'base_weights', `${path}.base_weights`, size);
  const types =
    own(tree, 'split_type') === undefined ? undefined : numbersAt(tree, 'split_type', `${path}.split_type`, size);
  for (let i = 0; i < size; i++) {
    const node = start + i;
    const left = lefts[i];
    const right = rights[i];
    const condition = conditions[i];
    if (typeof condition !== 'number' || !Number.isFinite(condition)) {
      throw invalid(`${path}.split_conditions[${i}]`, `must be a finite number, got ${JSON.stringify(condition)}`);
    }
    out.threshold[node] = condition;
    if (left === -1 && right === -1) {
      out.feature[node] = -1;
      out.left[node] = -1;
      out.right[node] = -1;
      continue;
    }
    // Children always come after their parent in XGBoost trees; requiring it rules out cycles.
    for (const [child, name] of [
      [left, 'left_children'],
      [right, 'right_children'],
    ] as const) {
      if (typeof child !== 'number' || !Number.isInteger(child) || child <= i || child >= size) {
        throw invalid(
          `${path}.${name}[${i}]`,
          `must be -1 (leaf) or a node index in (${i}, ${size}), got ${JSON.stringify(child)}`,
        );
      }
    }
    const type = types?.[i] ?? 0;
    if (type === 1) {
      throw invalid(`${path}.split_type[${i}]`, 'is a categorical split, which Kiln cannot import yet');
    }
    if (type !== 0) throw invalid(`${path}.split_type[${i}]`, `must be 0 (numerical), got ${JSON.stringify(type)}`);
    const index = indices[i];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= numFeature) {
      throw invalid(
        `${path}.split_indices[${i}]`,
        `must be a feature index in [0, ${numFeature}), got ${JSON.stringify(index)}`,
      );
    }
    const dflt = defaults[i];
    if (dflt !== 0 && dflt !== 1 && dflt !== true && dflt !== false) {
      throw invalid(`${path}.default_left[${i}]`, `must be 0 or 1, got ${JSON.stringify(dflt)}`);
    }
    out.feature[node] = index;
    out.left[node] = start + (left as number);
    out.right[node] = start + (right as number);
    out.defaultLeft[node] = dflt === 1 || dflt === true ? 1 : 0;
  }
}

/**
 * Reads the JSON document XGBoost writes with `booster.save_model('m.json')` (or `save_raw('json')`)
 * into flat arrays, so models trained in Python can be served by Kiln. The document is only parsed
 * and checked — nothing in it is executed — and anything Kiln cannot predict exactly (another
 * objective, a dart booster, categorical splits, a malformed tree) is rejected with a KilnError
 * whose `field` is the JSON path at fault, e.g. `learner.objective.name`.
 *
 * @example
 * const model = parseXgboostJson(readFileSync('m.json', 'utf8'));
 * const probabilities = predictXgboost(model, X); // binary:logistic → one probability per row
 */
export function parseXgboostJson(text: string): XgboostModel {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw invalid('(document)', `is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(document)) throw invalid('(document)', 'must be a JSON object');
  const learner = objectAt(document, 'learner', 'learner');
  const objectiveObject = objectAt(learner, 'objective', 'learner.objective');
  const objective = stringAt(objectiveObject, 'name', 'learner.objective.name') as XgboostObjective;
  if (!OBJECTIVES.includes(objective)) {
    throw invalid(
      'learner.objective.name',
      `must be one of ${OBJECTIVES.join(', ')}, got ${JSON.stringify(objective)}`,
    );
  }
  const params = objectAt(learner, 'learner_model_param', 'learner.learner_model_param');
  const baseScore = numberParam(params, 'base_score', 'learner.learner_model_param.base_score', true);
  const numFeature = integerParam(params, 'num_feature', 'learner.learner_model_param.num_feature', 1);
  const numClass = integerParam(params, 'num_class', 'learner.learner_model_param.num_class', 0);
  if (own(params, 'num_target') !== undefined) {
    const numTarget = integerParam(params, 'num_target', 'learner.learner_model_param.num_target', 1);
    if (numTarget !== 1) throw invalid('learner.learner_model_param.num_target', `must be 1, got ${numTarget}`);
  }
  const multiclass = objective.startsWith('multi:');
  if (multiclass && numClass < 2) {
    throw invalid('learner.learner_model_param.num_class', `must be ≥ 2 for ${objective}, got ${numClass}`);
  }
  if (!multiclass && numClass > 1) {
    throw invalid('learner.learner_model_param.num_class', `must be 0 or 1 for ${objective}, got ${numClass}`);
  }
  const logistic = objective === 'binary:logistic' || objective === 'reg:logistic';
  if (logistic && !(baseScore > 0 && baseScore < 1)) {
    throw invalid('learner.learner_model_param.base_score', `must be in (0, 1) for ${objective}, got ${baseScore}`);
  }
  const baseMargin = Math.fround(logistic ? Math.log(baseScore / (1 - baseScore)) : baseScore);
  const numGroups = multiclass ? numClass : 1;

  const booster = objectAt(learner, 'gradient_booster', 'learner.gradient_booster');
  const boosterName = stringAt(booster, 'name', 'learner.gradient_booster.name');
  if (boosterName !== 'gbtree') {
    throw invalid('learner.gradient_booster.name', `must be "gbtree", got ${JSON.stringify(boosterName)}`);
  }
  const gbtree = objectAt(booster, 'model', 'learner.gradient_booster.model');
  const trees = arrayAt(gbtree, 'trees', 'learner.gradient_booster.model.trees');
  const treeInfo = arrayAt(gbtree, 'tree_info', 'learner.gradient_booster.model.tree_info');
  if (treeInfo.length !== trees.length) {
    throw invalid(
      'learner.gradient_booster.model.tree_info',
      `has ${treeInfo.length} entries, expected one per tree (${trees.length})`,
    );
  }

  const treeStart = new Int32Array(trees.length + 1);
  const treeGroup = new Int32Array(trees.length);
  const treeObjects: Json[] = [];
  for (let t = 0; t < trees.length; t++) {
    const path = `learner.gradient_booster.model.trees[${t}]`;
    const tree = trees[t];
    if (!isObject(tree)) throw invalid(path, 'must be an object');
    treeObjects.push(tree);
    treeStart[t + 1] = (treeStart[t] as number) + treeSize(tree, path);
    const group = treeInfo[t];
    if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group >= numGroups) {
      throw invalid(
        `learner.gradient_booster.model.tree_info[${t}]`,
        `must be a class index in [0, ${numGroups}), got ${JSON.stringify(group)}`,
      );
    }
    treeGroup[t] = group;
  }
  const totalNodes = treeStart[trees.length] as number;
  const model: XgboostModel = {
    objective,
    baseScore,
    baseMargin,
    numGroups,
    numFeature,
    treeStart,
    treeGroup,
    feature: new Int32Array(totalNodes),
    threshold: new Float32Array(totalNodes),
    left: new Int32Array(totalNodes),
    right: new Int32Array(totalNodes),
    defaultLeft: new Uint8Array(totalNodes),
  };
  treeObjects.forEach((tree, t) => {
    const start = treeStart[t] as number;
    const size = (treeStart[t + 1] as number) - start;
    packTree(tree, `learner.gradient_booster.model.trees[${t}]`, start, size, numFeature, model);
  });

  const names = own(learner, 'feature_names');
  if (Array.isArray(names) && names.length > 0) {
    if (names.length !== numFeature || !names.every((name) => typeof name === 'string')) {
      throw invalid('learner.feature_names', `must be ${numFeature} strings (num_feature)`);
    }
    model.featureNames = names as string[];
  }
  return model;
}

/**
 * The feature names stored in the model (`DMatrix(..., feature_names=...)` or a pandas frame's
 * columns), in column order, so callers can line their matrix up with what the model expects;
 * undefined when the model was trained on an unnamed array.
 *
 * @example
 * xgboostFeatureNames(model); // ['bill_length', 'bill_depth', …]
 */
export function xgboostFeatureNames(model: XgboostModel): string[] | undefined {
  return model.featureNames?.slice();
}

/**
 * Predicts with an imported XGBoost model exactly as XGBoost 1.7's CPU predictor does: features are
 * cast to float32 and go left when `x < split_condition`, NaN follows `default_left`, leaf values are
 * summed in float32 onto the base margin, then the objective's transform applies. Returns one value
 * per row (binary and regression: probability or value; multi:softmax: the class index) or rows ×
 * classes row-major (multi:softprob, and multiclass margins with `outputMargin`).
 *
 * @example
 * const p = predictXgboost(model, X); // multi:softprob: p[r * model.numGroups + k] = P(class k | row r)
 */
export function predictXgboost(model: XgboostModel, X: Matrix, options: XgboostPredictOptions = {}): Float64Array {
  if (X.cols !== model.numFeature) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `X has ${X.cols} columns but the XGBoost model expects ${model.numFeature} features`,
      { field: 'X', expected: model.numFeature, actual: X.cols },
    );
  }
  const { treeStart, treeGroup, feature, threshold, left, right, defaultLeft, numGroups } = model;
  const numTrees = treeGroup.length;
  const cols = X.cols;
  const data = X.data;
  const margins = new Float64Array(X.rows * numGroups).fill(model.baseMargin);
  for (let r = 0; r < X.rows; r++) {
    const rowOffset = r * cols;
    const outOffset = r * numGroups;
    for (let t = 0; t < numTrees; t++) {
      let node = treeStart[t] as number;
      let f = feature[node] as number;
      while (f >= 0) {
        const x = data[rowOffset + f] as number;
        if (Number.isNaN(x))
          node = (defaultLeft[node] as number) === 1 ? (left[node] as number) : (right[node] as number);
        else node = Math.fround(x) < (threshold[node] as number) ? (left[node] as number) : (right[node] as number);
        f = feature[node] as number;
      }
      const o = outOffset + (treeGroup[t] as number);
      margins[o] = Math.fround((margins[o] as number) + (threshold[node] as number));
    }
  }
  if (options.outputMargin === true) return margins;
  switch (model.objective) {
    case 'reg:squarederror':
      return margins;
    case 'binary:logistic':
    case 'reg:logistic':
      for (let i = 0; i < margins.length; i++) margins[i] = 1 / (1 + Math.exp(-(margins[i] as number)));
      return margins;
    case 'multi:softprob':
      for (let r = 0; r < X.rows; r++) softmaxInPlace(margins, r * numGroups, numGroups);
      return margins;
    case 'multi:softmax': {
      const classes = new Float64Array(X.rows);
      for (let r = 0; r < X.rows; r++) {
        let best = 0;
        for (let k = 1; k < numGroups; k++) {
          if ((margins[r * numGroups + k] as number) > (margins[r * numGroups + best] as number)) best = k;
        }
        classes[r] = best;
      }
      return classes;
    }
  }
}

function softmaxInPlace(values: Float64Array, offset: number, length: number): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < length; k++) max = Math.max(max, values[offset + k] as number);
  let sum = 0;
  for (let k = 0; k < length; k++) {
    const e = Math.exp((values[offset + k] as number) - max);
    values[offset + k] = e;
    sum += e;
  }
  for (let k = 0; k < length; k++) values[offset + k] = (values[offset + k] as number) / sum;
}
