import * as ort from 'onnxruntime-node';
import { invalidParameter, KilnError } from '../../core/index.js';
import {
  type Column,
  type Frame,
  type ModelSignature,
  ONNX_MISSING_CATEGORY,
  ONNX_OUTPUTS,
  type SignatureType,
  type Task,
} from '../../learn/index.js';
import type { Predictor, PredictorOutput, ServingInput } from '../types.js';
import { modelFileError } from './file-error.js';
import { unloaded } from './kiln.js';
import { OnnxFormatError, type OnnxHeader, readOnnxHeader } from './onnx-header.js';
import { argmaxLabels, classifierTask, indexClasses, signatureFor } from './signature.js';

type TensorMeta = ort.InferenceSession.TensorValueMetadata;

/** Tensor element types a column may be fed as. */
type ColumnElement = 'float64' | 'float32' | 'string' | 'int64' | 'int32';
const COLUMN_ELEMENTS: readonly string[] = ['float64', 'float32', 'string', 'int64', 'int32'];

/** How a frame becomes the model's feeds. */
type Feeds =
  /** One `[N, 1]` (or `[N]`) tensor per column: Kiln's export and many converters' multi-input graphs. */
  | { layout: 'columns'; columns: { input: ServingInput; element: ColumnElement; rank: number }[] }
  /** One `[N, F]` float tensor whose F columns are the inputs, in order. */
  | { layout: 'matrix'; tensor: string; element: 'float32' | 'float64'; inputs: ServingInput[] };

/** Which outputs answer, and how. */
type Outputs =
  | { task: 'regression'; value: string }
  | { task: Task; classes: string[]; label?: string; probabilities?: string };

/** Options of {@link onnxPredictorFromBytes}. */
export interface OnnxPredictorOptions {
  /** Threads onnxruntime uses inside one run; default 1 (a server runs many requests side by side). */
  intraOpThreads?: number;
}

function shapeOf(meta: TensorMeta): string {
  return `[${meta.shape.map((d) => (typeof d === 'number' ? String(d) : d === '' ? '?' : d)).join(', ')}]`;
}

function jsonMetadata(header: OnnxHeader, key: string, file: string, field: string): unknown {
  const raw = header.metadata.get(key);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw modelFileError(field, file, `metadata '${key}' is not valid JSON`);
  }
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Distinct names from metadata `key`, written as a JSON array of strings or a comma-separated list. */
function namesFromMetadata(header: OnnxHeader, key: string): string[] | undefined {
  const raw = header.metadata.get(key);
  if (raw === undefined) return undefined;
  let names: string[] | undefined;
  try {
    names = stringList(JSON.parse(raw));
  } catch {
    names = raw.split(',').map((s) => s.trim());
  }
  return names !== undefined && new Set(names).size === names.length ? names : undefined;
}

/** Names from metadata `feature_names`, if it holds `count` of them. */
function featureNames(header: OnnxHeader, count: number): string[] | undefined {
  const names = namesFromMetadata(header, 'feature_names');
  return names?.length === count ? names : undefined;
}

/** The model's signature types by column, from the `kiln.signature` metadata Kiln's export writes. */
function kilnTypes(header: OnnxHeader, file: string, field: string): Map<string, SignatureType> {
  const signature = jsonMetadata(header, 'kiln.signature', file, field) as ModelSignature | undefined;
  const types = new Map<string, SignatureType>();
  if (signature === undefined) return types;
  if (!Array.isArray(signature?.inputs)) throw modelFileError(field, file, "metadata 'kiln.signature' has no inputs");
  for (const input of signature.inputs) {
    if (typeof input?.name === 'string' && typeof input.type === 'string') types.set(input.name, input.type);
  }
  return types;
}

/**
 * The signature a Kiln export carries in `kiln.signature`, when it names exactly the graph's
 * inputs: the same one the Kiln package reports, so both flavours describe the model alike.
 */
