import { invalidParameter } from '../../core/index.js';
import {
  instantiateKernels,
  type Kernels,
  kernelModule,
  MAX_PAGES,
  sharedMemory,
  type WasmMemory,
  type WasmModule,
} from './kernels.js';

const PAGE = 65_536;

/**
 * The shared WebAssembly memory one training run works in: the binned matrix, the gradients, the row
 * index and every histogram are typed-array views on it, so the kernels read them in place on every
 * thread (their pointers are the views' `byteOffset`s) and JavaScript reads them as usual. Memory is
 * handed out by a bump allocator and never freed: callers recycle histograms themselves. Shared memory
 * grows in place, so views made before a growth stay valid.
 *
 * @example
 * const memory = new KernelMemory(rows * cols);
 * const codes = memory.uint8(rows * cols);
 * memory.kernels.histogram(hist.byteOffset, codes.byteOffset, cols, gradHess.byteOffset, index.byteOffset, 0, rows);
 */
export class KernelMemory {
  readonly memory: WasmMemory;
  readonly module: WasmModule;
  readonly kernels: Kernels;
  private top = 0;

  /** Reserves room for `bytes` up front (more is added on demand). */
  constructor(bytes: number) {
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    if (pages > MAX_PAGES) throw tooLarge(bytes);
    this.memory = sharedMemory(pages);
    this.module = kernelModule();
    this.kernels = instantiateKernels(this.module, this.memory);
  }

  /** Byte offset of `bytes` fresh zeroed bytes, 16-byte aligned (the kernels' SIMD pairs). */
  allocate(bytes: number): number {
    const offset = this.top;
    const end = offset + Math.ceil(bytes / 16) * 16;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) throw tooLarge(end);
      this.memory.grow(pages);
    }
    this.top = end;
    return offset;
  }

  // Each view is made after allocate(), which may grow the memory: a buffer read before would be the shorter one.
  float64(length: number): Float64Array {
    const offset = this.allocate(length * 8);
    return new Float64Array(this.memory.buffer, offset, length);
  }

  int32(length: number): Int32Array {
    const offset = this.allocate(length * 4);
    return new Int32Array(this.memory.buffer, offset, length);
  }

  uint8(length: number): Uint8Array {
    const offset = this.allocate(length);
    return new Uint8Array(this.memory.buffer, offset, length);
  }
}

function tooLarge(bytes: number) {
  return invalidParameter(
    'X',
    `needs ${Math.ceil(bytes / 2 ** 20)} MiB of training memory (one byte per cell plus gradients and histograms); the limit is 4 GiB per fit`,
  );
}
