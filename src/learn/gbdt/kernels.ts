import { type Code, encodeModule, I32, op, V128, type WasmFunction } from './wasm.js';

/**
 * The GBDT's WebAssembly kernels: the gradient-histogram update and the histogram sum and difference.
 * Histogram slots are (gradient, hessian) pairs of doubles, so one SIMD f64x2 load, add and store
 * updates both sums of a slot where JavaScript needs two of each: about 1 ns per (row, feature) on the
 * benchmark machine against 2.7 ns for the unrolled JavaScript loop, with bit-identical sums (each lane
 * adds in the same order as the scalar code). All pointers are byte offsets into one shared memory.
 */

/** Most 64 KiB pages of the kernels' shared memory: 4 GiB, the wasm32 address space. */
export const MAX_PAGES = 65_536;

/** Bytes per histogram slot: one (gradient, hessian) pair of doubles. */
const SLOT = 16;
/** Bytes per feature of a histogram: 256 slots. */
const FEATURE = 256 * SLOT;

/**
 * `histogram(hist, codes, cols, gradHess, index, begin, end)`: for every row `r = index[i]`,
 * `begin ≤ i < end`, adds the pair `gradHess[r]` to slot `codes[r * cols + f]` of every feature f. Four
 * features per step read with one 32-bit load of their codes.
 */
function histogramKernel(): WasmFunction {
  const [hist, codes, cols, gradHess, index, begin, end] = [0, 1, 2, 3, 4, 5, 6];
  const [i, p, stop, base, word, slot, pair] = [7, 8, 9, 10, 11, 12, 13];
  const { get, set, tee, i32 } = op;
  const update = (slotAddress: Code): Code => [
    ...slotAddress,
    ...tee(slot),
    ...get(slot),
    ...op.v128Load(),
    ...get(pair),
    ...op.f64x2Add,
    ...op.v128Store(),
  ];
  /** Slot address of byte `k` (0 … 3) of `word` in feature `base + k`: base + k·FEATURE + byte·16. */
  const byteSlot = (k: number): Code => [
    ...get(base),
    ...get(word),
    ...(k === 0
      ? [...i32(0xff), ...op.and, ...i32(4), ...op.shl]
      : [...i32(8 * k - 4), ...op.shrU, ...i32(0xff0), ...op.and]),
    ...op.add,
    ...(k === 0 ? [] : [...i32(k * FEATURE), ...op.add]),
  ];
  const body: Code[] = [
    get(begin),
    set(i),
    op.block(
      op.loop(
        [...get(i), ...get(end), ...op.geU, ...op.brIf(1)],
        // r = index[i]; pair = gradHess[r]; p = codes + r·cols; stop = p + cols
        [...get(index), ...get(i), ...i32(2), ...op.shl, ...op.add, ...op.load(), ...tee(word)],
        [...i32(4), ...op.shl, ...get(gradHess), ...op.add, ...op.v128Load(), ...set(pair)],
        [
          ...get(word),
          ...get(cols),
          ...op.mul,
          ...get(codes),
          ...op.add,
          ...tee(p),
          ...get(cols),
          ...op.add,
          ...set(stop),
        ],
        [...get(hist), ...set(base)],
        op.block(
          op.loop(
            [...get(p), ...i32(4), ...op.add, ...get(stop), ...op.gtU, ...op.brIf(1)],
            [...get(p), ...op.load(), ...set(word)],
            update(byteSlot(0)),
            update(byteSlot(1)),
            update(byteSlot(2)),
            update(byteSlot(3)),
            [...get(base), ...i32(4 * FEATURE), ...op.add, ...set(base)],
            [...get(p), ...i32(4), ...op.add, ...set(p)],
            op.br(0),
          ),
        ),
        op.block(
          op.loop(
            [...get(p), ...get(stop), ...op.geU, ...op.brIf(1)],
            update([...get(base), ...get(p), ...op.load8(), ...i32(4), ...op.shl, ...op.add]),
            [...get(base), ...i32(FEATURE), ...op.add, ...set(base)],
            [...get(p), ...i32(1), ...op.add, ...set(p)],
            op.br(0),
          ),
        ),
        [...get(i), ...i32(1), ...op.add, ...set(i)],
        op.br(0),
      ),
    ),
  ];
  return { name: 'histogram', params: 7, locals: [I32, I32, I32, I32, I32, I32, V128], returnsI32: false, body };
}

