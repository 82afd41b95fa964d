import { KilnError } from '../../core/index.js';
import type { CategoricalColumn, Column, Frame } from '../../learn/index.js';
import type { BatchingOptions, PredictorOutput } from '../types.js';

/**
 * The frames of several requests as one: float and datetime values end to end, categorical codes
 * remapped onto one dictionary (each request's frame has its own, built from its values). Columns
 * are matched by name, in the order of the first frame.
 *
 * @example
 * concatFrames([oneRow, twoRows]).rows; // 3
 */
export function concatFrames(frames: readonly Frame[]): Frame {
  const first = frames[0];
  if (first === undefined) return { rows: 0, columns: [] };
  if (frames.length === 1) return first;
  let rows = 0;
  for (const frame of frames) rows += frame.rows;
  const columns = first.columns.map((col, j): Column => {
    const parts = frames.map((frame) => columnOf(frame, col.name, j));
    if (col.kind === 'categorical') return concatCategorical(col.name, parts as CategoricalColumn[], rows);
    const values = new Float64Array(rows);
    let offset = 0;
    for (const part of parts) {
      if (part.kind === 'categorical') throw new Error(`column '${col.name}' is ${col.kind} in one frame only`);
      values.set(part.values, offset);
      offset += part.values.length;
    }
    return { kind: col.kind, name: col.name, values };
  });
  return { rows, columns };
}

function columnOf(frame: Frame, name: string, hint: number): Column {
  const atHint = frame.columns[hint];
  if (atHint?.name === name) return atHint;
  const found = frame.columns.find((c) => c.name === name);
  if (found === undefined) throw new Error(`frame has no column '${name}' to batch with the others`);
  return found;
}

function concatCategorical(name: string, parts: readonly CategoricalColumn[], rows: number): CategoricalColumn {
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(rows);
  let offset = 0;
  for (const part of parts) {
    if (part.kind !== 'categorical') throw new Error(`column '${name}' is categorical in one frame only`);
    const remap = new Int32Array(part.dictionary.length);
    for (let c = 0; c < part.dictionary.length; c++) {
      const label = part.dictionary[c] as string;
      let code = index.get(label);
      if (code === undefined) {
        code = dictionary.length;
        index.set(label, code);
        dictionary.push(label);
      }
      remap[c] = code;
    }
    for (let i = 0; i < part.codes.length; i++) {
      const code = part.codes[i] as number;
      codes[offset + i] = code < 0 ? -1 : (remap[code] as number);
    }
    offset += part.codes.length;
  }
  return { kind: 'categorical', name, codes, dictionary };
}

/**
 * Rows `offset` to `offset + rows` of a predictor's output over a batch: the answer of one request
 * in it. Typed arrays are views, not copies.
 */
export function sliceOutput(output: PredictorOutput, offset: number, rows: number, total: number): PredictorOutput {
  const prediction =
    output.prediction instanceof Float64Array
      ? output.prediction.subarray(offset, offset + rows)
      : output.prediction.slice(offset, offset + rows);
  if (output.probabilities === undefined) return { prediction };
  const k = total === 0 ? 0 : output.probabilities.length / total;
  return { prediction, probabilities: output.probabilities.subarray(offset * k, (offset + rows) * k) };
}

interface Waiting {
  frame: Frame;
  /** `performance.now()` after which the request has been answered 504 and must not run. */
  deadline: number;
  resolve(output: PredictorOutput): void;
  reject(err: unknown): void;
}

/** What a {@link MicroBatcher} reports after each predict call. */
export type BatchObserver = (rows: number, requests: number) => void;

/**
 * Adaptive micro-batching for one loaded model: concurrent requests are queued and answered by
 * one predict call over their concatenated frames, then the output is split back. A batch fires
 * when it holds `maxBatchSize` rows, when its oldest request has waited `maxWaitMs`, or as soon as
 * the previous batch returns (so under load batches grow by themselves, and a lone request never
 * waits longer than `maxWaitMs`). One batch runs at a time. A request with more rows than
 * `maxBatchSize` runs alone; requests are never split. A request whose deadline passed while it
 * waited is dropped from the batch (its caller already answered 504). An error in the predict call
 * fails every request of that batch.
 *
 * @example
 * const batcher = new MicroBatcher((frame) => predictor.predict(frame), { maxBatchSize: 64, maxWaitMs: 2 });
 * const output = await batcher.submit(frame, performance.now() + 10_000);
 */
export class MicroBatcher {
  #options: BatchingOptions;
  readonly #queue: Waiting[] = [];
  #queuedRows = 0;
  #running = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (frame: Frame) => Promise<PredictorOutput>,
    options: BatchingOptions,
    private readonly observe?: BatchObserver,
  ) {
    this.#options = options;
  }

  /** New limits for the batches formed from now on. */
  configure(options: BatchingOptions): void {
    this.#options = options;
    if (this.#queue.length > 0 && this.#running === 0) this.#fire();
  }

  /** Requests waiting for a batch. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Requests in the batch being predicted now. */
  get inFlight(): number {
    return this.#running;
  }

  /** Queues `frame`; resolves with its rows of the batch's output. */
  submit(frame: Frame, deadline: number): Promise<PredictorOutput> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ frame, deadline, resolve, reject });
      this.#queuedRows += frame.rows;
      if (this.#running > 0) return;
      if (this.#queuedRows >= this.#options.maxBatchSize) this.#fire();
      else this.#timer ??= setTimeout(() => this.#fire(), this.#options.maxWaitMs);
    });
  }

  /** Runs everything queued now, ignoring the wait (when batching is turned off or the slot drains). */
  flush(): void {
    if (this.#queue.length > 0 && this.#running === 0) this.#fire();
  }

  #fire(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running > 0) return;
    const now = performance.now();
    const batch: Waiting[] = [];
    let rows = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Waiting;
      if (next.deadline <= now) {
        this.#queue.shift();
        this.#queuedRows -= next.frame.rows;
        next.reject(new KilnError('DEADLINE_EXCEEDED', 'the request timed out waiting for a batch'));
        continue;
      }
      if (batch.length > 0 && rows + next.frame.rows > this.#options.maxBatchSize) break;
      this.#queue.shift();
      this.#queuedRows -= next.frame.rows;
      batch.push(next);
      rows += next.frame.rows;
    }
    if (batch.length === 0) return;
    this.#running = batch.length;
    this.observe?.(rows, batch.length);
    let work: Promise<PredictorOutput>;
    try {
      work = this.run(concatFrames(batch.map((w) => w.frame)));
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      (output) => {
        let offset = 0;
        for (const waiting of batch) {
          waiting.resolve(batch.length === 1 ? output : sliceOutput(output, offset, waiting.frame.rows, rows));
          offset += waiting.frame.rows;
        }
        this.#done();
      },
      (err: unknown) => {
        for (const waiting of batch) waiting.reject(err);
        this.#done();
      },
    );
  }

  #done(): void {
    this.#running = 0;
    // Whoever queued during the batch has waited as long as a predict call takes: go now.
    if (this.#queue.length > 0) this.#fire();
  }
}
