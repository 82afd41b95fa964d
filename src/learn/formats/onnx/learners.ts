import { invalidParameter } from '../../../core/index.js';
import type { ForestModel } from '../../forest/index.js';
import type { GbdtModel } from '../../gbdt/index.js';
import type { LinearRegressionModel } from '../../linear.js';
import type { LogisticRegressionModel } from '../../logistic.js';
import { attr, ELEM, type OnnxGraph } from './proto.js';

/** A learner's graph outputs: regression values [N, 1], or class probabilities [N, classes]; both double. */
export type LearnerOutput = { kind: 'values'; value: string } | { kind: 'probabilities'; value: string };

function toDouble(g: OnnxGraph, value: string): string {
  return g.node('Cast', [value], { to: attr.int(ELEM.double) })[0] as string;
}

/** X · Wᵀ + b for a row-major `rows × p` weight matrix: [N, rows]. */
function affine(g: OnnxGraph, x: string, coef: Float64Array, intercept: readonly number[], p: number): string {
  const rows = intercept.length;
  const transposed = new Array<number>(p * rows);
  for (let r = 0; r < rows; r++) for (let j = 0; j < p; j++) transposed[j * rows + r] = coef[r * p + j] as number;
  const w = g.constant('coef', { type: 'double', dims: [p, rows], values: transposed });
  const b = g.constant('intercept', { type: 'double', dims: [rows], values: [...intercept] });
  const product = g.node('MatMul', [x, w])[0] as string;
  return g.node('Add', [product, b])[0] as string;
}

/** Linear regression: MatMul and Add in double precision. */
export function linearGraph(g: OnnxGraph, x: string, model: LinearRegressionModel): LearnerOutput {
  return { kind: 'values', value: affine(g, x, model.coef, [model.intercept], model.features.length) };
}

/** Logistic regression: [1 − σ(z), σ(z)] for two classes, softmax over the class scores for more. */
export function logisticGraph(g: OnnxGraph, x: string, model: LogisticRegressionModel): LearnerOutput {
  const z = affine(g, x, model.coef, [...model.intercept], model.features.length);
  if (model.classes > 2)
    return { kind: 'probabilities', value: g.node('Softmax', [z], { axis: attr.int(1) })[0] as string };
  const p1 = g.node('Sigmoid', [z])[0] as string;
  const one = g.constant('one', { type: 'double', dims: [1], values: [1] });
  const p0 = g.node('Sub', [one, p1])[0] as string;
  return { kind: 'probabilities', value: g.node('Concat', [p0, p1], { axis: attr.int(1) })[0] as string };
}

/** The node attributes of a tree ensemble, in ai.onnx.ml TreeEnsemble{Regressor,Classifier} layout. */
class EnsembleNodes {
  readonly treeIds: number[] = [];
  readonly nodeIds: number[] = [];
  readonly featureIds: number[] = [];
  readonly modes: string[] = [];
  readonly values: number[] = [];
  readonly trueIds: number[] = [];
  readonly falseIds: number[] = [];
  readonly missingTrue: number[] = [];
  readonly leafTreeIds: number[] = [];
  readonly leafNodeIds: number[] = [];
  readonly leafTargets: number[] = [];
  readonly leafWeights: number[] = [];

  add(tree: number, node: number, mode: string, feature: number, value: number, t: number, f: number, missing: number) {
    this.treeIds.push(tree);
    this.nodeIds.push(node);
    this.modes.push(mode);
    this.featureIds.push(feature);
    this.values.push(value);
    this.trueIds.push(t);
    this.falseIds.push(f);
    this.missingTrue.push(missing);
  }

  leaf(tree: number, node: number, target: number, weight: number) {
    this.add(tree, node, 'LEAF', 0, 0, 0, 0, 0);
    this.leafTreeIds.push(tree);
    this.leafNodeIds.push(node);
    this.leafTargets.push(target);
    this.leafWeights.push(weight);
  }

  /** The attributes shared by both operators; `prefix` is `target` (regressor) or `class` (classifier). */
  attributes(prefix: 'target' | 'class') {
    return {
      nodes_treeids: attr.ints(this.treeIds),
      nodes_nodeids: attr.ints(this.nodeIds),
      nodes_featureids: attr.ints(this.featureIds),
      nodes_modes: attr.strings(this.modes),
      nodes_values_as_tensor: attr.tensor({ type: 'double', dims: [this.values.length], values: this.values }),
      nodes_truenodeids: attr.ints(this.trueIds),
      nodes_falsenodeids: attr.ints(this.falseIds),
      nodes_missing_value_tracks_true: attr.ints(this.missingTrue),
      [`${prefix}_treeids`]: attr.ints(this.leafTreeIds),
      [`${prefix}_nodeids`]: attr.ints(this.leafNodeIds),
      [`${prefix}_ids`]: attr.ints(this.leafTargets),
      [`${prefix}_weights_as_tensor`]: attr.tensor({
        type: 'double',
        dims: [this.leafWeights.length],
        values: this.leafWeights,
      }),
    };
  }
}

/**
 * Adds one boosted tree. Kiln's numeric split "left when x < threshold" is BRANCH_LT with the
 * threshold as a double; a categorical split "left when the code is in the set" becomes a chain of
 * BRANCH_EQ nodes (one per code, appended after the tree's own nodes), each sending matches left and
 * the rest down the chain and finally right. Missing values follow `defaultLeft` through
 * `nodes_missing_value_tracks_true` on the chain's first node.
 */