function kilnSignature(header: OnnxHeader, feeds: Feeds): ModelSignature | undefined {
  const raw = header.metadata.get('kiln.signature');
  if (raw === undefined || feeds.layout !== 'columns') return undefined;
  let signature: ModelSignature;
  try {
    signature = JSON.parse(raw) as ModelSignature;
  } catch {
    return undefined;
  }
  if (!Array.isArray(signature?.inputs) || !Array.isArray(signature.outputs)) return undefined;
  const names = new Set(signature.inputs.map((i) => i?.name));
  const fits = names.size === feeds.columns.length && feeds.columns.every((c) => names.has(c.input.name));
  return fits ? signature : undefined;
}

/** Signature types a string tensor and a number tensor may stand for. */
const STRING_TYPES: readonly SignatureType[] = ['string', 'categorical', 'boolean', 'integer'];
const NUMBER_TYPES: readonly SignatureType[] = ['float', 'integer'];

function columnInput(meta: TensorMeta, kiln: boolean, types: Map<string, SignatureType>): ServingInput {
  const declared = types.get(meta.name);
  switch (meta.type) {
    case 'string': {
      const type = declared !== undefined && STRING_TYPES.includes(declared) ? declared : 'string';
      return { name: meta.name, kind: 'categorical', type, nullable: kiln };
    }
    case 'int64':
    case 'int32':
      return { name: meta.name, kind: 'float', type: 'integer', nullable: false };
    default:
      return declared === 'datetime'
        ? { name: meta.name, kind: 'datetime', type: 'datetime', nullable: kiln }
        : {
            name: meta.name,
            kind: 'float',
            type: declared !== undefined && NUMBER_TYPES.includes(declared) ? declared : 'float',
            nullable: kiln,
          };
  }
}

/**
 * Maps the graph's inputs to columns. A single 2-D float tensor with a fixed width F > 1 (or with
 * `feature_names` metadata) is a matrix of F float columns, named from the metadata or
 * `<input>_0…`; otherwise each input must be one column, `[N]` or `[N, 1]`. Kiln's own exports
 * (metadata `kiln.task`) accept missing values as the export does — NaN and the empty string; for
 * other graphs nothing is known about missing values, so inputs are not nullable and a request
 * with nulls is refused rather than answered with NaN.
 */
function planFeeds(session: ort.InferenceSession, header: OnnxHeader, file: string, field: string): Feeds {
  const metas = session.inputMetadata.map((meta) => {
    if (!meta.isTensor) throw modelFileError(field, file, `input '${meta.name}' is not a tensor; Kiln feeds tensors`);
    return meta;
  });
  if (metas.length === 0) throw modelFileError(field, file, 'the graph has no inputs');
  const kiln = header.metadata.has('kiln.task');
  const only = metas[0] as TensorMeta;
  const width = only.shape[1];
  if (
    !kiln &&
    metas.length === 1 &&
    only.shape.length === 2 &&
    (only.type === 'float32' || only.type === 'float64') &&
    typeof width === 'number' &&
    width >= 1 &&
    (width > 1 || featureNames(header, 1) !== undefined)
  ) {
    const names = featureNames(header, width) ?? Array.from({ length: width }, (_, i) => `${only.name}_${i}`);
    const inputs = names.map((name): ServingInput => ({ name, kind: 'float', type: 'float', nullable: false }));
    return { layout: 'matrix', tensor: only.name, element: only.type, inputs };
  }
  const types = kilnTypes(header, file, field);
  const columns = metas.map((meta) => {
    const rank = meta.shape.length;
    if (!COLUMN_ELEMENTS.includes(meta.type)) {
      throw modelFileError(
        field,
        file,
        `input '${meta.name}' is a ${meta.type} tensor; Kiln feeds double, float, string, int64 or int32`,
      );
    }
    if (!(rank === 1 || (rank === 2 && (meta.shape[1] === 1 || typeof meta.shape[1] !== 'number')))) {
      throw modelFileError(
        field,
        file,
        `input '${meta.name}' has shape ${shapeOf(meta)}; Kiln feeds one [N, F] float tensor or one [N, 1] tensor per column`,
      );
    }
    return { input: columnInput(meta, kiln, types), element: meta.type as ColumnElement, rank };
  });
  return { layout: 'columns', columns };
}

