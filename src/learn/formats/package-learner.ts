import type { ForestModel, ForestTree } from '../forest/index.js';
import type { GbdtModel, GbdtTree } from '../gbdt/index.js';
import type { LinearRegressionModel } from '../linear.js';
import type { LogisticRegressionModel } from '../logistic.js';
import type { LearnerModel, Task } from '../model.js';
import { JsonFile, join } from './package-json.js';

/** Largest category code a categorical tree split may list (codes index a category dictionary). */
export const MAX_CATEGORY_CODE = (1 << 20) - 1;

/** What `learner.json` must agree with: the preprocessing's output columns and the manifest's task. */
export interface LearnerContext {
  task: Task;
  features: readonly string[];
  classes: number;
}

const LEARNER_KINDS = ['linear-regression', 'logistic-regression', 'gbdt', 'forest'] as const;
const PENALTIES = ['none', 'l2', 'l1', 'elasticnet'] as const;
const OBJECTIVES = ['binary:logistic', 'reg:squarederror', 'multi:softprob'] as const;
const METRICS = ['logloss', 'rmse', 'mlogloss'] as const;

function checkFeatures(file: JsonFile, value: unknown, context: LearnerContext): string[] {
  const features = file.strings(value, 'features', context.features.length);
  features.forEach((name, i) => {
    if (name !== context.features[i]) {
      file.fail(
        `features[${i}]`,
        `is '${name}' but preprocessing.json's output column ${i} is '${context.features[i]}'`,
      );
    }
  });
  return features;
}

function expectTask(file: JsonFile, path: string, context: LearnerContext, tasks: readonly Task[]): void {
  if (!tasks.includes(context.task)) file.fail(path, `does not fit the manifest's task '${context.task}'`);
}

function readLinear(file: JsonFile, raw: unknown, context: LearnerContext): LinearRegressionModel {
  const o = file.object(raw, '', ['kind', 'penalty', 'coef', 'intercept', 'features', 'iterations', 'converged']);
  expectTask(file, 'kind', context, ['regression']);
  const features = checkFeatures(file, o.features, context);
  return {
    kind: 'linear-regression',
    penalty: file.oneOf(o.penalty, 'penalty', PENALTIES),
    coef: Float64Array.from(file.numbers(o.coef, 'coef', features.length)),
    intercept: file.number(o.intercept, 'intercept'),
    features,
    iterations: file.number(o.iterations, 'iterations', { integer: true, min: 0 }),
    converged: file.boolean(o.converged, 'converged'),
  };
}

function readLogistic(file: JsonFile, raw: unknown, context: LearnerContext): LogisticRegressionModel {
  const o = file.object(raw, '', [
    'kind',
    'penalty',
    'classes',
    'coef',
    'intercept',
    'features',
    'iterations',
    'converged',
  ]);
  expectTask(file, 'kind', context, ['binary', 'multiclass']);
  const classes = file.number(o.classes, 'classes', { integer: true, min: 2 });
  if (classes !== context.classes) file.fail('classes', `is ${classes} but the manifest lists ${context.classes}`);
  const features = checkFeatures(file, o.features, context);
  const rows = classes === 2 ? 1 : classes;
  return {
    kind: 'logistic-regression',
    penalty: file.oneOf(o.penalty, 'penalty', PENALTIES),
    classes,
    coef: Float64Array.from(file.numbers(o.coef, 'coef', rows * features.length)),
    intercept: Float64Array.from(file.numbers(o.intercept, 'intercept', rows)),
    features,
    iterations: file.number(o.iterations, 'iterations', { integer: true, min: 0 }),
    converged: file.boolean(o.converged, 'converged'),
  };
}

/** Reads one boosted tree: equal-length node arrays, category sets only at categorical splits, a tree shape. */
function readTree(file: JsonFile, raw: unknown, path: string, featureCount: number, categorical: boolean): GbdtTree {
  const keys = ['feature', 'threshold', 'defaultLeft', 'left', 'right', 'value', 'gain', 'cover'];
  const o = file.object(raw, path, keys, ['categories']);
  const n = file.array(o.left, join(path, 'left')).length;
  if (n < 1) file.fail(join(path, 'left'), 'a tree needs at least one node');
  const ints = (key: string, min: number, max: number) =>
    file.numbers(o[key], join(path, key), n, { integer: true, min, max });
  const left = ints('left', -1, n - 1);
  const right = ints('right', -1, n - 1);
  const feature = ints('feature', -1, featureCount - 1);
  const defaultLeft = ints('defaultLeft', 0, 1);
  const threshold = file.numbers(o.threshold, join(path, 'threshold'), n, { nonFinite: true });
  const tree: GbdtTree = {
    feature,
    threshold,
    defaultLeft,
    left,
    right,
    value: file.numbers(o.value, join(path, 'value'), n),
    gain: file.numbers(o.gain, join(path, 'gain'), n),
    cover: file.numbers(o.cover, join(path, 'cover'), n),
  };
  let categories: (number[] | null)[] | undefined;
  if (o.categories !== undefined) {
    if (!categorical) file.fail(join(path, 'categories'), 'is present but the model has no categoricalFeatures');
    categories = file.array(o.categories, join(path, 'categories'), n).map((set, i) => {
      if (set === null) return null;
      const codes = file.numbers(set, `${join(path, 'categories')}[${i}]`, undefined, {
        integer: true,
        min: 0,
        max: MAX_CATEGORY_CODE,
      });
      if (codes.some((c, j) => j > 0 && c <= (codes[j - 1] as number))) {
        file.fail(`${join(path, 'categories')}[${i}]`, 'must list codes in increasing order without repeats');
      }
      return codes;
    });
    tree.categories = categories;
  }
  checkTreeShape(file, path, tree, categories);
  return tree;
}

