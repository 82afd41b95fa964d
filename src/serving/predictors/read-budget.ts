import type { Readable } from 'node:stream';
import { KilnError } from '../../core/index.js';

/** How much a model loader reads for one model before it gives up. */
export interface ModelReadLimits {
  /** Most bytes of all the model's files together; default 1 GiB. */
  maxBytes?: number;
  /** Most files in a model directory; default 1000. */
  maxFiles?: number;
}

export const DEFAULT_MAX_MODEL_BYTES = 1024 ** 3;
export const DEFAULT_MAX_MODEL_FILES = 1000;

/**
 * Counts the files and bytes a loader reads for one model and stops it, with a 400 naming the
 * field, when a directory or file is larger than a model should be: a wrong path (a home
 * directory, a dataset) fails fast instead of filling memory.
 *
 * @example
 * const budget = new ReadBudget('model', limits);
 * files.set(name, await budget.readStream(name, stream, size));
 */
export class ReadBudget {
  private files = 0;
  bytes = 0;
  private readonly maxBytes: number;
  private readonly maxFiles: number;

  constructor(
    private readonly field: string,
    limits: ModelReadLimits = {},
  ) {
    this.maxBytes = limits.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
    this.maxFiles = limits.maxFiles ?? DEFAULT_MAX_MODEL_FILES;
  }

  /** Counts one more file of `size` bytes (when known up front), or throws. */
  admit(file: string, size = 0): void {
    this.files++;
    if (this.files > this.maxFiles) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `${this.field}: holds more than ${this.maxFiles} files; point it at the model's own file or directory`,
        { field: this.field, file },
      );
    }
    this.grow(file, size);
  }

  private grow(file: string, size: number): void {
    if (this.bytes + size > this.maxBytes) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `${this.field}: ${file}: the model's files exceed ${this.maxBytes} bytes, the most a model may have`,
        { field: this.field, file, limit: this.maxBytes },
      );
    }
  }

  /** Reads a stream to its end within the budget (the size stated up front may be stale). */
  async readStream(file: string, stream: Readable): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of stream) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        this.grow(file, size);
        chunks.push(buffer);
      }
    } finally {
      stream.destroy();
    }
    this.bytes += size;
    return new Uint8Array(Buffer.concat(chunks, size));
  }
}