function rankOf(meta: TensorMeta): number {
  return meta.shape.length;
}

/**
 * Maps the graph's outputs. Kiln's export: `prediction` (+ `probabilities`), task and classes from
 * its metadata. Other graphs: a string / integer tensor is the label and a 2-D float tensor the
 * class probabilities (a classifier; labels from metadata `classes`, the classifier node's
 * `classlabels_*`, or `0…k-1`); otherwise the first float tensor is a regression's value.
 * Non-tensor outputs (sklearn-onnx's ZipMap) are not fetched.
 */
function planOutputs(session: ort.InferenceSession, header: OnnxHeader, file: string, field: string): Outputs {
  const tensors = session.outputMetadata.filter((m): m is TensorMeta => m.isTensor);
  const task = header.metadata.get('kiln.task');
  if (task !== undefined) {
    const has = (name: string) => tensors.some((t) => t.name === name);
    if (!has(ONNX_OUTPUTS.prediction)) throw modelFileError(field, file, "a Kiln export without a 'prediction' output");
    if (task === 'regression') return { task, value: ONNX_OUTPUTS.prediction };
    const classes = stringList(jsonMetadata(header, 'kiln.classes', file, field));
    if ((task !== 'binary' && task !== 'multiclass') || classes === undefined || classes.length < 2) {
      throw modelFileError(field, file, `metadata 'kiln.task' / 'kiln.classes' do not describe a classifier`);
    }
    const out: Outputs = { task, classes, label: ONNX_OUTPUTS.prediction };
    if (has(ONNX_OUTPUTS.probabilities)) out.probabilities = ONNX_OUTPUTS.probabilities;
    return out;
  }
  const floats = tensors.filter((t) => t.type === 'float32' || t.type === 'float64');
  const label = tensors.find((t) => ['string', 'int64', 'int32'].includes(t.type) && rankOf(t) <= 2);
  const probabilities = floats.find((t) => {
    const k = t.shape[1];
    return rankOf(t) === 2 && (/prob/i.test(t.name) || (typeof k === 'number' && k >= 2));
  });
  if (label === undefined && probabilities === undefined) {
    const value = floats.find((t) => rankOf(t) === 1 || (rankOf(t) === 2 && t.shape[1] === 1));
    if (value === undefined) {
      const names = session.outputNames.join(', ');
      throw modelFileError(
        field,
        file,
        `no output Kiln can read (${names}); it needs a float value, or a label and / or a [N, classes] probability tensor`,
      );
    }
    return { task: 'regression', value: value.name };
  }
  const width = probabilities?.shape[1];
  const classes =
    namesFromMetadata(header, 'classes') ??
    header.classLabels ??
    (typeof width === 'number' ? indexClasses(width) : undefined) ??
    (() => {
      throw modelFileError(
        field,
        file,
        "a classifier whose classes are unknown; add metadata 'classes' (a JSON array)",
      );
    })();
  if (classes.length < 2 || (typeof width === 'number' && width !== classes.length)) {
    throw modelFileError(field, file, `has ${classes.length} class labels for ${String(width)} probability columns`);
  }
  const out: Outputs = { task: classifierTask(classes.length), classes };
  if (label !== undefined) out.label = label.name;
  if (probabilities !== undefined) out.probabilities = probabilities.name;
  return out;
}

