import { invalidParameter } from '../../core/index.js';
import {
  type BatchTable,
  describeJsonValue,
  type EndpointModel,
  type InferenceResult,
  memberField,
  predictionList,
  type ServingInput,
} from '../../serving/index.js';
import { INFERENCE_HEADER_NAME, type OipBody } from './binary.js';
import {
  checkElement,
  datatypeFamily,
  decodeBinary,
  elementSize,
  encodeBinary,
  isOipDatatype,
  OIP_DATATYPES,
  type OipDatatype,
} from './datatypes.js';

/** A parameter value: the spec allows only scalars. */
export type OipScalar = string | number | boolean;

/** One input tensor of an inference request, checked against its datatype and shape. */
export interface RequestTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  /** The elements, flattened in row-major order; length = product(shape). */
  values: readonly unknown[];
  /** The request field of the tensor: `inputs[2]`. */
  field: string;
}

/** One output a request asks for, and whether it wants it as binary data. */
export interface RequestedOutput {
  name: string;
  binary: boolean | undefined;
  field: string;
}

/** An inference request, read and checked. */
export interface InferRequest {
  id?: string;
  parameters: Record<string, OipScalar>;
  inputs: RequestTensor[];
  /** Absent: every output, as JSON unless `binary_data_output` says otherwise. */
  outputs?: RequestedOutput[];
  /** The request-level `binary_data_output` parameter. */
  binaryOutput: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readParameters(value: unknown, field: string): Record<string, OipScalar> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    throw invalidParameter(field, `is ${describeJsonValue(value)}; it must be an object of scalar values`);
  }
  for (const key in value) {
    const v = value[key];
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw invalidParameter(
        memberField(field, key),
        `is ${describeJsonValue(v)}; parameter values are strings, numbers or booleans`,
      );
    }
  }
  return value as Record<string, OipScalar>;
}

function readShape(value: unknown, field: string): number[] {
  if (value === undefined) throw invalidParameter(field, 'is required: the tensor dimensions, e.g. [2, 4]');
  if (!Array.isArray(value))
    throw invalidParameter(field, `is ${describeJsonValue(value)}; it must be an array of dimensions`);
  for (let i = 0; i < value.length; i++) {
    const d: unknown = value[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw invalidParameter(
        `${field}[${i}]`,
        `is ${JSON.stringify(d) ?? 'undefined'}; dimensions are whole numbers ≥ 0`,
      );
    }
  }
  return value as number[];
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const d of shape) count *= d;
  return count;
}

function flattenInto(data: readonly unknown[], out: unknown[]): void {
  for (const v of data) {
    if (Array.isArray(v)) flattenInto(v, out);
    else out.push(v);
  }
}

/** `data` flattened in row-major order (nested data is accepted as well as flat data). */
function flatten(data: readonly unknown[]): readonly unknown[] {
  for (const v of data) {
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      flattenInto(data, out);
      return out;
    }
  }
  return data;
}

/** Reads the binary tensor data of inputs that declare `binary_data_size`, in their order. */
class BinaryChunks {
  #offset = 0;
  constructor(private readonly bytes: Buffer | undefined) {}

  take(size: unknown, field: string): Buffer {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalidParameter(field, `is ${describeJsonValue(size)}; it must be a byte count`);
    }
    if (this.bytes === undefined) {
      throw invalidParameter(
        field,
        `declares ${size} bytes of binary data but the request has none (no ${INFERENCE_HEADER_NAME} header)`,
      );
    }
    if (this.#offset + size > this.bytes.length) {
      throw invalidParameter(
        field,
        `declares ${size} bytes but only ${this.bytes.length - this.#offset} bytes of binary data are left; the sizes do not add up`,
      );
    }
    const chunk = this.bytes.subarray(this.#offset, this.#offset + size);
    this.#offset += size;
    return chunk;
  }

  finish(): void {
    if (this.bytes !== undefined && this.#offset !== this.bytes.length) {
      throw invalidParameter(
        INFERENCE_HEADER_NAME,
        `leaves ${this.bytes.length} bytes of binary data but the inputs' binary_data_size add up to ${this.#offset}`,
      );
    }
  }
}