function addGbdtTree(nodes: EnsembleNodes, model: GbdtModel, t: number): void {
  const tree = model.trees[t] as GbdtModel['trees'][number];
  const target = t % model.outputs;
  const treeId = t;
  let extra = tree.feature.length;
  for (let j = 0; j < tree.feature.length; j++) {
    const left = tree.left[j] as number;
    if (left === -1) {
      nodes.leaf(treeId, j, target, tree.value[j] as number);
      continue;
    }
    const right = tree.right[j] as number;
    const feature = tree.feature[j] as number;
    const missing = tree.defaultLeft[j] as number;
    const set = tree.categories?.[j];
    if (!set) {
      nodes.add(treeId, j, 'BRANCH_LT', feature, tree.threshold[j] as number, left, right, missing);
      continue;
    }
    if (set.length === 0) {
      nodes.add(treeId, j, 'BRANCH_LT', feature, Number.NEGATIVE_INFINITY, left, right, missing);
      continue;
    }
    let id = j;
    set.forEach((code, i) => {
      const last = i === set.length - 1;
      const next = last ? right : extra++;
      nodes.add(treeId, id, 'BRANCH_EQ', feature, code, left, next, i === 0 ? missing : 0);
      id = next;
    });
  }
}

/**
 * Gradient-boosted trees as ai.onnx.ml TreeEnsembleRegressor (`reg:squarederror`) or
 * TreeEnsembleClassifier (`binary:logistic` with the LOGISTIC post-transform on one score, or
 * `multi:softprob` with SOFTMAX over one score per class, trees assigned round-robin to classes),
 * `base_values` holding the base margins.
 */
export function gbdtGraph(g: OnnxGraph, x: string, model: GbdtModel, classes: readonly string[]): LearnerOutput {
  const nodes = new EnsembleNodes();
  for (let t = 0; t < model.trees.length; t++) addGbdtTree(nodes, model, t);
  const base = attr.tensor({ type: 'double', dims: [model.baseMargin.length], values: model.baseMargin });
  if (model.objective === 'reg:squarederror') {
    const [y] = g.node(
      'TreeEnsembleRegressor',
      [x],
      {
        ...nodes.attributes('target'),
        n_targets: attr.int(1),
        base_values_as_tensor: base,
        post_transform: attr.string('NONE'),
      },
      { domain: 'ai.onnx.ml' },
    );
    return { kind: 'values', value: toDouble(g, y as string) };
  }
  const [, probabilities] = g.node(
    'TreeEnsembleClassifier',
    [x],
    {
      ...nodes.attributes('class'),
      classlabels_strings: attr.strings(classes),
      base_values_as_tensor: base,
      post_transform: attr.string(model.objective === 'binary:logistic' ? 'LOGISTIC' : 'SOFTMAX'),
    },
    { domain: 'ai.onnx.ml', outputCount: 2 },
  );
  return { kind: 'probabilities', value: toDouble(g, probabilities as string) };
}

/**
 * A random forest as TreeEnsembleRegressor (`aggregate_function` AVERAGE) or TreeEnsembleClassifier
 * (which always sums, so each leaf's class probabilities are stored divided by the number of trees):
 * Kiln's "left when x ≤ threshold" is BRANCH_LEQ, and a leaf adds one weight per class.
 */
export function forestGraph(g: OnnxGraph, x: string, model: ForestModel, classes: readonly string[]): LearnerOutput {
  const nodes = new EnsembleNodes();
  const k = model.outputs;
  const share = model.task === 'regression' ? 1 : 1 / model.trees.length;
  model.trees.forEach((tree, t) => {
    for (let j = 0; j < tree.feature.length; j++) {
      const left = tree.left[j] as number;
      if (left === -1) {
        // One LEAF node row per tree node; the class weights of a leaf are separate leaf entries.
        nodes.add(t, j, 'LEAF', 0, 0, 0, 0, 0);
        for (let c = 0; c < k; c++) {
          nodes.leafTreeIds.push(t);
          nodes.leafNodeIds.push(j);
          nodes.leafTargets.push(c);
          nodes.leafWeights.push((tree.value[j * k + c] as number) * share);
        }
        continue;
      }
      const threshold = tree.threshold[j] as number;
      const feature = tree.feature[j] as number;
      nodes.add(t, j, 'BRANCH_LEQ', feature, threshold, left, tree.right[j] as number, tree.defaultLeft[j] as number);
    }
  });
  const none = { post_transform: attr.string('NONE') };
  if (model.task === 'regression') {
    const [y] = g.node(
      'TreeEnsembleRegressor',
      [x],
      { ...nodes.attributes('target'), ...none, aggregate_function: attr.string('AVERAGE'), n_targets: attr.int(1) },
      { domain: 'ai.onnx.ml' },
    );
    return { kind: 'values', value: toDouble(g, y as string) };
  }
  if (classes.length !== k)
    throw invalidParameter('classes', `has ${classes.length} labels for a forest of ${k} classes`);
  const [, probabilities] = g.node(
    'TreeEnsembleClassifier',
    [x],
    { ...nodes.attributes('class'), ...none, classlabels_strings: attr.strings(classes) },
    { domain: 'ai.onnx.ml', outputCount: 2 },
  );
  return { kind: 'probabilities', value: toDouble(g, probabilities as string) };
}
