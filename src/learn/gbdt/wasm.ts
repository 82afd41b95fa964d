/**
 * A minimal WebAssembly encoder: just enough of the binary format (MVP plus the fixed-width SIMD
 * instructions) to write the GBDT kernels in TypeScript and ship them as bytes built at load time,
 * so Kiln needs no external toolchain and commits no binary. Every module it makes imports one shared
 * memory, `env.memory`, and exports its functions by name; functions take and return i32 only.
 */

/** Value types of locals: 32-bit integers and 128-bit vectors (two f64 lanes for the kernels). */
export const I32 = 0x7f;
export const V128 = 0x7b;
type ValueType = typeof I32 | typeof V128;

/** A piece of a function body: instruction bytes. */
export type Code = readonly number[];

function uleb(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (text: string) => [...uleb(text.length), ...new TextEncoder().encode(text)];
const vector = (items: readonly Code[]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code) => [id, ...uleb(body.length), ...body];
const SIMD = 0xfd;

/**
 * The instructions the kernels use, each returning its bytes. Memory accesses take a static offset;
 * alignment hints are the natural ones (4 bytes for i32, 16 for v128; unaligned accesses stay legal).
 */
export const op = {
  get: (local: number): Code => [0x20, ...uleb(local)],
  set: (local: number): Code => [0x21, ...uleb(local)],
  tee: (local: number): Code => [0x22, ...uleb(local)],
  i32: (value: number): Code => [0x41, ...sleb(value)],
  add: [0x6a] as Code,
  sub: [0x6b] as Code,
  mul: [0x6c] as Code,
  and: [0x71] as Code,
  shl: [0x74] as Code,
  shrU: [0x76] as Code,
  eqz: [0x45] as Code,
  ltU: [0x49] as Code,
  gtU: [0x4b] as Code,
  geU: [0x4f] as Code,
  load: (offset = 0): Code => [0x28, 2, ...uleb(offset)],
  store: (offset = 0): Code => [0x36, 2, ...uleb(offset)],
  load8: (offset = 0): Code => [0x2d, 0, ...uleb(offset)],
  v128Load: (offset = 0): Code => [SIMD, 0x00, 4, ...uleb(offset)],
  v128Store: (offset = 0): Code => [SIMD, 0x0b, 4, ...uleb(offset)],
  /** A v128 of zero bits. */
  v128Zero: [SIMD, 0x0c, ...new Array<number>(16).fill(0)] as Code,
  f64x2Add: [SIMD, ...uleb(240)] as Code,
  f64x2Sub: [SIMD, ...uleb(241)] as Code,
  /** `block … end` without a result: `br` to it jumps past its end. */
  block: (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b],
  /** `loop … end` without a result: `br` to it jumps back to its start. */
  loop: (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
};

/** One exported function: i32 parameters, typed locals after them, and an i32 result or none. */
export interface WasmFunction {
  name: string;
  params: number;
  locals: readonly ValueType[];
  returnsI32: boolean;
  body: readonly Code[];
}

/**
 * The bytes of a module importing a shared memory `env.memory` (at least one page, at most
 * `maxPages`) and exporting `functions`.
 *
 * @example
 * const bytes = encodeModule([{ name: 'id', params: 1, locals: [], returnsI32: true, body: [op.get(0)] }], 16);
 * WebAssembly.validate(bytes); // true
 */
export function encodeModule(functions: readonly WasmFunction[], maxPages: number): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vector(Array.from({ length: f.params }, () => [I32])),
    ...vector(f.returnsI32 ? [[I32]] : []),
  ]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(maxPages)];
  const bodies = functions.map((f) => {
    // Locals in runs of one type each, as the format groups them.
    const runs: Code[] = [];
    for (let i = 0; i < f.locals.length; ) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...uleb(j - i), f.locals[i] as number]);
      i = j;
    }
    const code = [...vector(runs), ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
