import { invalidParameter, KILN_VERSION } from '../../../core/index.js';
import type { TrainedModel } from '../../model.js';
import { forestGraph, gbdtGraph, type LearnerOutput, linearGraph, logisticGraph } from './learners.js';
import { pipelineGraph } from './preprocess.js';
import { attr, encodeModel, OnnxGraph } from './proto.js';

/** Names of the exported graph's outputs. */
export const ONNX_OUTPUTS = { prediction: 'prediction', probabilities: 'probabilities' } as const;

function learnerGraph(g: OnnxGraph, x: string, model: TrainedModel): LearnerOutput {
  const { learner } = model;
  const classes = model.classes ?? [];
  switch (learner.kind) {
    case 'linear-regression':
      return linearGraph(g, x, learner);
    case 'logistic-regression':
      return logisticGraph(g, x, learner);
    case 'gbdt':
      return gbdtGraph(g, x, learner, classes);
    case 'forest':
      return forestGraph(g, x, learner, classes);
  }
}

/**
 * Exports a trained model — its preprocessing and its learner — as an ONNX model (IR 8, opsets
 * ai.onnx 17 and ai.onnx.ml 3) that onnxruntime and other ONNX runtimes can serve.
 *
 * Inputs: one `[N, 1]` tensor per column the preprocessing reads, named after the column: double for
 * numbers (NaN = missing) and dates (milliseconds since the Unix epoch, UTC), string for categories
 * (the empty string = missing). Outputs: `prediction` — `[N]` doubles for regression, `[N]` class
 * labels (strings) for classification — and for classifiers `probabilities`, `[N, classes]` doubles in
 * the order of `model.classes` (also in the metadata property `kiln.classes`). The metadata property
 * `kiln.signature` holds the model's signature as JSON, so a server tells clients the column types
 * (a double input may be a number or a date) without the Kiln package.
 *
 * Everything Kiln's preprocessing does has an exact ONNX form, computed in double precision; a
 * category spelled as the empty string is refused (KilnError INVALID_PARAMETER_VALUE naming the
 * step), since that string stands for a missing value.
 *
 * @example
 * const bytes = exportOnnx(model);
 * const session = await ort.InferenceSession.create(bytes);
 * const out = await session.run({ island: new ort.Tensor('string', ['Biscoe'], [1, 1]), … });
 */
export function exportOnnx(model: TrainedModel): Uint8Array {
  const g = new OnnxGraph();
  const inputs = new Set(model.preprocessing.columns.map((c) => c.name));
  for (const name of Object.values(ONNX_OUTPUTS)) {
    if (inputs.has(name)) {
      throw invalidParameter(
        `columns.${name}`,
        `an input column may not be named '${name}', the name of an ONNX output`,
      );
    }
  }
  for (const name of Object.values(ONNX_OUTPUTS)) g.claim(name);
  const x = pipelineGraph(g, model.preprocessing);
  const output = learnerGraph(g, x, model);
  if (output.kind === 'values') {
    const axes = g.constant('axes', { type: 'int64', dims: [1], values: [1] });
    if (model.task !== 'regression') throw invalidParameter('task', `is ${model.task} but the learner is a regressor`);
    g.node('Squeeze', [output.value, axes], {}, { outputs: [ONNX_OUTPUTS.prediction] });
    g.output({ name: ONNX_OUTPUTS.prediction, type: 'double', dims: ['N'] });
  } else {
    const classes = model.classes ?? [];
    if (classes.length < 2) throw invalidParameter('classes', 'a classifier needs its class labels');
    g.node('Identity', [output.value], {}, { outputs: [ONNX_OUTPUTS.probabilities] });
    const best = g.node('ArgMax', [output.value], { axis: attr.int(1), keepdims: attr.int(0) })[0] as string;
    const labels = g.constant('classes', { type: 'string', dims: [classes.length], values: classes });
    g.node('Gather', [labels, best], { axis: attr.int(0) }, { outputs: [ONNX_OUTPUTS.prediction] });
    g.output({ name: ONNX_OUTPUTS.prediction, type: 'string', dims: ['N'] });
    g.output({ name: ONNX_OUTPUTS.probabilities, type: 'double', dims: ['N', classes.length] });
  }
  return encodeModel(g, {
    name: `kiln ${model.learner.kind} ${model.task} for ${model.target}`,
    producerVersion: KILN_VERSION,
    docString: 'Exported by Kiln: preprocessing and learner; inputs are the columns, NaN or "" for missing values.',
    metadata: {
      'kiln.task': model.task,
      'kiln.target': model.target,
      'kiln.learner': model.learner.kind,
      'kiln.classes': JSON.stringify(model.classes ?? []),
      'kiln.features': JSON.stringify(model.preprocessing.names),
      'kiln.signature': JSON.stringify(model.signature),
    },
  });
}