function readTensor(raw: unknown, index: number, chunks: BinaryChunks): RequestTensor {
  const field = `inputs[${index}]`;
  if (!isRecord(raw)) throw invalidParameter(field, `is ${describeJsonValue(raw)}; each input must be a tensor object`);
  const { name, datatype } = raw;
  if (typeof name !== 'string' || name === '') {
    throw invalidParameter(
      `${field}.name`,
      name === undefined ? 'is required' : `is ${describeJsonValue(name)}; it must be a non-empty string`,
    );
  }
  const shape = readShape(raw.shape, `${field}.shape`);
  if (datatype === undefined)
    throw invalidParameter(`${field}.datatype`, `is required: one of ${OIP_DATATYPES.join(', ')}`);
  if (!isOipDatatype(datatype)) {
    throw invalidParameter(
      `${field}.datatype`,
      `is ${JSON.stringify(datatype)}; datatypes are case-sensitive, one of ${OIP_DATATYPES.join(', ')}`,
    );
  }
  const parameters = readParameters(raw.parameters, `${field}.parameters`);
  const count = elementCount(shape);
  const binarySize = parameters.binary_data_size;
  let values: readonly unknown[];
  if (binarySize !== undefined) {
    if (raw.data !== undefined) {
      throw invalidParameter(
        `${field}.data`,
        'is given together with parameters.binary_data_size; send one or the other',
      );
    }
    const chunk = chunks.take(binarySize, `${field}.parameters.binary_data_size`);
    if (datatype !== 'BYTES' && chunk.length !== count * elementSize(datatype)) {
      throw invalidParameter(
        `${field}.parameters.binary_data_size`,
        `is ${chunk.length} bytes; shape [${shape.join(', ')}] of ${datatype} needs ${count * elementSize(datatype)}`,
      );
    }
    values = decodeBinary(datatype, chunk, count, `${field}.data`);
  } else {
    if (raw.data === undefined)
      throw invalidParameter(`${field}.data`, 'is required (or parameters.binary_data_size with binary data)');
    if (!Array.isArray(raw.data)) {
      throw invalidParameter(
        `${field}.data`,
        `is ${describeJsonValue(raw.data)}; it must be an array, flat or nested to the shape`,
      );
    }
    values = flatten(raw.data);
    if (values.length !== count) {
      throw invalidParameter(
        `${field}.data`,
        `has ${values.length} elements; shape [${shape.join(', ')}] needs ${count}`,
      );
    }
    for (let i = 0; i < count; i++) checkElement(datatype, values[i], `${field}.data[${i}]`);
  }
  return { name, datatype, shape, values, field };
}

function readOutputs(value: unknown): RequestedOutput[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value))
    throw invalidParameter('outputs', `is ${describeJsonValue(value)}; it must be an array of {name}`);
  return value.map((raw, i) => {
    const field = `outputs[${i}]`;
    if (!isRecord(raw))
      throw invalidParameter(field, `is ${describeJsonValue(raw)}; each output must be an object {name}`);
    if (typeof raw.name !== 'string') {
      throw invalidParameter(
        `${field}.name`,
        raw.name === undefined ? 'is required' : `is ${describeJsonValue(raw.name)}; it must be a string`,
      );
    }
    const parameters = readParameters(raw.parameters, `${field}.parameters`);
    const binary = parameters.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean') {
      throw invalidParameter(
        `${field}.parameters.binary_data`,
        `is ${describeJsonValue(binary)}; it must be true or false`,
      );
    }
    return { name: raw.name, binary, field };
  });
}

/**
 * Reads an inference request object: `inputs` (each with `name`, `shape`, a case-sensitive
 * `datatype` and `data` flat or nested, or `parameters.binary_data_size` for binary data), an
 * optional string `id`, scalar `parameters` (unknown ones are ignored) and `outputs`. Every
 * element is checked against its datatype and the element count against the shape; each problem
 * is a 400 naming the field (`inputs[1].data[4]: is a string; FP32 data must be finite numbers`).
 *
 * @example
 * const request = readInferRequest({ json: { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] } });
 */
export function readInferRequest(body: OipBody): InferRequest {
  const { json } = body;
  if (!isRecord(json))
    throw invalidParameter('body', `is ${describeJsonValue(json)}; an inference request is a JSON object`);
  const { id } = json;
  if (id !== undefined && typeof id !== 'string')
    throw invalidParameter('id', `is ${describeJsonValue(id)}; it must be a string`);
  const parameters = readParameters(json.parameters, 'parameters');
  const binaryOutput = parameters.binary_data_output;
  if (binaryOutput !== undefined && typeof binaryOutput !== 'boolean') {
    throw invalidParameter(
      'parameters.binary_data_output',
      `is ${describeJsonValue(binaryOutput)}; it must be true or false`,
    );
  }
  if (json.inputs === undefined) throw invalidParameter('inputs', 'is required: an array of input tensors');
  if (!Array.isArray(json.inputs)) {
    throw invalidParameter('inputs', `is ${describeJsonValue(json.inputs)}; it must be an array of input tensors`);
  }
  const chunks = new BinaryChunks(body.binary);
  const inputs = json.inputs.map((raw, i) => readTensor(raw, i, chunks));
  chunks.finish();
  const request: InferRequest = { parameters, inputs, binaryOutput: binaryOutput === true };
  if (id !== undefined) request.id = id;
  const outputs = readOutputs(json.outputs);
  if (outputs !== undefined) request.outputs = outputs;
  return request;
}