function columnOf(frame: Frame, input: ServingInput): Column {
  const col = frame.columns.find((c) => c.name === input.name);
  if (col === undefined) throw invalidParameter(`columns.${input.name}`, 'missing; the model needs it');
  if (col.kind !== input.kind) {
    throw invalidParameter(`columns.${input.name}`, `is ${col.kind} but the model reads ${input.kind} values`);
  }
  return col;
}

function numbers(col: Column, rows: number): Float64Array {
  if (col.kind === 'categorical') throw new Error('numbers of a categorical column');
  return col.values.length === rows ? col.values : col.values.subarray(0, rows);
}

function columnTensor(frame: Frame, spec: { input: ServingInput; element: ColumnElement; rank: number }): ort.Tensor {
  const { input, element, rank } = spec;
  const rows = frame.rows;
  const dims = rank === 1 ? [rows] : [rows, 1];
  const col = columnOf(frame, input);
  if (col.kind === 'categorical') {
    const labels = new Array<string>(rows);
    for (let r = 0; r < rows; r++) {
      const code = col.codes[r] as number;
      labels[r] = code < 0 ? ONNX_MISSING_CATEGORY : (col.dictionary[code] as string);
    }
    return new ort.Tensor('string', labels, dims);
  }
  const values = numbers(col, rows);
  switch (element) {
    case 'float64':
      return new ort.Tensor('float64', values, dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'int64':
    case 'int32': {
      for (let r = 0; r < rows; r++) {
        if (!Number.isSafeInteger(values[r] as number)) {
          throw invalidParameter(`columns.${input.name}`, `row ${r} is ${values[r]}; the model needs whole numbers`);
        }
      }
      return element === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(values, (v) => BigInt(v)),
            dims,
          )
        : new ort.Tensor('int32', Int32Array.from(values), dims);
    }
    default:
      throw new Error(`no tensor of ${element} for a numeric column`);
  }
}

function matrixTensor(frame: Frame, feeds: Extract<Feeds, { layout: 'matrix' }>): ort.Tensor {
  const rows = frame.rows;
  const width = feeds.inputs.length;
  const data = feeds.element === 'float32' ? new Float32Array(rows * width) : new Float64Array(rows * width);
  feeds.inputs.forEach((input, j) => {
    const values = numbers(columnOf(frame, input), rows);
    for (let r = 0; r < rows; r++) data[r * width + j] = values[r] as number;
  });
  return feeds.element === 'float32'
    ? new ort.Tensor('float32', data as Float32Array, [rows, width])
    : new ort.Tensor('float64', data as Float64Array, [rows, width]);
}

function floatsOf(value: ort.OnnxValue | undefined, name: string): Float64Array {
  const data = (value as ort.Tensor | undefined)?.data;
  if (data instanceof Float64Array) return data;
  if (data instanceof Float32Array) return Float64Array.from(data);
  throw new KilnError('INTERNAL_ERROR', `ONNX output '${name}' is not a float tensor`);
}

function labelsOf(value: ort.OnnxValue | undefined, name: string): string[] {
  const data = (value as ort.Tensor | undefined)?.data as unknown;
  if (Array.isArray(data)) return data as string[];
  if (data instanceof BigInt64Array || data instanceof Int32Array)
    return Array.from(data as ArrayLike<unknown>, String);
  throw new KilnError('INTERNAL_ERROR', `ONNX output '${name}' is not a label tensor`);
}

