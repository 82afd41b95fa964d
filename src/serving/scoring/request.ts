import { invalidParameter } from '../../core/index.js';
import { DATASET_NAME_PATTERN, MAX_CHUNK_ROWS } from '../../data/index.js';
import { type DatasetRef, parseDatasetRef } from '../../training/index.js';
import { parseModelRef } from '../predictors/index.js';
import type { ModelRef } from '../types.js';

/**
 * What a batch-scoring job is asked to do: apply a registered model to a dataset version and
 * record the scored rows as the next version of `out`.
 *
 * @example
 * const request: ScoringRequest = { model: 'models:/flights@champion', data: 'flights@4', out: 'scored', chunkRows: 100_000 };
 */
export interface ScoringRequest {
  /** `models:/name/3`, or `models:/name@alias` (resolved to its version when the job is submitted). */
  model: string;
  /** `name@version`, or `name` for the latest version when submitted. */
  data: string;
  /** Dataset the scored rows become the next version of; created when missing. */
  out: string;
  /** Rows scored per chunk; default {@link DEFAULT_CHUNK_ROWS}. */
  chunkRows?: number;
}

/** Rows per chunk when a request names none: a few MB of typed arrays, a fraction of a second of predicting. */
export const DEFAULT_CHUNK_ROWS = 50_000;

/** A request after checking: references parsed, the chunk size filled in. */
export interface CheckedScoringRequest {
  request: ScoringRequest & { chunkRows: number };
  model: Exclude<ModelRef, { kind: 'path' }>;
  data: DatasetRef;
}

const KEYS = new Set(['model', 'data', 'out', 'chunkRows']);

/**
 * Checks a request that may come from JSON: each problem is a 400 naming its field. A model must
 * be a registry reference; a file path is refused, since the job runs on the server.
 *
 * @example
 * checkScoringRequest({ model: 'models:/flights/3', data: 'flights', out: 'scored' }).request.chunkRows; // 50000
 */
export function checkScoringRequest(raw: unknown): CheckedScoringRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter('request', 'must be an object with model, data and out');
  }
  const body = raw as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!KEYS.has(key))
      throw invalidParameter(key, 'is not a scoring request field; fields are model, data, out, chunkRows');
  }
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw invalidParameter(
      'model',
      "must be a registered model as 'models:/name/version' or 'models:/name@alias'",
      body.model,
    );
  }
  const model = parseModelRef(body.model, 'model');
  if (model.kind === 'path') {
    throw invalidParameter(
      'model',
      "must be a registered model as 'models:/name/version' or 'models:/name@alias'; scoring jobs do not read files",
      body.model,
    );
  }
  const data = parseDatasetRef(body.data, 'data');
  if (typeof body.out !== 'string' || !DATASET_NAME_PATTERN.test(body.out)) {
    throw invalidParameter('out', `must be a dataset name matching ${DATASET_NAME_PATTERN}`, body.out);
  }
  const chunkRows = body.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (
    !(typeof chunkRows === 'number' && Number.isInteger(chunkRows) && chunkRows >= 1 && chunkRows <= MAX_CHUNK_ROWS)
  ) {
    throw invalidParameter('chunkRows', `must be a whole number from 1 to ${MAX_CHUNK_ROWS}`, chunkRows);
  }
  return { request: { model: body.model, data: body.data as string, out: body.out, chunkRows }, model, data };
}