/** `name(target, source, pairs)`: `target[k] ∘= source[k]` over `pairs` (gradient, hessian) pairs. */
function pairwiseKernel(name: string, combine: Code): WasmFunction {
  const [target, source, pairs] = [0, 1, 2];
  const { get, set, i32 } = op;
  const body: Code[] = [
    op.block(
      op.loop(
        [...get(pairs), ...op.eqz, ...op.brIf(1)],
        [
          ...get(target),
          ...get(target),
          ...op.v128Load(),
          ...get(source),
          ...op.v128Load(),
          ...combine,
          ...op.v128Store(),
        ],
        [...get(target), ...i32(SLOT), ...op.add, ...set(target)],
        [...get(source), ...i32(SLOT), ...op.add, ...set(source)],
        [...get(pairs), ...i32(1), ...op.sub, ...set(pairs)],
        op.br(0),
      ),
    ),
  ];
  return { name, params: 3, locals: [], returnsI32: false, body };
}

/** `clear(target, pairs)`: zeroes `pairs` (gradient, hessian) pairs. */
function clearKernel(): WasmFunction {
  const [target, pairs] = [0, 1];
  const { get, set, i32 } = op;
  const body: Code[] = [
    op.block(
      op.loop(
        [...get(pairs), ...op.eqz, ...op.brIf(1)],
        [...get(target), ...op.v128Zero, ...op.v128Store()],
        [...get(target), ...i32(SLOT), ...op.add, ...set(target)],
        [...get(pairs), ...i32(1), ...op.sub, ...set(pairs)],
        op.br(0),
      ),
    ),
  ];
  return { name: 'clear', params: 2, locals: [], returnsI32: false, body };
}

/**
 * The kernels' module bytes, built from the definitions above.
 *
 * @example
 * WebAssembly.validate(KERNEL_BYTES); // true
 */
export const KERNEL_BYTES: Uint8Array = encodeModule(
  [histogramKernel(), pairwiseKernel('add', op.f64x2Add), pairwiseKernel('subtract', op.f64x2Sub), clearKernel()],
  MAX_PAGES,
);

/** The kernels, taking byte offsets into the memory they were instantiated with. */
export interface Kernels {
  histogram(
    hist: number,
    codes: number,
    cols: number,
    gradHess: number,
    index: number,
    begin: number,
    end: number,
  ): void;
  add(target: number, source: number, pairs: number): void;
  subtract(target: number, source: number, pairs: number): void;
  clear(target: number, pairs: number): void;
}

/** A shared WebAssembly memory: what the kernels, and the views on its buffer, address. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module (opaque; it may be posted to a worker thread). */
export type WasmModule = { readonly compiledModule: unique symbol };

/**
 * The parts of the `WebAssembly` global the kernels use. Node has it, but the project compiles
 * against the ES library alone (no DOM typings, which declare it), so it is typed here.
 */
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * A shared memory of `pages` 64 KiB pages, growable to {@link MAX_PAGES}.
 *
 * @example
 * const memory = sharedMemory(16);
 */
export function sharedMemory(pages: number): WasmMemory {
  return new wasm.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
}

/**
 * True when this engine accepts `bytes` as a module: the check that the encoder wrote valid code.
 *
 * @example
 * validModule(KERNEL_BYTES); // true
 */
export function validModule(bytes: Uint8Array): boolean {
  return wasm.validate(bytes);
}

let compiled: WasmModule | null = null;

/**
 * The compiled kernel module, compiled once per thread; a worker receives it in a message rather
 * than compiling it again.
 *
 * @example
 * const kernels = instantiateKernels(kernelModule(), sharedMemory(16));
 */
export function kernelModule(): WasmModule {
  compiled ??= new wasm.Module(KERNEL_BYTES);
  return compiled;
}

/**
 * The kernels bound to `memory` (a shared memory of at most {@link MAX_PAGES} pages).
 *
 * @example
 * instantiateKernels(kernelModule(), sharedMemory(16)).add(0, 4096, 256);
 */
export function instantiateKernels(module: WasmModule, memory: WasmMemory): Kernels {
  return new wasm.Instance(module, { env: { memory } }).exports as Kernels;
}