/**
 * Checks that a tree's nodes form one tree: leaves have both children -1, inner nodes both children
 * inside the tree with a feature and a non-NaN threshold, and every node is reached exactly once from
 * the root (so no cycles and no shared subtrees).
 */
function checkTreeShape(
  file: JsonFile,
  path: string,
  tree: { left: number[]; right: number[]; feature: number[]; threshold: number[] },
  categories?: (number[] | null)[],
): void {
  const { left, right, feature, threshold } = tree;
  const n = left.length;
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  let reached = 1;
  while (stack.length > 0) {
    const id = stack.pop() as number;
    const l = left[id] as number;
    const r = right[id] as number;
    if ((l === -1) !== (r === -1)) file.fail(`${join(path, 'left')}[${id}]`, 'a node has both children or none');
    if (l === -1) {
      if (categories?.[id]) file.fail(`${join(path, 'categories')}[${id}]`, 'a leaf has no split categories');
      continue;
    }
    if ((feature[id] as number) < 0) file.fail(`${join(path, 'feature')}[${id}]`, 'an inner node needs a feature');
    if (Number.isNaN(threshold[id] as number)) file.fail(`${join(path, 'threshold')}[${id}]`, 'must not be NaN');
    for (const [key, child] of [
      ['left', l],
      ['right', r],
    ] as const) {
      if (child === 0 || seen[child] === 1) {
        file.fail(`${join(path, key)}[${id}]`, `node ${child} is reached twice: the nodes do not form a tree`);
      }
      seen[child] = 1;
      reached++;
      stack.push(child);
    }
  }
  if (reached !== n) file.fail(path, `${n - reached} of its ${n} nodes are not reachable from the root`);
}

function readGbdt(file: JsonFile, raw: unknown, context: LearnerContext): GbdtModel {
  const required = ['kind', 'formatVersion', 'objective', 'outputs', 'baseMargin', 'trees', 'features'];
  const o = file.object(raw, '', [...required, 'bestIteration', 'evalHistory'], ['categoricalFeatures']);
  file.oneOf(o.formatVersion, 'formatVersion', [1]);
  const objective = file.oneOf(o.objective, 'objective', OBJECTIVES);
  const task: Task =
    objective === 'binary:logistic' ? 'binary' : objective === 'multi:softprob' ? 'multiclass' : 'regression';
  expectTask(file, 'objective', context, [task]);
  const outputs = file.number(o.outputs, 'outputs', { integer: true, min: 1 });
  const expected = task === 'multiclass' ? context.classes : 1;
  if (outputs !== expected) file.fail('outputs', `is ${outputs}, expected ${expected} for ${objective}`);
  const features = checkFeatures(file, o.features, context);
  let categoricalFeatures: number[] | undefined;
  if (o.categoricalFeatures !== undefined) {
    categoricalFeatures = file.numbers(o.categoricalFeatures, 'categoricalFeatures', undefined, {
      integer: true,
      min: 0,
      max: features.length - 1,
    });
  }
  const rawTrees = file.array(o.trees, 'trees');
  if (rawTrees.length % outputs !== 0) file.fail('trees', `has ${rawTrees.length} trees, not a multiple of ${outputs}`);
  const trees = rawTrees.map((t, i) =>
    readTree(file, t, `trees[${i}]`, features.length, categoricalFeatures !== undefined),
  );
  let bits = 0;
  trees.forEach((t, i) => {
    t.categories?.forEach((set, j) => {
      if (set === null) return;
      if (!categoricalFeatures?.includes(t.feature[j] as number)) {
        file.fail(
          `trees[${i}].categories[${j}]`,
          `splits feature ${t.feature[j]}, which is not in categoricalFeatures`,
        );
      }
      bits += (set.at(-1) ?? 0) + 1;
    });
  });
  if (bits > 1 << 26) file.fail('trees', 'the categorical splits list too many codes');
  let evalHistory: GbdtModel['evalHistory'] = null;
  if (o.evalHistory !== null) {
    const h = file.object(o.evalHistory, 'evalHistory', ['metric', 'values']);
    evalHistory = {
      metric: file.oneOf(h.metric, 'evalHistory.metric', METRICS),
      values: file.numbers(h.values, 'evalHistory.values', undefined, { nonFinite: true }),
    };
  }
  const model: GbdtModel = {
    kind: 'gbdt',
    formatVersion: 1,
    objective,
    outputs,
    baseMargin: file.numbers(o.baseMargin, 'baseMargin', outputs),
    trees,
    features,
    bestIteration: file.number(o.bestIteration, 'bestIteration', { integer: true, min: -1 }),
    evalHistory,
  };
  if (categoricalFeatures !== undefined) model.categoricalFeatures = categoricalFeatures;
  return model;
}

