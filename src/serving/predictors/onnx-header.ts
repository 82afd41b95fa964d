/**
 * A small reader of the protobuf wire format, enough to check that bytes are an ONNX ModelProto
 * and to read what onnxruntime's JavaScript API does not expose: the model's `metadata_props`, the
 * class labels of a classifier node, and whether tensors live in external files. It only walks
 * bytes (no recursion beyond the main graph's nodes), so a hostile file costs a few passes over
 * itself at most.
 */

/** What a model file says about itself beyond its inputs and outputs. */
export interface OnnxHeader {
  irVersion: number;
  /** `metadata_props`, key → value. */
  metadata: Map<string, string>;
  /** The labels of the first classifier node (`classlabels_strings` / `classlabels_int64s`), if any. */
  classLabels?: string[];
  /**
   * Whether a tensor of the main graph (an initializer or a node attribute) keeps its data in an
   * external file: onnxruntime would read that file from a path the model names.
   */
  externalData: boolean;
}

/** Bytes that are not a well-formed ONNX ModelProto; the message says where. */
export class OnnxFormatError extends Error {}

/** ModelProto, GraphProto, NodeProto and AttributeProto field numbers (onnx.proto3). */
const MODEL = { irVersion: 1, graph: 7, metadataProps: 14 } as const;
const GRAPH = { node: 1, initializer: 5 } as const;
const NODE = { opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, t: 5, ints: 8, strings: 9, tensors: 10 } as const;
/** TensorProto: `external_data` entries and `data_location` (1 = EXTERNAL). */
const TENSOR = { externalData: 13, dataLocation: 14 } as const;
const CLASSIFIERS = new Set(['TreeEnsembleClassifier', 'LinearClassifier', 'SVMClassifier', 'ZipMap']);

