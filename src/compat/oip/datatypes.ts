import { invalidParameter } from '../../core/index.js';
import { describeJsonValue } from '../../serving/index.js';

/** The tensor datatypes of the Open Inference Protocol v2, spelled (case-sensitively) as on the wire. */
export const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** What kind of values a datatype carries. */
export type DatatypeFamily = 'bool' | 'uint' | 'int' | 'float' | 'bytes';

interface DatatypeInfo {
  family: DatatypeFamily;
  /** Bytes per element on the binary path; 0 for BYTES (length-prefixed). */
  size: number;
  min: number;
  max: number;
}

const FP16_MAX = 65504;
const FP32_MAX = 3.4028234663852886e38;

const INFO: Readonly<Record<OipDatatype, DatatypeInfo>> = {
  BOOL: { family: 'bool', size: 1, min: 0, max: 1 },
  UINT8: { family: 'uint', size: 1, min: 0, max: 0xff },
  UINT16: { family: 'uint', size: 2, min: 0, max: 0xffff },
  UINT32: { family: 'uint', size: 4, min: 0, max: 0xffffffff },
  UINT64: { family: 'uint', size: 8, min: 0, max: Number.MAX_SAFE_INTEGER },
  INT8: { family: 'int', size: 1, min: -0x80, max: 0x7f },
  INT16: { family: 'int', size: 2, min: -0x8000, max: 0x7fff },
  INT32: { family: 'int', size: 4, min: -0x80000000, max: 0x7fffffff },
  INT64: { family: 'int', size: 8, min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  FP16: { family: 'float', size: 2, min: -FP16_MAX, max: FP16_MAX },
  FP32: { family: 'float', size: 4, min: -FP32_MAX, max: FP32_MAX },
  FP64: { family: 'float', size: 8, min: -Number.MAX_VALUE, max: Number.MAX_VALUE },
  BYTES: { family: 'bytes', size: 0, min: 0, max: 0 },
};

/**
 * True when `value` is one of {@link OIP_DATATYPES}. Strings are case-sensitive in the protocol, so
 * `fp32` is not a datatype.
 *
 * @example
 * isOipDatatype('FP32'); // true
 * isOipDatatype('fp32'); // false
 */
export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && Object.hasOwn(INFO, value);
}

/**
 * Bytes per element on the binary path, to check a chunk's size against its shape; 0 for BYTES,
 * whose elements are length-prefixed.
 *
 * @example
 * elementSize('FP16'); // 2
 */
export function elementSize(datatype: OipDatatype): number {
  return INFO[datatype].size;
}

/**
 * Whether a datatype carries unsigned or signed integers, floats, booleans or strings: what decides
 * which model inputs a tensor of it may feed.
 *
 * @example
 * datatypeFamily('UINT16'); // 'uint'
 */
export function datatypeFamily(datatype: OipDatatype): DatatypeFamily {
  return INFO[datatype].family;
}

function outOfRange(datatype: OipDatatype, value: number, field: string): never {
  const { min, max, family } = INFO[datatype];
  if ((datatype === 'INT64' || datatype === 'UINT64') && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
    throw invalidParameter(
      field,
      `is ${value}, beyond ±2^53 - 1: ${datatype} values this large cannot be read exactly from JSON numbers, so Kiln refuses them`,
    );
  }
  const range = family === 'float' ? `±${max}` : `${min}..${max}`;
  throw invalidParameter(field, `is ${value}, out of the ${datatype} range ${range}`);
}

/**
 * Checks one JSON element of a tensor against its datatype and returns the value the request
 * table holds: BOOL takes JSON booleans; UINT* / INT* whole numbers in their range (64-bit ones
 * only up to ±2^53 - 1, refused beyond rather than rounded); FP* finite numbers in range (whole
 * numbers are read as floats); BYTES strings. `null` in an FP* or BYTES tensor is a missing value,
 * accepted later only for inputs that allow one. Anything else is a 400 naming `field`.
 *
 * @example
 * checkElement('INT8', 200, 'inputs[0].data[3]'); // throws: inputs[0].data[3]: is 200, out of the INT8 range -128..127
 */
export function checkElement(datatype: OipDatatype, value: unknown, field: string): unknown {
  const info = INFO[datatype];
  switch (info.family) {
    case 'bool':
      if (typeof value === 'boolean') return value;
      throw invalidParameter(field, `is ${describeJsonValue(value)}; BOOL data must be true or false`);
    case 'uint':
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value)) {
        if (value < info.min || value > info.max) outOfRange(datatype, value, field);
        return value;
      }
      throw invalidParameter(field, `is ${describeJsonValue(value)}; ${datatype} data must be whole numbers`);
    case 'float':
      if (typeof value === 'number' && Number.isFinite(value)) {
        if (value < info.min || value > info.max) outOfRange(datatype, value, field);
        return value;
      }
      if (value === null) return null;
      throw invalidParameter(field, `is ${describeJsonValue(value)}; ${datatype} data must be finite numbers`);
    case 'bytes':
      if (typeof value === 'string' || value === null) return value;
      throw invalidParameter(field, `is ${describeJsonValue(value)}; BYTES data must be strings`);
  }
}

