import assert from 'node:assert/strict';
import type { KilnApp } from '../../src/server/index.js';

/** One answer of the MLflow API as the client sees it. */
export interface WireAnswer {
  status: number;
  body: string;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests index freely into JSON answers
  json(): any;
}

/** Asserts a 200 JSON answer, as the client requires of every `/api/2.0` call. */
export function ok(res: WireAnswer): void {
  assert.equal(res.status, 200, res.body);
  assert.match(res.contentType, /^application\/json/);
}

/** Asserts the `{}` 200 answer of a write endpoint. */
export function okEmpty(res: WireAnswer): void {
  ok(res);
  assert.deepEqual(res.json(), {});
}

/** How a request is sent: the prefix, and a raw body text instead of JSON-encoding `payload`. */
export interface SendOptions {
  prefix?: string;
  raw?: string;
  contentType?: string;
}

/**
 * Sends requests the way the stock MLflow Python client does (mlflow-client-wire.md): GET fields
 * as a query string with repeated keys for lists, other methods as a JSON body with
 * `Content-Type: application/json`, under `/api/2.0/mlflow` unless told otherwise.
 *
 * @example
 * const mlflow = mlflowWire(app);
 * const res = await mlflow('GET', '/experiments/get-by-name', { experiment_name: 'demo' });
 */
export function mlflowWire(app: KilnApp) {
  return async function send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    fields: Record<string, unknown> = {},
    options: SendOptions = {},
  ): Promise<WireAnswer> {
    const prefix = options.prefix ?? '/api/2.0/mlflow';
    let url = `${prefix}${path}`;
    let payload: string | undefined;
    if (method === 'GET') {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(fields)) {
        for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
      }
      if (query.size > 0) url += `?${query}`;
    } else {
      payload = options.raw ?? JSON.stringify(fields);
    }
    const res = await app.inject({
      method,
      url,
      ...(payload === undefined
        ? {}
        : { payload, headers: { 'content-type': options.contentType ?? 'application/json' } }),
    });
    return {
      status: res.statusCode,
      body: res.body,
      contentType: String(res.headers['content-type'] ?? ''),
      json: () => JSON.parse(res.body),
    };
  };
}

/**
 * The shape of a JSON value: objects map each key to the shape of its value, lists become the
 * shape of their first item in a one-element list, scalars their `typeof`. Comparing shapes with
 * `deepEqual` checks exact field names and types (strings vs numbers) while ignoring values.
 *
 * @example
 * shapeOf({ experiment_id: '1', creation_time: 5, tags: [{ key: 'a', value: 'b' }] });
 * // { experiment_id: 'string', creation_time: 'number', tags: [{ key: 'string', value: 'string' }] }
 */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shapeOf(item)]));
  }
  return typeof value;
}

/** The shape of a tag list. */
export const TAGS = [{ key: 'string', value: 'string' }];

/** An experiment as MLflow sends it; `tags` only when it has some. */
export const EXPERIMENT = {
  experiment_id: 'string',
  name: 'string',
  artifact_location: 'string',
  lifecycle_stage: 'string',
  last_update_time: 'number',
  creation_time: 'number',
};

/** A run's info before it ends (no `end_time`). */
export const RUN_INFO = {
  run_uuid: 'string',
  experiment_id: 'string',
  run_name: 'string',
  user_id: 'string',
  status: 'string',
  start_time: 'number',
  artifact_uri: 'string',
  lifecycle_stage: 'string',
  run_id: 'string',
};

/** A metric point; `value` is a number unless it is NaN or ±Infinity. */
export const METRIC = { key: 'string', value: 'number', timestamp: 'number', step: 'number' };

/**
 * A model version as in the capture, plus `user_id`, which Kiln fills with the registering actor
 * (MLflow's proto has the field; its SQL store leaves it unset).
 */
export const MODEL_VERSION = {
  name: 'string',
  version: 'string',
  creation_timestamp: 'number',
  last_updated_timestamp: 'number',
  user_id: 'string',
  current_stage: 'string',
  description: 'string',
  source: 'string',
  run_id: 'string',
  status: 'string',
  run_link: 'string',
};