type Field =
  | { number: number; wire: 0; value: bigint }
  | { number: number; wire: 1 | 5; start: number }
  | { number: number; wire: 2; start: number; end: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new OnnxFormatError(`truncated varint at byte ${this.pos}`);
      const byte = this.bytes[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new OnnxFormatError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  field(): Field {
    const at = this.pos;
    const tag = this.varint();
    const number = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (number === 0 || number > 536_870_911) throw new OnnxFormatError(`invalid field number at byte ${at}`);
    switch (wire) {
      case 0:
        return { number, wire, value: this.varint() };
      case 1:
      case 5: {
        const start = this.pos;
        this.pos += wire === 1 ? 8 : 4;
        if (this.pos > this.end) throw new OnnxFormatError(`truncated field ${number} at byte ${at}`);
        return { number, wire, start };
      }
      case 2: {
        const length = this.varint();
        const start = this.pos;
        if (length > BigInt(this.end - start))
          throw new OnnxFormatError(`field ${number} at byte ${at} runs past the end`);
        this.pos = start + Number(length);
        return { number, wire, start, end: this.pos };
      }
      default:
        throw new OnnxFormatError(`unsupported wire type ${wire} at byte ${at}`);
    }
  }
}

function fields(bytes: Uint8Array, start: number, end: number): Field[] {
  const reader = new Reader(bytes, start, end);
  const out: Field[] = [];
  while (!reader.done) out.push(reader.field());
  return out;
}

function text(bytes: Uint8Array, f: Field, what: string): string {
  if (f.wire !== 2) throw new OnnxFormatError(`${what} is not a string`);
  try {
    return utf8.decode(bytes.subarray(f.start, f.end));
  } catch {
    throw new OnnxFormatError(`${what} is not UTF-8`);
  }
}

function keyValue(bytes: Uint8Array, entry: Field): [string, string] {
  if (entry.wire !== 2) throw new OnnxFormatError('metadata_props entry is not a message');
  let key = '';
  let value = '';
  for (const f of fields(bytes, entry.start, entry.end)) {
    if (f.number === 1) key = text(bytes, f, 'metadata key');
    else if (f.number === 2) value = text(bytes, f, 'metadata value');
  }
  return [key, value];
}

/** int64 values of a repeated field, packed or not. */
function int64s(bytes: Uint8Array, f: Field, into: bigint[]): void {
  if (f.wire === 0) into.push(BigInt.asIntN(64, f.value));
  else if (f.wire === 2) {
    const reader = new Reader(bytes, f.start, f.end);
    while (!reader.done) into.push(BigInt.asIntN(64, reader.varint()));
  }
}

function isExternal(bytes: Uint8Array, tensor: Field): boolean {
  if (tensor.wire !== 2) return false;
  return fields(bytes, tensor.start, tensor.end).some(
    (f) => f.number === TENSOR.externalData || (f.number === TENSOR.dataLocation && f.wire === 0 && f.value === 1n),
  );
}

/** Reads one node: its class labels when it is a classifier, and whether an attribute tensor is external. */
function readNode(bytes: Uint8Array, node: Field & { wire: 2 }, header: OnnxHeader): void {
  const parts = fields(bytes, node.start, node.end);
  const opType = parts.find((f) => f.number === NODE.opType);
  const classifier =
    header.classLabels === undefined && opType !== undefined && CLASSIFIERS.has(text(bytes, opType, 'op_type'));
  for (const attribute of parts) {
    if (attribute.number !== NODE.attribute || attribute.wire !== 2) continue;
    const inner = fields(bytes, attribute.start, attribute.end);
    for (const f of inner) {
      if ((f.number === ATTRIBUTE.t || f.number === ATTRIBUTE.tensors) && isExternal(bytes, f)) {
        header.externalData = true;
      }
    }
    if (!classifier) continue;
    const nameField = inner.find((f) => f.number === ATTRIBUTE.name);
    const name = nameField === undefined ? '' : text(bytes, nameField, 'attribute name');
    if (name === 'classlabels_strings') {
      header.classLabels = inner
        .filter((f) => f.number === ATTRIBUTE.strings)
        .map((f) => text(bytes, f, 'class label'));
    } else if (name === 'classlabels_int64s') {
      const values: bigint[] = [];
      for (const f of inner) if (f.number === ATTRIBUTE.ints) int64s(bytes, f, values);
      header.classLabels = values.map(String);
    }
  }
}

/**
 * Checks that `bytes` are an ONNX ModelProto (every top-level field well-formed, an `ir_version`
 * and a `graph`) and reads its metadata and classifier labels. Throws {@link OnnxFormatError}
 * naming the byte at fault.
 *
 * @example
 * readOnnxHeader(bytes).metadata.get('kiln.classes'); // '["Adelie","Chinstrap","Gentoo"]'
 */
export function readOnnxHeader(bytes: Uint8Array): OnnxHeader {
  const top = fields(bytes, 0, bytes.length);
  const ir = top.find((f) => f.number === MODEL.irVersion);
  if (ir?.wire !== 0) throw new OnnxFormatError('no ir_version: this is not an ONNX model');
  const graph = top.find((f) => f.number === MODEL.graph);
  if (graph?.wire !== 2) throw new OnnxFormatError('no graph: this is not an ONNX model');
  const metadata = new Map<string, string>();
  for (const f of top) if (f.number === MODEL.metadataProps) metadata.set(...keyValue(bytes, f));
  const header: OnnxHeader = { irVersion: Number(ir.value), metadata, externalData: false };
  for (const f of fields(bytes, graph.start, graph.end)) {
    if (f.number === GRAPH.node && f.wire === 2) readNode(bytes, f, header);
    else if (f.number === GRAPH.initializer && isExternal(bytes, f)) header.externalData = true;
  }
  return header;
}

/**
 * True when `bytes` read as an ONNX ModelProto: how a file without the `.onnx` extension is
 * recognised. Protobuf writers put `ir_version` (field 1) first, so text and JSON fail at byte 0.
 *
 * @example
 * looksLikeOnnx(readFileSync('model.bin')); // true for an ONNX file under another name
 */
export function looksLikeOnnx(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x08) return false;
  try {
    readOnnxHeader(bytes);
    return true;
  } catch {
    return false;
  }
}