/** An IEEE 754 half-precision float from its 16 bits. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes `count` elements of a binary tensor chunk (the binary tensor data extension: little
 * endian, row-major; BOOL one byte 0 or 1; BYTES each a 4-byte little-endian length then that many
 * UTF-8 bytes). Floats that are NaN are missing values (null); infinities, integers beyond ±2^53
 * - 1, bad BOOL bytes, invalid UTF-8 and a chunk that does not hold exactly `count` elements are
 * 400s naming `field`.
 *
 * @example
 * decodeBinary('FP32', Buffer.from(Float32Array.of(1.5).buffer), 1, 'inputs[0]'); // [1.5]
 */
export function decodeBinary(datatype: OipDatatype, chunk: Uint8Array, count: number, field: string): unknown[] {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const out = new Array<unknown>(count);
  if (datatype === 'BYTES') {
    let offset = 0;
    for (let i = 0; i < count; i++) {
      if (offset + 4 > chunk.byteLength) {
        throw invalidParameter(field, `holds ${i} BYTES elements; its shape needs ${count}`);
      }
      const length = view.getUint32(offset, true);
      offset += 4;
      if (offset + length > chunk.byteLength) {
        throw invalidParameter(`${field}[${i}]`, `has a length prefix of ${length} bytes, past the end of the chunk`);
      }
      try {
        out[i] = UTF8.decode(chunk.subarray(offset, offset + length));
      } catch {
        throw invalidParameter(`${field}[${i}]`, 'is not valid UTF-8');
      }
      offset += length;
    }
    if (offset !== chunk.byteLength) {
      throw invalidParameter(field, `has ${chunk.byteLength - offset} bytes left after its ${count} BYTES elements`);
    }
    return out;
  }
  const size = INFO[datatype].size;
  if (chunk.byteLength !== count * size) {
    throw invalidParameter(
      field,
      `has ${chunk.byteLength} bytes; ${count} ${datatype} elements are ${count * size} bytes`,
    );
  }
  for (let i = 0; i < count; i++) {
    const at = i * size;
    let value: number;
    switch (datatype) {
      case 'BOOL': {
        const byte = view.getUint8(at);
        if (byte > 1) throw invalidParameter(`${field}[${i}]`, `is the byte ${byte}; BOOL elements are 0 or 1`);
        out[i] = byte === 1;
        continue;
      }
      case 'UINT8':
        value = view.getUint8(at);
        break;
      case 'UINT16':
        value = view.getUint16(at, true);
        break;
      case 'UINT32':
        value = view.getUint32(at, true);
        break;
      case 'UINT64':
        value = Number(view.getBigUint64(at, true));
        break;
      case 'INT8':
        value = view.getInt8(at);
        break;
      case 'INT16':
        value = view.getInt16(at, true);
        break;
      case 'INT32':
        value = view.getInt32(at, true);
        break;
      case 'INT64':
        value = Number(view.getBigInt64(at, true));
        break;
      case 'FP16':
        value = halfToNumber(view.getUint16(at, true));
        break;
      case 'FP32':
        value = view.getFloat32(at, true);
        break;
      default:
        value = view.getFloat64(at, true);
    }
    if (Number.isNaN(value)) {
      out[i] = null;
      continue;
    }
    if (!Number.isFinite(value))
      throw invalidParameter(`${field}[${i}]`, `is ${value}; ${datatype} data must be finite`);
    if (!Number.isSafeInteger(value) && INFO[datatype].family !== 'float')
      outOfRange(datatype, value, `${field}[${i}]`);
    out[i] = value;
  }
  return out;
}

/**
 * Encodes an output tensor's elements for the binary tensor data extension: FP64 as 8-byte
 * little-endian floats, BYTES as 4-byte little-endian lengths each followed by the UTF-8 bytes.
 *
 * @example
 * encodeBinary('BYTES', ['Adelie']).length; // 10
 */
export function encodeBinary(datatype: 'FP64' | 'BYTES', values: readonly (number | string)[]): Buffer {
  if (datatype === 'FP64') {
    const out = Buffer.alloc(values.length * 8);
    for (let i = 0; i < values.length; i++) out.writeDoubleLE(values[i] as number, i * 8);
    return out;
  }
  const parts = values.map((v) => Buffer.from(String(v), 'utf8'));
  const out = Buffer.alloc(parts.reduce((sum, p) => sum + 4 + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, offset);
    part.copy(out, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}