/**
 * The OIP datatype a model input is described with in model metadata, so clients know what to
 * send: FP64 for floats, INT64 for integers, BOOL for booleans, BYTES for text and dates.
 *
 * @example
 * metadataDatatype({ name: 'Island', kind: 'categorical', type: 'categorical', nullable: false }); // 'BYTES'
 */
export function metadataDatatype(input: ServingInput): OipDatatype {
  switch (input.type) {
    case 'float':
      return 'FP64';
    case 'integer':
      return 'INT64';
    case 'boolean':
      return 'BOOL';
    default:
      return 'BYTES';
  }
}

/** Whether a tensor of `datatype` may feed `input`: numbers for numeric inputs, strings (and fitting scalars) for the others. */
function accepts(input: ServingInput, datatype: OipDatatype): boolean {
  const family = datatypeFamily(datatype);
  switch (input.kind) {
    case 'float':
      return family === 'int' || family === 'uint' || family === 'float';
    case 'datetime':
      return family === 'bytes' || family === 'int' || family === 'uint' || family === 'float';
    case 'categorical':
      if (family === 'bytes') return true;
      if (input.type === 'boolean') return family === 'bool';
      return family === 'int' || family === 'uint';
  }
}

function checkDatatype(input: ServingInput, tensor: RequestTensor): void {
  if (accepts(input, tensor.datatype)) return;
  const wanted = OIP_DATATYPES.filter((d) => accepts(input, d)).join(', ');
  throw invalidParameter(
    `${tensor.field}.datatype`,
    `is ${tensor.datatype}; the model input ${JSON.stringify(input.name)} (${input.type}) takes ${wanted}`,
  );
}

/**
 * The request tensors as a raw table for the endpoint, in one of two layouts: one tensor per model
 * input, named after it, of shape [N] or [N, 1]; or a single 2-D tensor [N, F] whose F columns are
 * the model's F inputs in order (the usual layout of sklearn / XGBoost clients). Tensor datatypes
 * must suit the inputs they feed; unknown names, a wrong rank or a fixed dimension that does not
 * match are 400s naming the field. Missing inputs are reported when the frame is built. Names
 * `alsoKnown` accepts (inputs of a canary with another signature) are passed on unchecked.
 *
 * @example
 * oipTable(request.inputs, primary.inputs);
 */
export function oipTable(
  tensors: readonly RequestTensor[],
  inputs: readonly ServingInput[],
  alsoKnown: (name: string) => boolean = () => false,
): BatchTable {
  const byName = new Map(inputs.map((input) => [input.name, input]));
  const known = (name: string) => byName.has(name) || alsoKnown(name);
  const single = tensors[0];
  if (single === undefined) {
    const names = inputs.map((i) => JSON.stringify(i.name)).join(', ');
    throw invalidParameter('inputs', `is empty; the model reads ${names}`);
  }
  if (tensors.length === 1 && !known(single.name) && single.shape.length === 2) {
    return matrixTable(single, inputs);
  }
  const columns = new Map<string, readonly unknown[]>();
  const fields = new Map<string, string>();
  let rows = -1;
  for (const tensor of tensors) {
    if (!known(tensor.name)) {
      const names = inputs.map((i) => JSON.stringify(i.name)).join(', ');
      throw invalidParameter(
        `${tensor.field}.name`,
        `is ${JSON.stringify(tensor.name)}, not an input of the model; it reads ${names} (one tensor each, or a single [N, ${inputs.length}] tensor of all of them in order)`,
      );
    }
    if (columns.has(tensor.name)) {
      throw invalidParameter(`${tensor.field}.name`, `repeats the input ${JSON.stringify(tensor.name)}`);
    }
    const { shape } = tensor;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw invalidParameter(
        `${tensor.field}.shape`,
        `is [${shape.join(', ')}]; a tensor for one input is [N] or [N, 1] (model metadata: [-1])`,
      );
    }
    const n = shape[0] as number;
    if (rows >= 0 && n !== rows) {
      throw invalidParameter(
        `${tensor.field}.shape`,
        `has ${n} rows but ${tensors[0]?.field} has ${rows}; every input needs the same number`,
      );
    }
    rows = n;
    const input = byName.get(tensor.name);
    if (input !== undefined) checkDatatype(input, tensor);
    columns.set(tensor.name, tensor.values);
    fields.set(tensor.name, tensor.field);
  }
  return {
    rows: Math.max(rows, 0),
    columns,
    batchField: `${single.field}.shape`,
    fieldOf: (column, row) => `${fields.get(column) ?? memberField('inputs', column)}.data[${row}]`,
    columnField: (column) => fields.get(column) ?? memberField('inputs', column),
  };
}

