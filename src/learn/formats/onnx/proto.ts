import protobuf from 'protobufjs/light.js';
import { invalidParameter } from '../../../core/index.js';
import { ONNX_ML_SCHEMA } from './schema.js';

const root = protobuf.Root.fromJSON(ONNX_ML_SCHEMA);
const modelType = root.lookupType('onnx.ModelProto');
const dataTypes = root.lookupEnum('onnx.TensorProto.DataType').values;
const attributeTypes = root.lookupEnum('onnx.AttributeProto.AttributeType').values;

/** The tensor element types Kiln's exported graphs use, by their ONNX `TensorProto.DataType` numbers. */
export const ELEM = {
  float: dataTypes.FLOAT as number,
  int64: dataTypes.INT64 as number,
  string: dataTypes.STRING as number,
  double: dataTypes.DOUBLE as number,
} as const;

export type ElemType = keyof typeof ELEM;

/** A constant tensor: its element type, shape and values (strings are UTF-8 encoded on write). */
export interface TensorValue {
  type: ElemType;
  dims: number[];
  values: readonly number[] | readonly string[];
}

/** An attribute value of the kinds Kiln's graphs use (numbers that must be exact go in double tensors). */
export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: readonly string[] }
  | { kind: 'tensor'; value: TensorValue };

/** Attribute constructors, so node definitions read like the operator docs. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): AttributeValue => ({ kind: 'strings', value }),
  tensor: (value: TensorValue): AttributeValue => ({ kind: 'tensor', value }),
};

const utf8 = new TextEncoder();

function tensorProto(tensor: TensorValue, name?: string): Record<string, unknown> {
  const size = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.values.length !== size) {
    throw new Error(`tensor ${name ?? ''} has ${tensor.values.length} values for dims [${tensor.dims.join(', ')}]`);
  }
  const proto: Record<string, unknown> = { dims: tensor.dims, data_type: ELEM[tensor.type] };
  if (name !== undefined) proto.name = name;
  const field = { float: 'float_data', int64: 'int64_data', string: 'string_data', double: 'double_data' }[tensor.type];
  proto[field] = tensor.type === 'string' ? (tensor.values as string[]).map((s) => utf8.encode(s)) : tensor.values;
  return proto;
}

function attributeProto(name: string, a: AttributeValue): Record<string, unknown> {
  switch (a.kind) {
    case 'int':
      return { name, type: attributeTypes.INT, i: a.value };
    case 'ints':
      return { name, type: attributeTypes.INTS, ints: a.value };
    case 'string':
      return { name, type: attributeTypes.STRING, s: utf8.encode(a.value) };
    case 'strings':
      return { name, type: attributeTypes.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensor':
      return { name, type: attributeTypes.TENSOR, t: tensorProto(a.value) };
  }
}

/** A graph input or output: element type and shape, `'N'` (or any string) a symbolic dimension. */
export interface ValueInfo {
  name: string;
  type: ElemType;
  dims: (number | string)[];
}

/**
 * An ONNX graph under construction: nodes in topological order (each added after its inputs exist),
 * constants as initializers, and fresh intermediate names under the `kiln/` prefix so they never
 * collide with the column names used as graph inputs.
 *
 * @example
 * const g = new OnnxGraph();
 * g.input({ name: 'x', type: 'double', dims: ['N', 1] });
 * const [y] = g.node('Add', ['x', g.constant('one', { type: 'double', dims: [1], values: [1] })]);
 */
export class OnnxGraph {
  readonly nodes: Record<string, unknown>[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name `kiln/<hint>_<n>`. */
  fresh(hint: string): string {
    const name = `kiln/${hint}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  /** Declares a graph input; its name must be new. */
  input(info: ValueInfo): string {
    this.claim(info.name);
    this.inputs.push(info);
    return info.name;
  }

  /** Declares a graph output, produced by the node that outputs `info.name`. */
  output(info: ValueInfo): void {
    this.outputs.push(info);
  }

  /** Reserves a name (graph inputs, named outputs); throws when it is taken. */
  claim(name: string): void {
    if (this.names.has(name)) throw invalidParameter('signature', `the ONNX graph already has a value named '${name}'`);
    this.names.add(name);
  }

  /** Adds a constant tensor and returns its value name. */
  constant(hint: string, tensor: TensorValue): string {
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(tensor, name));
    return name;
  }

  /**
   * Adds a node and returns its output names: fresh ones unless `outputs` names them. An empty string
   * among `inputs` is an omitted optional input.
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: { domain?: string; outputs?: readonly string[]; outputCount?: number } = {},
  ): string[] {
    const outputs =
      options.outputs !== undefined
        ? [...options.outputs]
        : Array.from({ length: options.outputCount ?? 1 }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      op_type: opType,
      domain: options.domain ?? '',
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([name, a]) => attributeProto(name, a)),
    });
    return outputs;
  }
}

function valueInfoProto(info: ValueInfo): Record<string, unknown> {
  return {
    name: info.name,
    type: {
      tensor_type: {
        elem_type: ELEM[info.type],
        shape: { dim: info.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** Operator set versions Kiln's exported models import: ONNX 1.12 / IR 8, all run by onnxruntime ≥ 1.12. */
export const OPSETS = { 'ai.onnx': 17, 'ai.onnx.ml': 3 } as const;
export const IR_VERSION = 8;

/**
 * Serialises a graph as an ONNX ModelProto with the vendored schema.
 *
 * @example
 * const bytes = encodeModel(graph, { name: 'penguins', producerVersion: '0.1.0', metadata: { target: 'Species' } });
 */
export function encodeModel(
  graph: OnnxGraph,
  meta: { name: string; producerVersion: string; docString?: string; metadata?: Record<string, string> },
): Uint8Array {
  const model = {
    ir_version: IR_VERSION,
    producer_name: 'kiln',
    producer_version: meta.producerVersion,
    domain: 'dev.kiln',
    model_version: 1,
    doc_string: meta.docString ?? '',
    opset_import: Object.entries(OPSETS).map(([domain, version]) => ({
      domain: domain === 'ai.onnx' ? '' : domain,
      version,
    })),
    metadata_props: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: meta.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: graph.inputs.map(valueInfoProto),
      output: graph.outputs.map(valueInfoProto),
    },
  };
  const message = modelType.fromObject(model);
  return modelType.encode(message).finish();
}

/**
 * Decodes ONNX bytes into a plain object (snake_case fields, bytes as base64, int64 as strings):
 * for tests and tooling that inspect an exported model.
 *
 * @example
 * const model = decodeModel(bytes) as { graph: { node: { op_type: string }[] } };
 */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return modelType.toObject(modelType.decode(bytes), { longs: String, bytes: String, defaults: false }) as Record<
    string,
    unknown
  >;
}