function readForestTree(file: JsonFile, raw: unknown, path: string, featureCount: number, outputs: number): ForestTree {
  const keys = ['feature', 'threshold', 'defaultLeft', 'left', 'right', 'value', 'samples', 'weight'];
  const o = file.object(raw, path, keys);
  const n = file.array(o.left, join(path, 'left')).length;
  if (n < 1) file.fail(join(path, 'left'), 'a tree needs at least one node');
  const ints = (key: string, min: number, max: number) =>
    file.numbers(o[key], join(path, key), n, { integer: true, min, max });
  const tree: ForestTree = {
    feature: ints('feature', -1, featureCount - 1),
    threshold: file.numbers(o.threshold, join(path, 'threshold'), n, { nonFinite: true }),
    defaultLeft: ints('defaultLeft', 0, 1),
    left: ints('left', -1, n - 1),
    right: ints('right', -1, n - 1),
    value: file.numbers(o.value, join(path, 'value'), n * outputs),
    samples: ints('samples', 0, Number.MAX_SAFE_INTEGER),
    weight: file.numbers(o.weight, join(path, 'weight'), n, { min: 0 }),
  };
  checkTreeShape(file, path, tree);
  return tree;
}

function readForest(file: JsonFile, raw: unknown, context: LearnerContext): ForestModel {
  const keys = ['kind', 'formatVersion', 'task', 'classes', 'outputs', 'criterion', 'features', 'trees'];
  const o = file.object(raw, '', [...keys, 'featureImportances', 'oobScore']);
  file.oneOf(o.formatVersion, 'formatVersion', [1]);
  const task = file.oneOf(o.task, 'task', ['classification', 'regression'] as const);
  expectTask(file, 'task', context, task === 'regression' ? ['regression'] : ['binary', 'multiclass']);
  const classes = file.number(o.classes, 'classes', { integer: true, min: 0 });
  if (classes !== context.classes) file.fail('classes', `is ${classes} but the manifest lists ${context.classes}`);
  const outputs = file.number(o.outputs, 'outputs', { integer: true, min: 1 });
  if (outputs !== Math.max(1, classes)) file.fail('outputs', `is ${outputs}, expected ${Math.max(1, classes)}`);
  const criterion = file.oneOf(
    o.criterion,
    'criterion',
    task === 'regression' ? (['squared_error'] as const) : (['gini', 'entropy'] as const),
  );
  const features = checkFeatures(file, o.features, context);
  const trees = file
    .array(o.trees, 'trees')
    .map((t, i) => readForestTree(file, t, `trees[${i}]`, features.length, outputs));
  if (trees.length === 0) file.fail('trees', 'a forest needs at least one tree');
  return {
    kind: 'forest',
    formatVersion: 1,
    task,
    classes,
    outputs,
    criterion,
    features,
    trees,
    featureImportances: file.numbers(o.featureImportances, 'featureImportances', features.length, { min: 0 }),
    oobScore: o.oobScore === null ? null : file.number(o.oobScore, 'oobScore', { nonFinite: true }),
  };
}

/**
 * Reads and checks `learner.json` against what the rest of the package says (task, classes,
 * preprocessing output columns), returning the in-memory learner with typed arrays restored.
 *
 * @example
 * const learner = readLearner(parsed, { task: 'binary', features: pipeline.names, classes: 2 });
 */
export function readLearner(raw: unknown, context: LearnerContext): LearnerModel {
  const file = new JsonFile('learner.json');
  const kind = file.oneOf(file.object(raw, '', ['kind'], Object.keys(raw ?? {})).kind, 'kind', LEARNER_KINDS);
  switch (kind) {
    case 'linear-regression':
      return readLinear(file, raw, context);
    case 'logistic-regression':
      return readLogistic(file, raw, context);
    case 'gbdt':
      return readGbdt(file, raw, context);
    case 'forest':
      return readForest(file, raw, context);
  }
}