function matrixTable(tensor: RequestTensor, inputs: readonly ServingInput[]): BatchTable {
  const [n = 0, width = 0] = tensor.shape;
  if (width !== inputs.length) {
    const names = inputs.map((i) => JSON.stringify(i.name)).join(', ');
    throw invalidParameter(
      `${tensor.field}.shape`,
      `is [${tensor.shape.join(', ')}]; a single 2-D tensor needs one column per model input, ${inputs.length} (${names})`,
    );
  }
  for (const input of inputs) checkDatatype(input, tensor);
  const columns = new Map<string, readonly unknown[]>();
  const index = new Map<string, number>();
  inputs.forEach((input, j) => {
    const values = new Array<unknown>(n);
    for (let r = 0; r < n; r++) values[r] = tensor.values[r * width + j];
    columns.set(input.name, values);
    index.set(input.name, j);
  });
  return {
    rows: n,
    columns,
    batchField: `${tensor.field}.shape`,
    fieldOf: (column, row) => `${tensor.field}.data[${row * width + (index.get(column) ?? 0)}]`,
    columnField: () => tensor.field,
  };
}

/**
 * The output tensors a model offers, for metadata and for checking a request's `outputs`:
 * `prediction` always, `probabilities` ([-1, classes]) for classifiers.
 *
 * @example
 * modelOutputs({ task: 'regression' }); // [{ name: 'prediction', datatype: 'FP64', shape: [-1] }]
 */
export function modelOutputs(
  model: Pick<EndpointModel, 'task' | 'classes'>,
): { name: string; datatype: OipDatatype; shape: number[] }[] {
  const classifier = model.task !== 'regression';
  const outputs = [{ name: 'prediction', datatype: (classifier ? 'BYTES' : 'FP64') as OipDatatype, shape: [-1] }];
  if (classifier) outputs.push({ name: 'probabilities', datatype: 'FP64', shape: [-1, model.classes?.length ?? -1] });
  return outputs;
}

/** A response output tensor. */
export interface ResponseOutput {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  parameters?: Record<string, OipScalar>;
  data?: (number | string)[];
}

/**
 * The output tensors of an answer, those the request asked for (all by default), in the order
 * asked: `prediction` ([N]; labels as BYTES for a classifier, FP64 for a regressor) and
 * `probabilities` ([N, classes], FP64). Outputs wanted as binary (per output `binary_data`, else
 * the request's `binary_data_output`) carry `binary_data_size` instead of `data`, and their bytes
 * come back in `chunks`, in order.
 *
 * @example
 * const { outputs, chunks } = outputTensors(result, request);
 */
export function outputTensors(
  result: InferenceResult,
  request: Pick<InferRequest, 'outputs' | 'binaryOutput'>,
): { outputs: ResponseOutput[]; chunks: Buffer[] } {
  const n = result.prediction.length;
  const classifier = Array.isArray(result.prediction);
  const k = result.classes?.length ?? 0;
  const wanted = request.outputs ?? [
    { name: 'prediction', binary: undefined, field: '' },
    ...(result.probabilities !== undefined && k > 0 ? [{ name: 'probabilities', binary: undefined, field: '' }] : []),
  ];
  const outputs: ResponseOutput[] = [];
  const chunks: Buffer[] = [];
  for (const want of wanted) {
    let tensor: ResponseOutput;
    let values: (number | string)[];
    if (want.name === 'prediction') {
      values = predictionList(result);
      tensor = { name: 'prediction', datatype: classifier ? 'BYTES' : 'FP64', shape: [n] };
    } else if (want.name === 'probabilities' && result.probabilities !== undefined && k > 0) {
      values = Array.from(result.probabilities);
      tensor = { name: 'probabilities', datatype: 'FP64', shape: [n, k] };
    } else {
      continue;
    }
    if (want.binary ?? request.binaryOutput) {
      const chunk = encodeBinary(tensor.datatype as 'FP64' | 'BYTES', values);
      tensor.parameters = { binary_data_size: chunk.length };
      chunks.push(chunk);
    } else {
      tensor.data = values;
    }
    outputs.push(tensor);
  }
  return { outputs, chunks };
}