/** An onnxruntime session behind the {@link Predictor} interface. */
class OnnxPredictor implements Predictor {
  readonly flavour = 'onnx' as const;
  readonly task: Task;
  readonly inputs: readonly ServingInput[];
  readonly classes?: readonly string[];
  readonly signature: ModelSignature;
  private readonly fetches: string[];
  private released: Promise<void> | undefined;
  /** Runs not yet finished: close waits for them, since releasing a session under a run is unsafe. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Feeds,
    private readonly outputs: Outputs,
    signature: ModelSignature | undefined,
  ) {
    this.task = outputs.task;
    this.inputs = feeds.layout === 'matrix' ? feeds.inputs : feeds.columns.map((c) => c.input);
    if ('classes' in outputs) this.classes = outputs.classes;
    this.signature = signature ?? signatureFor(this.inputs, this.task, this.classes);
    this.fetches =
      'value' in outputs
        ? [outputs.value]
        : [outputs.label, outputs.probabilities].filter((n): n is string => n !== undefined);
  }

  async predict(frame: Frame): Promise<PredictorOutput> {
    if (this.released !== undefined) throw unloaded();
    const rows = frame.rows;
    const outputs = this.outputs;
    if (rows === 0) {
      return 'value' in outputs
        ? { prediction: new Float64Array(0) }
        : { prediction: [], ...(outputs.probabilities === undefined ? {} : { probabilities: new Float64Array(0) }) };
    }
    const feeds: Record<string, ort.Tensor> = {};
    if (this.feeds.layout === 'matrix') feeds[this.feeds.tensor] = matrixTensor(frame, this.feeds);
    else for (const spec of this.feeds.columns) feeds[spec.input.name] = columnTensor(frame, spec);
    const run = this.session.run(feeds, this.fetches);
    this.running.add(run);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await run;
    } finally {
      this.running.delete(run);
    }
    if ('value' in outputs) return { prediction: checked(floatsOf(result[outputs.value], outputs.value), rows) };
    const k = outputs.classes.length;
    const probabilities =
      outputs.probabilities === undefined
        ? undefined
        : checked(floatsOf(result[outputs.probabilities], outputs.probabilities), rows * k);
    const prediction =
      outputs.label !== undefined
        ? checked(labelsOf(result[outputs.label], outputs.label), rows)
        : argmaxLabels(probabilities as Float64Array, k, outputs.classes);
    return probabilities === undefined ? { prediction } : { prediction, probabilities };
  }

  close(): Promise<void> {
    this.released ??= Promise.allSettled([...this.running]).then(() => this.session.release());
    return this.released;
  }
}

function checked<T extends { length: number }>(values: T, length: number): T {
  if (values.length !== length) {
    throw new KilnError('INTERNAL_ERROR', `the ONNX model answered ${values.length} values where ${length} were due`);
  }
  return values;
}

/**
 * Loads an ONNX model from its bytes into an onnxruntime session and maps its graph to columns
 * (see the layouts in `planFeeds`) and its outputs to predictions and probabilities. The bytes are
 * checked as a protobuf ModelProto first, so a corrupt or truncated file is a 400 naming `file`
 * under `field`; onnxruntime runs only the standard operator sets (no custom-op libraries are
 * registered), so loading executes no code from the file.
 *
 * @example
 * const predictor = await onnxPredictorFromBytes(readFileSync('model.onnx'), 'model.onnx');
 * await predictor.predict(frame); // { prediction: ['Adelie', …], probabilities: Float64Array }
 * await predictor.close();
 */
export async function onnxPredictorFromBytes(
  bytes: Uint8Array,
  file: string,
  field = 'model',
  options: OnnxPredictorOptions = {},
): Promise<Predictor> {
  let header: OnnxHeader;
  try {
    header = readOnnxHeader(bytes);
  } catch (error) {
    if (!(error instanceof OnnxFormatError)) throw error;
    throw modelFileError(field, file, `is not a valid ONNX model (${error.message})`, error);
  }
  if (header.externalData) {
    throw modelFileError(
      field,
      file,
      'keeps tensors in external data files; Kiln serves self-contained ONNX files only (a model must not make the server read other paths)',
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw modelFileError(field, file, `onnxruntime cannot load it: ${(error as Error).message}`, error);
  }
  try {
    const feeds = planFeeds(session, header, file, field);
    return new OnnxPredictor(session, feeds, planOutputs(session, header, file, field), kilnSignature(header, feeds));
  } catch (error) {
    await session.release();
    throw error;
  }
}
