import { invalidParameter, KilnError } from '../../core/index.js';
import type { EnqueueOptions, JobInfo } from './queue.js';

const QUEUE_NAME = /^[A-Za-z0-9._-]{1,200}$/;
const JOB_NAME = /^[A-Za-z0-9._:-]{1,200}$/;
const JOB_ID = /^[A-Za-z0-9._-]{1,200}$/;

const DEFAULT_ATTEMPTS = 3;
/** Most attempts a job may be given. */
export const MAX_ATTEMPTS = 100;
const DEFAULT_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 2_147_483_647;
const MAX_DELAY_MS = 365 * 24 * 3600 * 1000;
const MAX_CONCURRENCY = 1000;

/** Serialised job data above this size is refused: jobs carry references (dataset ids), not datasets. */
export const MAX_DATA_BYTES = 1024 * 1024;

/** Results above this size are refused: large outputs belong in the artifact store, referenced by URI. */
export const MAX_RESULT_BYTES = 16 * 1024 * 1024;

/** An enqueue request after validation, identical for every backend. */
export interface CheckedEnqueue {
  queue: string;
  name: string;
  /** `data` as JSON text. */
  dataJson: string;
  jobId?: string;
  attempts: number;
  backoffMs: number;
  delayMs: number;
}

/** Throws INVALID_PARAMETER_VALUE unless `queue` is a usable queue name. */
export function checkQueueName(queue: unknown): string {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) {
    throw invalidParameter('queue', 'must be 1-200 characters of letters, digits, dot, underscore or dash', queue);
  }
  return queue;
}

/** True when `id` could name a job; ids of any other shape cannot exist, so lookups skip the backend. */
export function isPossibleJobId(id: unknown): id is string {
  return typeof id === 'string' && JOB_ID.test(id) && `${Number.parseInt(id, 10)}` !== id;
}

function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(field, `must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * `value` as JSON text; INVALID_PARAMETER_VALUE naming `field` when it has no JSON form (undefined,
 * a function, a BigInt, a cycle) or its text exceeds `maxBytes`.
 */
export function toJson(field: string, value: unknown, maxBytes = MAX_DATA_BYTES): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw invalidParameter(field, `must be JSON-serialisable (${err instanceof Error ? err.message : String(err)})`);
  }
  if (text === undefined) throw invalidParameter(field, `must be JSON-serialisable (got ${typeof value})`);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw invalidParameter(field, `is ${bytes} bytes as JSON; the limit is ${maxBytes}`);
  return text;
}

/** Validates everything `enqueue` receives, applying the documented defaults. */
export function checkEnqueue(
  queue: unknown,
  name: unknown,
  data: unknown,
  options: EnqueueOptions = {},
): CheckedEnqueue {
  const checked: CheckedEnqueue = {
    queue: checkQueueName(queue),
    name: '',
    dataJson: '',
    attempts: checkInteger('attempts', options.attempts ?? DEFAULT_ATTEMPTS, 1, MAX_ATTEMPTS),
    backoffMs: checkInteger('backoffMs', options.backoffMs ?? DEFAULT_BACKOFF_MS, 0, MAX_BACKOFF_MS),
    delayMs: checkInteger('delayMs', options.delayMs ?? 0, 0, MAX_DELAY_MS),
  };
  if (typeof name !== 'string' || !JOB_NAME.test(name)) {
    throw invalidParameter('name', 'must be 1-200 characters of letters, digits, dot, underscore, colon or dash', name);
  }
  checked.name = name;
  if (options.jobId !== undefined) {
    if (!isPossibleJobId(options.jobId)) {
      throw invalidParameter(
        'jobId',
        'must be 1-200 characters of letters, digits, dot, underscore or dash, and not an integer',
        options.jobId,
      );
    }
    checked.jobId = options.jobId;
  }
  checked.dataJson = toJson('data', data);
  return checked;
}

/** Validates the `concurrency` option of `process`. */
export function checkConcurrency(concurrency: unknown = 1): number {
  return checkInteger('concurrency', concurrency, 1, MAX_CONCURRENCY);
}

/** Validates a timeout in milliseconds. */
export function checkTimeout(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidParameter(field, 'must be a finite number of milliseconds, 0 or more', value);
  }
  return value;
}

/** Validates what a processor reports through `updateProgress` and returns it as JSON text. */
export function progressJson(progress: unknown): string {
  const isNumber = typeof progress === 'number' && Number.isFinite(progress);
  const isObject = typeof progress === 'object' && progress !== null && !Array.isArray(progress);
  if (!isNumber && !isObject) throw invalidParameter('progress', 'must be a finite number or a plain object');
  return toJson('progress', progress, 64 * 1024);
}

/** The message a failed attempt records: the error's message, or the thrown value as text. */
export function failureMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** True once a job can no longer change: `waitFor` resolves on these. */
export function isFinished(job: JobInfo): boolean {
  return job.state === 'completed' || job.state === 'failed';
}

/** The error `waitFor` throws for an id its queue does not hold. */
export function unknownJob(queue: string, id: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Job '${id}' does not exist in queue '${queue}'`, { queue, id });
}
